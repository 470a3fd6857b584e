"""The first copy of a big SQLite table, on every core, then brought to the refresh's snapshot.

A copy read in the refresh's snapshot goes through one SQLite connection (``sqlite_query``),
so one core reads, converts and compresses every row. DuckDB's ``sqlite_scan`` instead
reads rowid ranges on every core, each on its own connection, and DuckDB compresses in
parallel when insertion order need not be kept; measured on 2M AIUsage rows (2 cores):
4.7 s against 8.7 s. Its connections do not share one snapshot, so the copy is made
*before* the refresh's snapshot starts, and the refresh then treats the copy as an earlier
refresh taken at the moment the copy began:

- ``watermark`` = that moment: rows written during the copy have a cursor at or after it
  (less the safety window), so the incremental pass re-reads them in the snapshot;
- ``max_rowid`` / ``top_key`` = the last row before the copy: rows inserted during it are
  re-read whatever their cursor;
- deletions during the copy show as a count difference and are found by ``deletes``.

The result is the snapshot's state, exactly as the other tables. Only tables whose values
``sqlite_all_varchar`` renders as ``CAST(x AS TEXT)`` would (text, integers, booleans,
DateTimes; not REALs, whose text keeps 15 digits, nor blobs), with a rowid, an unhashed key
and ``options.bulk_rows`` rows or more take this path; the others are copied in the snapshot.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from learnlab.mirror import apply
from learnlab.mirror.convert import sql_text
from learnlab.mirror.plan import TablePlan, make_plans
from learnlab.mirror.report import Progress, ProgressEvent, TableReport
from learnlab.mirror.source import SqliteSource
from learnlab.mirror.state import TableState

KINDS = ("text", "integer", "boolean", "datetime")


def eligible(plan: TablePlan) -> bool:
    """Can ``sqlite_scan`` read this table with the exact text the snapshot reader would send?"""
    return (plan.mode == "incremental" and not plan.key_hashed and not plan.embedding_columns
            and all(c.kind in KINDS for c in plan.mirrored))


def copy_tables(ctx: apply.Context, states: dict[str, TableState], full: bool, progress: Progress | None = None
                ) -> dict[str, tuple[TableReport, TableState, list]]:
    """Copy the big tables that need a full copy; ``{table: (report, state to continue from,
    rows with bad values)}`` (their quality rows are written once the snapshot is open).
    ``states``: the source's, from ``load_states``.

    Call inside the refresh's DuckDB transaction, before ``source.begin``.
    """
    source = ctx.source
    if not isinstance(source, SqliteSource):
        return {}
    plans, _ = make_plans(source.schema(), ctx.options, {t: s.embedding_dim for t, s in states.items()})
    fingerprint = ctx.key_fingerprint
    todo = [p for p in plans if eligible(p) and (
        full or p.name not in states or states[p.name].signature != p.signature(fingerprint))]
    if not todo:
        return {}
    # The last rows were read in ``prepare``, just after ``prepared_at``: a write committed
    # later has a cursor after that moment (less the safety window) or a higher rowid.
    started, tops = source.prepared_at, source.last_rows
    out: dict[str, tuple[TableReport, TableState, list]] = {}
    for i, plan in enumerate(todo):
        top = tops.get(plan.name)
        if top is None or top[0] < ctx.options.bulk_rows:
            continue
        if progress:
            progress(ProgressEvent(source.name, plan.name, i, len(todo), "start"))
        state = states.get(plan.name)
        scan = f"sqlite_scan({sql_text(str(source.path))}, {sql_text(plan.name)})"
        with _parallel_scan(ctx.con):
            report, forms, bad_rows = apply.copy_rows(ctx, plan, state, "full" if state is None else "reload", scan)
        out[plan.name] = (report, TableState(
            source.name, plan.name, plan.mode, plan.key, plan.cursor, plan.signature(fingerprint), [],
            plan.embedding_dim, forms, started.replace(tzinfo=None), None, top[0], top[1], report.rows), bad_rows)
    return out


@contextmanager
def _parallel_scan(con: Any) -> Iterator[None]:
    """Every column as text (``convert`` types it), and no insertion order to keep (so every
    core compresses); the session's settings come back afterwards."""
    con.execute("SET sqlite_all_varchar = true")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("RESET sqlite_all_varchar")
        con.execute("RESET preserve_insertion_order")
