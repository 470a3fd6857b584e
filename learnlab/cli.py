"""The ``learnlab`` command: thin commands over the library (heavy imports inside each command)."""

from __future__ import annotations

from typing import Optional

import click
import typer
from typer.core import TyperGroup


class _Group(TyperGroup):
    """learnlab's errors become one line on stderr and exit 1 (a traceback only with --debug)."""

    def invoke(self, ctx: click.Context):
        from learnlab.errors import LearnlabError

        try:
            return super().invoke(ctx)
        except LearnlabError as exc:
            if state["debug"]:
                raise
            click.secho(f"error: {exc}", err=True, fg="red")
            ctx.exit(1)


app = typer.Typer(
    cls=_Group,
    help="learnlab: the learning platform's schema, flows, DuckDB mirror and analytics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
state = {"debug": False}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    state["debug"] = debug


def _db(timestamp_format: Optional[str] = None):
    from learnlab.db.engine import connect

    return connect(timestamp_format=timestamp_format) if timestamp_format else connect()


@app.command()
def migrate(revision: str = typer.Option("head", help="Alembic revision to migrate to.")) -> None:
    """Create or upgrade the configured database's schema (SQLite file or Turso replica, then push)."""
    from learnlab.migrate import upgrade

    with _db() as db:
        report = upgrade(db, revision)
        how = " (adopted a Prisma-migrated database)" if report.adopted else ""
        typer.echo(f"{db.settings.describe()}: {report.before or 'empty'} -> {report.after}{how}")


@app.command()
def health() -> None:
    """Check the configured database answers (``SELECT 1``); exit 1 when it does not."""
    from learnlab.db.engine import check_database_health

    result = check_database_health()
    line = f"{result['status']} at {result['timestamp'].isoformat()}"
    if result["status"] != "healthy":
        typer.echo(f"{line}: {result['error']}", err=True)
        raise typer.Exit(1)
    typer.echo(line)


@app.command()
def sync() -> None:
    """Push local writes of the Turso replica, then pull the remote's changes."""
    with _db() as db:
        if db.replica is None:
            typer.echo(f"{db.settings.describe()} is not a replica: nothing to sync")
            return
        report = db.replica.sync()
        typer.echo(f"pulled {report.bytes_received} bytes in {report.seconds:.2f}s (changed: {report.changed})")


@app.command()
def query(
    name: str = typer.Argument(None, help="Query name (a file in queries/); omit to list them."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE, repeatable."),
    duckdb_path: Optional[str] = typer.Option(None, "--duckdb", help="Mirror file (default: LEARNLAB_DUCKDB or beside the database)."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """Run an analytics query on the DuckDB mirror (read-only; works while the mirror refreshes)."""
    from learnlab import analytics
    from learnlab.errors import ValidationError
    from learnlab.mirror import open_reader

    if not name:
        for q in analytics.all_queries():
            params = ", ".join(p.name for p in q.params)
            typer.echo(f"{q.name:24} {q.description} [{params}]")
        return
    if fmt not in ("table", "csv", "json"):
        raise ValidationError("--format", f"{fmt!r} is not one of table, csv, json")
    values = {}
    for item in param:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValidationError("--param", f"{item!r} is not NAME=VALUE")
        values[key] = value
    bound = analytics.load(name).bind(**values)  # check before opening the mirror
    with open_reader(duckdb_path) as con:
        df = analytics.run(name, con, **bound)
    if fmt == "csv":
        typer.echo(df.write_csv(), nl=False)
    elif fmt == "json":
        typer.echo(df.write_json())
    else:
        import polars as pl

        with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=40, tbl_width_chars=200):
            typer.echo(str(df))


@app.command("backup")
def backup_cmd(
    to: str = typer.Option("backups", "--to", help="Folder for the backups."),
    new_key: bool = typer.Option(False, "--new-key", help="Print a new LEARNLAB_BACKUP_KEY and exit."),
) -> None:
    """Copy the database online, verify the copy, encrypt it (LEARNLAB_BACKUP_KEY), keep 30 days."""
    from learnlab import backup

    if new_key:
        typer.echo(backup.new_key())
        return
    with _db() as db:
        report = backup.backup(db, to)
    typer.echo(f"{report.path}: verified, {sum(report.counts.values())} rows in {len(report.counts)} tables")


@app.command("verify-backup")
def verify_backup_cmd(path: str) -> None:
    """Check a backup restores: integrity, foreign keys, schema, row counts; exit 1 if not."""
    from learnlab.backup import verify_backup

    report = verify_backup(path)
    for table, n in sorted(report.counts.items()):
        typer.echo(f"{table:20} {n:>10}")
    if not report.ok:
        typer.echo("; ".join(report.problems), err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: ok")


@app.command()
def restore(path: str, yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Replace the configured database with a verified backup (stop the app first)."""
    from learnlab.backup import restore as restore_backup
    from learnlab.config import Settings

    target = Settings.from_env().database_path
    if not yes and not typer.confirm(f"replace {target} with {path}?"):
        raise typer.Abort()
    report = restore_backup(path, target)
    typer.echo(f"restored {target} from {path} ({sum(report.counts.values())} rows)")


@app.command()
def seed(
    users: Optional[int] = typer.Option(None, "--users", help="How many users to generate (instead of --scale)."),
    scale: Optional[str] = typer.Option(None, "--scale", help="small (~1k users), medium (~50k) or large (~1M)."),
    seed_value: int = typer.Option(42, "--seed", help="Random seed: the same seed and size give identical data."),
    until: Optional[str] = typer.Option(None, "--until", help="End of the generated timeline (default 2026-11-01)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the database already has users."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary line."),
) -> None:
    """Fill the configured, migrated database with a realistic, deterministic platform (seed data)."""
    from seeds.command import run_seed_command

    run_seed_command(_db, users=users, scale=scale, seed_value=seed_value, until=until, if_empty=if_empty,
                     quiet=quiet)


def main() -> None:
    app()


from learnlab.mirror.cli import bench_app, mirror_app  # noqa: E402

app.add_typer(mirror_app, name="mirror")
app.add_typer(bench_app, name="bench")
