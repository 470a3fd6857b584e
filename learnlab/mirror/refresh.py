"""``refresh``: bring the DuckDB mirror to the sources' current state, or leave it untouched.

One refresh = one DuckDB transaction holding every table of every source and their
watermarks, read from each source in one read transaction, written to a generation no
reader has open, and published by an atomic rename once committed (see ``target``).

>>> report = refresh()                                   # doctest: +SKIP
>>> report["AIUsage"].inserted, report.summary()         # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Union

from learnlab.config import Settings
from learnlab.db.encoding import new_ulid, utcnow
from learnlab.db.introspect import quote_identifier as q
from learnlab.errors import ConfigError, LearnlabError, MirrorError
from learnlab.mirror import apply, book, bulk, catchup, deletes, drift, quality
from learnlab.mirror.apply import Context
from learnlab.mirror.convert import is_invalid_text, sql_text
from learnlab.mirror.plan import MirrorOptions, make_plans
from learnlab.mirror.privacy import fingerprint, load_key
from learnlab.mirror.report import Progress, ProgressEvent, RefreshReport, SourceReport, TableReport
from learnlab.mirror.source import DbapiSource, SchemaMoved, Source, SqliteSource, Tracer, load_scanner
from learnlab.mirror.state import TableState, forget_state, load_states, write_states
from learnlab.mirror.target import DuckDBTarget
from learnlab.mirror.vectors import guess_dim

DUCKDB_VARIABLE = "LEARNLAB_DUCKDB"
DEFAULT_NAME = "analytics.duckdb"
KEEP_REFRESHES = 1000

SourceLike = Union[Settings, "Database", str, Path]  # noqa: F821 (Database imported lazily)
SourcesArg = Union[SourceLike, Iterable[SourceLike], Mapping[str, SourceLike], None]


# -- what to mirror, and where ----------------------------------------------------------------
def _settings_path(thing: Any) -> Path:
    if _is_database(thing):
        return thing.path
    if isinstance(thing, Settings):
        return thing.database_path
    return Path(thing)


def resolve_sources(settings_or_db: SourcesArg = None) -> list[tuple[str, Any]]:
    """``[(name, Settings | Database | Path)]``; names tag rows (``_source``), default: the file's stem."""
    if settings_or_db is None:
        items: list[tuple[str | None, Any]] = [(None, Settings.from_env())]
    elif isinstance(settings_or_db, Mapping):
        items = list(settings_or_db.items())
    elif isinstance(settings_or_db, (Settings, str, Path)) or _is_database(settings_or_db):
        items = [(None, settings_or_db)]
    else:
        items = [(x if isinstance(x, tuple) else (None, x)) for x in settings_or_db]
    out: list[tuple[str, Any]] = []
    for name, thing in items:
        if isinstance(thing, str):
            thing = Settings(database_url=thing if thing.startswith("file:") else f"file:{thing}").validated()
        path = _settings_path(thing)
        if str(path) == ":memory:":
            raise ConfigError("an in-memory database cannot be mirrored; point DATABASE_URL at a file")
        out.append((name or path.stem, thing))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"two sources are named {sorted({n for n in names if names.count(n) > 1})}; "
                          "name them: --source name=file:./a.db")
    return out


def default_duckdb_path(sources: list[tuple[str, Any]] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """``LEARNLAB_DUCKDB``, else ``analytics.duckdb`` beside the (first) operational database."""
    env = os.environ if env is None else env
    if env.get(DUCKDB_VARIABLE):
        return Path(env[DUCKDB_VARIABLE]).expanduser()
    sources = sources if sources is not None else resolve_sources(None)
    return _settings_path(sources[0][1]).expanduser().absolute().with_name(DEFAULT_NAME)


@contextmanager
def open_sources(specs: list[tuple[str, Any]], options: MirrorOptions, tracer: Tracer | None) -> Iterator[list[Source]]:
    """Readers for each source; Turso replicas are pulled first (the report keeps what it brought)."""
    with ExitStack() as stack:
        out: list[Source] = []
        for name, thing in specs:
            if _reads_sqlite(thing):
                out.append(SqliteSource(name, _settings_path(thing), busy_timeout_ms=options.busy_timeout_ms,
                                        tracer=tracer))
                out[-1].prepare_meanwhile()
                stack.callback(out[-1].settle)
                continue
            from learnlab.db.engine import connect

            db = thing if _is_database(thing) else stack.enter_context(connect(thing))
            pull = db.pull()
            if db.replica is not None:
                src = DbapiSource(name, db.path, db.replica.raw, lock=db.replica.lock, tracer=tracer,
                                  batch_rows=options.batch_rows)
            else:
                raw = stack.enter_context(_raw_connection(db))
                src = DbapiSource(name, db.path, raw, tracer=tracer, batch_rows=options.batch_rows)
            src.pull_report = pull
            out.append(src)
        yield out


@contextmanager
def _raw_connection(db: Any) -> Iterator[Any]:
    fairy = db.engine.raw_connection()
    try:
        yield fairy.driver_connection
    finally:
        fairy.close()


# -- the refresh --------------------------------------------------------------------------------
def _is_database(thing: Any) -> bool:
    """Without importing the engine (and SQLAlchemy) when no Database was ever created."""
    import sys

    engine = sys.modules.get("learnlab.db.engine")
    return engine is not None and isinstance(thing, engine.Database)


def _reads_sqlite(thing: Any) -> bool:
    settings = getattr(thing, "settings", thing)
    return not isinstance(settings, Settings) or settings.mode == "sqlite" or (
        settings.mode == "libsql" and not settings.turso_url)


def refresh(settings_or_db: SourcesArg = None, duckdb_path: str | Path | None = None, progress: Progress | None = None,
            *, options: MirrorOptions | None = None, full: bool = False, tracer: Tracer | None = None,
            wait: float = 300.0, in_process: bool | None = None) -> RefreshReport:
    """Refresh the mirror from one or several operational databases; returns what changed.

    ``settings_or_db``: ``Settings``, an open ``Database``, a file path, a list of those, or a
    ``{name: ...}`` mapping (several sources, rows tagged with ``_source``); default: the
    environment's database. ``full=True`` re-copies every table. ``progress`` receives a
    ``ProgressEvent`` before and after each table. ``tracer(sql, params)`` sees every statement.
    ``in_process``: SQLite sources are read from a child process unless this is True (see
    ``worker``: only safe when this process holds no other connection to the source).
    """
    options = options or MirrorOptions.from_env()
    specs = resolve_sources(settings_or_db)
    target = DuckDBTarget(Path(duckdb_path) if duckdb_path else default_duckdb_path(specs))
    sqlite_specs = [(n, x) for n, x in specs if _reads_sqlite(x)]
    # An open Turso replica cannot move to another process: with one, everything stays here.
    if in_process is None:
        in_process = not sqlite_specs or any(_is_database(x) and not _reads_sqlite(x) for _, x in specs)
    if not in_process:
        from learnlab.mirror import worker

        portable = [(n, x.settings if _is_database(x) else x) for n, x in specs]
        return worker.run(dict(settings_or_db=portable, duckdb_path=target.path, options=options, full=full,
                               wait=wait), progress, tracer)
    target.path.parent.mkdir(parents=True, exist_ok=True)
    key = load_key(target.path)
    t0 = time.perf_counter()
    validate = False
    for attempt in range(3):
        report = RefreshReport(new_ulid(), target.path, started_at=utcnow())
        try:
            with target.lock(wait), open_sources(specs, options, tracer) as sources:
                with target.writing() as writer:
                    _run(writer, sources, options, key, report, progress, full, tracer, t0, validate)
                    report.generation = writer.gen
            break
        except SchemaMoved:
            if attempt == 2:
                raise
        except catchup.CatchUpFailed as exc:
            if attempt == 2:
                raise
            target.discard(exc.generation)  # the next attempt starts from a copy of the published file
        except LearnlabError:
            raise
        except Exception as exc:
            import duckdb

            if is_invalid_text(exc) and not validate:
                validate = True  # some text is not UTF-8: once more, checking every value
                continue
            if isinstance(exc, (duckdb.Error, OSError)):
                raise MirrorError(f"refreshing {target.path} failed, the mirror is left at its previous refresh: "
                                  f"{type(exc).__name__}: {exc}") from exc
            raise
    report.seconds = time.perf_counter() - t0
    return report


def _run(writer: Any, sources: list[Source], options: MirrorOptions, key: bytes, report: RefreshReport,
         progress: Progress | None, full: bool, tracer: Tracer | None, t0: float, validate: bool) -> None:
    con = writer.con
    con.execute(f"SET memory_limit = {sql_text(options.memory_limit)}")
    sqlite_sources = [s for s in sources if isinstance(s, SqliteSource)]
    for s in sqlite_sources:
        s.prepared()
    if sqlite_sources:
        load_scanner(con)
    began: list[Source] = []
    try:
        con.execute("BEGIN")
        report.replayed = writer.catch_up()
        appended: dict[str, dict] = {}
        groups_touched: set[str] = set()
        validate = validate or bool(con.execute(
            "SELECT 1 FROM _mirror_meta WHERE key = 'validate_text' AND value = 'true'").fetchone())
        for source in sources:
            ctx = Context(con, source, options, key, fingerprint(key), report.refresh_id, utcnow(), tracer,
                          validate_text=validate, appended=appended,
                          groups_touched=groups_touched)
            states = load_states(con, source.name)
            copied = bulk.copy_tables(ctx, states, full, progress)  # before the snapshot: see bulk
            source.begin(con)
            began.append(source)
            ctx.now = source.snapshot_at
            report.sources.append(_sync_source(ctx, states, progress, full, copied))
        if validate:
            con.execute("DELETE FROM _mirror_meta WHERE key = 'validate_text'")
            con.execute("INSERT INTO _mirror_meta VALUES ('validate_text', 'true')")
        _log(con, report, time.perf_counter() - t0)
        catchup.finish(con, report.refresh_id, appended, groups_touched)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except Exception:
            pass
        raise
    finally:
        for source in began:
            source.end(con)
        for s in sqlite_sources:
            try:
                s.detach(con)
            except Exception:
                pass


def _sync_source(ctx: Context, states: dict[str, TableState], progress: Progress | None, full: bool,
                 copied: dict[str, tuple[TableReport, TableState, list]] | None = None) -> SourceReport:
    source = ctx.source
    t0 = time.perf_counter()
    out = SourceReport(source.name, source.path, snapshot_at=source.snapshot_at, pull=source.pull_report)
    # (the book's own columns: the state view would parse every state's JSON body for this)
    ctx.shared = frozenset(r[0] for r in ctx.run(
        f"SELECT DISTINCT table_name FROM {book.TABLE} WHERE kind = 'state' AND source <> ?", [source.name]).fetchall())
    plans, out.excluded = make_plans(source.schema(), ctx.options,
                                     {t: s.embedding_dim for t, s in states.items()})
    plans = [_with_dim(ctx, p) for p in plans]
    planned = {p.name for p in plans}
    for name in sorted(set(states) - planned):
        why = "excluded by a privacy rule" if name in out.excluded else "no longer in the source"
        out.drift.append(drift.dropped_table(name, why))
        _drop(ctx, name)
    copied = copied or {}

    def passes_from(plan: Any) -> TableState | None:
        """The state an incremental pass starts from (a bulk copy's, or the last refresh's), if any."""
        if plan.name in copied:
            return copied[plan.name][1]
        state = states.get(plan.name)
        same = state is not None and state.signature == plan.signature(ctx.key_fingerprint)
        return state if plan.mode == "incremental" and same and not full else None

    passes = {p.name: start for p in plans if (start := passes_from(p)) is not None}
    facts = apply.table_facts(ctx, [(p, passes[p.name]) for p in plans if p.name in passes])
    for i, plan in enumerate(plans):
        state = states.get(plan.name)
        if progress:
            progress(ProgressEvent(source.name, plan.name, i, len(plans), "start"))
        if state is None:
            if states:
                out.drift.append(drift.new_table(plan))
        elif state.signature != plan.signature(ctx.key_fingerprint):
            out.drift += drift.table_changes(plan, state) or [f"~ {plan.name}: hash key changed"]
        if plan.name in copied:
            copied_report, _, bad_rows = copied[plan.name]
            copied_report.quality += quality.record(ctx, plan, bad_rows)
            table = apply.incremental(ctx, plan, passes[plan.name], facts[plan.name], copied=copied_report)
        elif plan.name in passes:
            table = apply.incremental(ctx, plan, state, facts[plan.name])
        elif state is None:
            table = apply.load(ctx, plan, None, "full")
        elif full or state.signature != plan.signature(ctx.key_fingerprint):
            table = apply.load(ctx, plan, state, "reload")
        else:
            table = apply.diff(ctx, plan, state)
        out.tables[plan.name] = table
        if progress:
            progress(ProgressEvent(source.name, plan.name, i, len(plans), "done", table))
    apply.keep_windows(ctx)
    write_states(ctx.con, source.name, ctx.states)
    for line in out.drift:
        table = line.split()[2] if line.startswith(("+ table", "- table")) else line.split()[1].split(".")[0]
        ctx.run("INSERT INTO _mirror_drift VALUES (?, ?, ?, ?, ?, ?)",
                [ctx.refresh_id, source.name, table.rstrip(":"), line[0], line, ctx.now_naive])
    out.seconds = time.perf_counter() - t0
    return out


def _with_dim(ctx: Context, plan: Any) -> Any:
    """An embedding column's size, when no configuration or earlier refresh gave one: the most
    common BLOB length among the first rows (other sizes become quality rows)."""
    if not plan.embedding_columns or plan.embedding_dim:
        return plan
    col = q(plan.embedding_columns[0].name)
    rows = ctx.source.rows(ctx.con, f"SELECT n, count(*) FROM (SELECT length({col}) AS n FROM {q(plan.name)} "
                                    f"WHERE typeof({col}) = 'blob' LIMIT 1000) GROUP BY n")
    dim = guess_dim(rows)
    return replace(plan, embedding_dim=dim) if dim else plan


def _drop(ctx: Context, table: str) -> None:
    others = ctx.run("SELECT count(*) FROM _mirror_state WHERE table_name = ? AND source <> ?",
                     [table, ctx.source.name]).fetchone()[0]
    if apply.table_exists(ctx, table):
        if others:
            ctx.run(f"DELETE FROM {q(table)} WHERE _source = ?", [ctx.source.name])
        else:
            ctx.run(f"DROP TABLE {q(table)}")
    forget_state(ctx.con, ctx.source.name, table)
    deletes.forget_groups(ctx, table)
    catchup.record(ctx.con, ctx.refresh_id, ctx.source.name, table, None)
    ctx.run("DELETE FROM _mirror_quality WHERE source = ? AND table_name = ?", [ctx.source.name, table])


def _log(con: Any, report: RefreshReport, seconds: float) -> None:
    """The refresh's rows of ``_mirror_refresh`` and ``_mirror_table_log`` (one INSERT into the book)."""
    started = report.started_at.astimezone(timezone.utc).replace(tzinfo=None)
    rows = []
    for s in report.sources:
        pull = s.pull
        snap = s.snapshot_at.astimezone(timezone.utc).replace(tzinfo=None) if s.snapshot_at else None
        rows += book.rows("_mirror_refresh", [(
            report.refresh_id, s.name, started, snap, seconds,
            pull.bytes_received if pull else None, pull.seconds if pull else None, pull.changed if pull else None,
            s.total("inserted"), s.total("updated"), s.total("deleted"), s.total("late"), s.total("recovered"),
            "\n".join(s.drift) or None)])
        rows += book.rows("_mirror_table_log", [
            (report.refresh_id, s.name, t.table, t.mode, t.inserted, t.updated, t.deleted, t.late, t.recovered,
             t.rows, t.seconds, t.watermark) for t in s.tables.values()])
    book.write(con, rows)
    for s in report.sources:
        # Keep the log bounded: the last KEEP_REFRESHES refreshes of each source (refresh ids
        # are ULIDs: they sort in time order).
        cutoff = con.execute(f"SELECT refresh_id FROM {book.TABLE} WHERE kind = 'refresh' AND source = ? "
                             "ORDER BY refresh_id DESC LIMIT 1 OFFSET ?", [s.name, KEEP_REFRESHES]).fetchone()
        if cutoff:
            con.execute(f"DELETE FROM {book.TABLE} WHERE kind IN ('refresh', 'table') AND source = ? "
                        "AND refresh_id <= ?", [s.name, cutoff[0]])


# -- reading --------------------------------------------------------------------------------------
def open_reader(path: str | Path | None = None) -> Any:
    """A read-only DuckDB connection on the last published refresh (never blocks, never blocked).

    Hold it as long as you like: refreshes write other files. Open a new one to see newer data.
    """
    return DuckDBTarget(Path(path) if path else default_duckdb_path()).open_reader()


def connect(settings_or_db: SourcesArg = None, duckdb_path: str | Path | None = None,
            progress: Progress | None = None, **kwargs: Any) -> Any:
    """Refresh, then return a read-only connection on the result (one call for notebooks)."""
    report = refresh(settings_or_db, duckdb_path, progress, **kwargs)
    return open_reader(report.duckdb_path)
