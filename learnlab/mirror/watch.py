"""``watch``: refresh on an interval until stopped; a stop request waits for the refresh running.

Sources are opened once (a Turso replica is then pulled by each refresh, not re-opened).
Between refreshes the next generation is brought up to date (see ``prepare_next``).
A refresh that fails is reported and retried at the next tick: the mirror stays at its
last good refresh meanwhile.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

from learnlab.config import Settings
from learnlab.errors import LearnlabError
from learnlab.mirror.refresh import SourcesArg, refresh, resolve_sources
from learnlab.mirror.report import RefreshReport
from learnlab.mirror.target import DuckDBTarget


def prepare_next(path: Path) -> int | None:
    """Once a refresh is published (``watch`` while it waits for the next tick, ``learnlab
    mirror`` before it exits): replay it onto the generation the next one writes, so the next
    refresh publishes sooner (``DuckDBTarget.prepare_next``); returns the rows replayed, or None.
    Only a head start: if it fails, the next refresh does the same work itself and reports any error."""
    try:
        return DuckDBTarget(path).prepare_next()
    except Exception:  # noqa: BLE001
        return None


def watch(settings_or_db: SourcesArg = None, duckdb_path: str | Path | None = None, *, interval: float | None = None,
          stop: threading.Event | None = None, on_report: Callable[[RefreshReport], None] | None = None,
          on_error: Callable[[LearnlabError], None] | None = None, max_refreshes: int | None = None,
          **kwargs: Any) -> int:
    """Refresh every ``interval`` seconds (default: the sources' sync interval) until ``stop`` is
    set; returns how many refreshes succeeded."""
    from learnlab.db.engine import connect

    stop = stop or threading.Event()
    specs = resolve_sources(settings_or_db)
    if interval is None:
        intervals = [getattr(x, "settings", x).sync_interval for _, x in specs
                     if isinstance(getattr(x, "settings", x), Settings)]
        interval = min(intervals) if intervals else Settings().sync_interval
    done = 0
    with ExitStack() as stack:
        opened = []
        for name, thing in specs:
            if isinstance(thing, Settings) and thing.mode != "sqlite":
                thing = stack.enter_context(connect(thing))
            opened.append((name, thing))
        while not stop.is_set():
            try:
                report = refresh(dict(opened), duckdb_path, **kwargs)
                done += 1
                if on_report:
                    on_report(report)
            except LearnlabError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                report = None
            if max_refreshes is not None and done >= max_refreshes:
                break
            if report is not None:
                prepare_next(report.duckdb_path)
            stop.wait(interval)
    return done
