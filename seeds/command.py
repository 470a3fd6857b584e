"""The ``learnlab seed`` command's body: option checks, a rich progress bar, the summary line."""

from __future__ import annotations

from typing import Any, Callable

from learnlab.errors import ValidationError
from seeds.run import SeedReport, seed
from seeds.scales import resolve_seed, resolve_until, resolve_users


def run_seed_command(open_db: Callable[[], Any], *, users: int | None, scale: str | None, seed_value: int,
                     until: str | None, if_empty: bool, quiet: bool) -> SeedReport:
    """Check the options, open the database (``open_db()``) and seed it, with a progress bar on a terminal.

    A bad option becomes click's usage error naming the option (exit 2), before anything is opened.
    """
    import typer
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        resolve_users(users, scale)
        resolve_seed(seed_value)
        resolve_until(until)
    except ValidationError as exc:
        raise typer.BadParameter(exc.problem, param_hint=f"'{exc.field}'") from None
    console = Console(stderr=True)
    show = not quiet and console.is_terminal
    with open_db() as db:
        if not show:
            report = seed(db, users=users, scale=scale, seed=seed_value, until=until, if_empty=if_empty)
        else:
            columns = (TextColumn("seeding [bold]{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("rows"), TimeElapsedColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("", total=None)

                def progress(table: str, done: int, total: int) -> None:
                    bar.update(task, description=table, completed=done, total=max(total, done))

                report = seed(db, users=users, scale=scale, seed=seed_value, until=until, if_empty=if_empty,
                              progress=progress)
    if not quiet:
        typer.echo(report.summary())
    return report
