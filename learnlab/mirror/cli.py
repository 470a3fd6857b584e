"""``learnlab mirror`` (refresh, ``--watch``, ``status``) and ``learnlab bench mirror``: thin commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

mirror_app = typer.Typer(help="Refresh the DuckDB mirror of the operational database, or show its status.",
                         invoke_without_command=True, add_completion=False)
bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True, add_completion=False)

DUCKDB_HELP = "The DuckDB file (default: LEARNLAB_DUCKDB, else analytics.duckdb beside the database)."


def _sources(source: Optional[List[str]]):
    """``--source name=file:./a.db`` (repeatable) -> {name: url}; none: the configured database."""
    from learnlab.errors import ConfigError

    if not source:
        return None
    out = {}
    for item in source:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise ConfigError(f"--source {item!r}: expected name=file:./path.db")
        out[name.strip()] = url.strip()
    return out


def _options(safety_window: Optional[float], privacy: Optional[str]):
    from datetime import timedelta

    from learnlab.mirror.plan import DEFAULT_PRIVACY, MirrorOptions, parse_rules

    overrides = {}
    if safety_window is not None:
        overrides["safety_window"] = timedelta(seconds=safety_window)
    options = MirrorOptions.from_env(**overrides)
    if privacy:
        options = options.with_privacy(**{**DEFAULT_PRIVACY, **parse_rules(privacy, "--privacy")})
    return options


def _progress(quiet: bool):
    """A rich progress bar over the tables, when on a terminal and not --quiet."""
    from contextlib import nullcontext

    if quiet or not sys.stderr.isatty():
        return nullcontext(None)
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True) as p:
            task = p.add_task("mirror", total=None)

            def update(event):
                p.update(task, total=event.total, description=f"{event.source}/{event.table}",
                         completed=event.index + (event.phase == "done"))
            yield update
    return bar()


def _print_report(report, quiet: bool) -> None:
    if quiet:
        return
    typer.echo(report.summary())
    for name, t in report.tables.items():
        if t.changed or t.late or t.recovered or t.mode not in ("incremental", "diff"):
            extra = f", {t.late} late" if t.late else ""
            extra += f", {t.recovered} recovered" if t.recovered else ""
            extra += f", {t.quality} quality issues" if t.quality else ""
            typer.echo(f"  {name}: {t.mode}, +{t.inserted} ~{t.updated} -{t.deleted}{extra} ({t.rows} rows, "
                       f"{t.seconds:.2f}s)")
    for line in report.drift:
        typer.echo(f"  schema: {line}")


@mirror_app.callback()
def mirror(
    ctx: typer.Context,
    duckdb: Optional[Path] = typer.Option(None, "--duckdb", help=DUCKDB_HELP),
    watch: bool = typer.Option(False, "--watch", help="Refresh on the sync interval until Ctrl-C."),
    interval: Optional[float] = typer.Option(None, "--interval", help="Seconds between refreshes with --watch "
                                             "(default: LEARNLAB_SYNC_INTERVAL, 60)."),
    full: bool = typer.Option(False, "--full", help="Copy every table again instead of what changed."),
    source: Optional[List[str]] = typer.Option(None, "--source", help="name=file:./db (repeatable): "
                                               "mirror several databases, rows tagged with _source."),
    safety_window: Optional[float] = typer.Option(None, "--safety-window", help="Seconds re-read before the "
                                                  "watermark for late commits (LEARNLAB_MIRROR_SAFETY_WINDOW, 15)."),
    privacy: Optional[str] = typer.Option(None, "--privacy", help="Rules over the defaults, e.g. "
                                          "'User.name=keep,Session.id=drop,Password=include' (LEARNLAB_MIRROR_PRIVACY)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no report."),
    prepare_next: bool = typer.Option(True, "--prepare-next/--no-prepare-next",
                                      help="Once the refresh is published, replay it onto the file the next "
                                           "refresh writes, so that one publishes sooner (--watch does it "
                                           "between ticks)."),
) -> None:
    """Refresh the DuckDB mirror from the configured database (``status`` shows what it holds)."""
    if ctx.invoked_subcommand is not None:
        return
    from learnlab.mirror import refresh

    sources, options = _sources(source), _options(safety_window, privacy)
    if watch:
        return _watch(sources, duckdb, interval, options, quiet)
    with _progress(quiet) as progress:
        # This process opens the database only through the mirror: reading it here is safe.
        report = refresh(sources, duckdb, progress, options=options, full=full, in_process=True)
    _print_report(report, quiet)
    if prepare_next:
        _prepare_next(report.duckdb_path, quiet)


def _prepare_next(path: Path, quiet: bool) -> None:
    """The refresh is published (readers see it); this only gives the next refresh a head start."""
    import time

    from learnlab.mirror.watch import prepare_next

    t0 = time.perf_counter()
    replayed = prepare_next(path)
    if replayed is not None and not quiet:
        typer.echo(f"  next refresh prepared: {replayed} rows replayed onto the other file "
                   f"({time.perf_counter() - t0:.2f}s)")


def _watch(sources, duckdb, interval, options, quiet: bool) -> None:
    import signal
    import threading

    from learnlab.mirror.watch import watch

    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        typer.echo("stopping after the refresh in progress (Ctrl-C again to abort it)", err=True)

    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        n = watch(sources, duckdb, interval=interval, stop=stop, options=options, in_process=True,
                  on_report=lambda r: _print_report(r, quiet),
                  on_error=lambda e: typer.secho(f"refresh failed (retrying next interval): {e}", err=True, fg="red"))
    finally:
        signal.signal(signal.SIGINT, previous)
    if not quiet:
        typer.echo(f"stopped after {n} refreshes")


@mirror_app.command("status")
def status_cmd(
    duckdb: Optional[Path] = typer.Option(None, "--duckdb", help=DUCKDB_HELP),
    last: int = typer.Option(5, "--last", help="How many recent refreshes to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Per table: rows, watermark, last refresh, its duration and rows changed; recent refreshes and pulls."""
    from learnlab.mirror.status import status

    s = status(duckdb, last=last)
    if as_json:
        import dataclasses
        import json

        typer.echo(json.dumps(dataclasses.asdict(s), default=str, indent=2))
        return
    typer.echo(f"{s.path} -> {s.generation.name if s.generation else '?'} ({s.quality} quality issues)")
    several = len({t.source for t in s.tables}) > 1
    rows = [("table", "mode", "rows", "watermark", "refreshed", "secs", "changed (+ ~ -)", "late", "quality")]
    for t in s.tables:
        rows.append((f"{t.source}/{t.table}" if several else t.table, t.mode, str(t.rows), _when(t.watermark),
                     _when(t.refreshed_at), f"{t.seconds:.3f}", f"+{t.inserted} ~{t.updated} -{t.deleted}",
                     str(t.late), str(t.quality)))
    _columns(rows)
    typer.echo("")
    rows = [("refresh", "source", "started", "secs", "pulled", "pull secs", "changed (+ ~ -)", "drift")]
    for r in s.refreshes:
        rows.append((r.refresh_id[-8:], r.source, _when(r.started_at), f"{r.seconds:.2f}",
                     "-" if r.pull_bytes is None else f"{r.pull_bytes} B",
                     "-" if r.pull_seconds is None else f"{r.pull_seconds:.3f}",
                     f"+{r.inserted} ~{r.updated} -{r.deleted}", (r.drift or "").replace("\n", "; ")))
    _columns(rows)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _columns(rows) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


@bench_app.command("mirror")
def bench_mirror(
    rows: int = typer.Option(200_000, "--rows", min=100, help="AIUsage rows in the generated source (2000000 for "
                                                               "the full-size run)."),
    changed: float = typer.Option(0.01, "--changed", min=0.0001, max=0.5,
                                  help="Fraction of rows updated before the incremental refresh (a twentieth of it "
                                       "is then deleted and inserted for the second scenario, and the oldest twentieth "
                                       "deleted for the third)."),
    folder: Optional[Path] = typer.Option(None, "--dir", help="Where to build the files (default: a temp folder)."),
    contenders: str = typer.Option("mirror,scanner,dlt,dlt-connectorx,pushdown", "--contenders",
                                   help="Comma-separated: mirror, scanner, dlt (pyarrow backend), dlt-connectorx, "
                                        "pushdown (the issue's reference incremental, as a floor; needs mirror)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the results as JSON here."),
    repeat: int = typer.Option(3, "--repeat", min=1, max=15,
                               help="Runs of each contender's incremental refresh, each from the same state "
                                    "(the median is reported)."),
) -> None:
    """Benchmark the mirror against DuckDB's sqlite scanner and dlt on a generated AIUsage table."""
    from learnlab.mirror.bench import check_contenders, format_results, run_bench

    try:
        chosen = check_contenders([c.strip() for c in contenders.split(",") if c.strip()])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--contenders'") from None
    results = run_bench(rows=rows, changed=changed, folder=folder, contenders=chosen, json_path=json_out,
                        log=lambda line: typer.echo(line, err=True), repeat=repeat)
    typer.echo(format_results(results))
