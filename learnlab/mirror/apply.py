"""Bringing one table of one source up to date, inside the refresh's DuckDB transaction.

- ``load``: the first copy, or a reload after drift. A new table is built beside the old
  one (this source's rows straight from the source, other sources' rows copied), then
  swapped in: DuckDB cannot ALTER a table after deleting from it in the same transaction.
  Big tables stream from SQLite into DuckDB in one pipeline (no Python per row).
- ``incremental``: rows with the cursor at or after ``watermark - safety window`` are
  staged, compared with the mirror by key (new, changed, or unchanged re-reads inside the
  window), and applied as delete + insert; then deletions are found (``deletes``).
- ``diff``: tables without a cursor (or without a key) are read whole and compared.

Hidden columns ``_learnlab_bad`` / ``_learnlab_forms`` travel with the rows until the quality
table has what it needs, and never reach a committed table.
"""

from __future__ import annotations

import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror import catchup, convert, deletes, quality, vectors, window
from learnlab.mirror.convert import BAD, FORMS, HIDDEN, SOURCE, convert_select, source_select, sql_text
from learnlab.mirror.cursor import changed_where
from learnlab.mirror.plan import MirrorOptions, TablePlan
from learnlab.mirror.privacy import hmac_hex
from learnlab.mirror.report import TableReport
from learnlab.mirror.source import Source
from learnlab.mirror.state import TableState, all_columns_elsewhere, state_row, with_window

STAGE = "_learnlab_stage"
OPS = "_learnlab_ops"
OP = "_learnlab_op"
RAW_KEY = "_learnlab_key"
SOURCE_ROWS = "_learnlab_source_rows"
ROW_GROUP_ROWS = 122_880  # DuckDB's


@dataclass
class Context:
    """What every step of one source's refresh needs."""

    con: Any
    source: Source
    options: MirrorOptions
    key: bytes
    key_fingerprint: str
    refresh_id: str
    now: datetime
    tracer: Callable[[str, Any], None] | None = None
    states: list = field(default_factory=list)  # _mirror_state rows, written once per source
    # Checking every text value for valid UTF-8 costs ~6% of a first copy; it is switched on
    # (and remembered in _mirror_meta) once a refresh met text DuckDB refused.
    validate_text: bool = False
    # Rows appended to the end of each table by incremental passes (shared by the refresh's
    # sources): the next refresh's catch-up reads them back as the table's tail (``catchup``).
    appended: dict[str, dict] = field(default_factory=dict)
    # Tables whose kept key-group counts (``deletes``) changed: the catch-up copies only those.
    groups_touched: set[str] = field(default_factory=set)
    # Tables holding other sources' rows too (``mine`` must then filter on ``_source``); None: unknown yet.
    shared: frozenset[str] | None = None
    # (index in ``states``, plan, where, has rowids) of the tables whose next read asks for other rows (``keep_windows``)
    next_windows: list = field(default_factory=list)
    _database: str | None = field(default=None, repr=False)

    @property
    def database(self) -> str:
        """The DuckDB catalog the mirrored tables are in (the generation the writer ATTACHed)."""
        if self._database is None:
            self._database = self.con.execute("SELECT current_database()").fetchone()[0]
        return self._database

    def save(self, plan: TablePlan, signature: str, report: TableReport, **kw: Any) -> None:
        self.states.append(state_row(plan, signature, report, refresh_id=self.refresh_id,
                                     refreshed_at=self.now_naive, **kw))

    def run(self, sql: str, params: Any = None) -> Any:
        if self.tracer is not None:
            self.tracer(sql, params)
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def mine(self, table: str) -> str:
        """A condition keeping this source's rows of a mirrored table: ``true`` when no other source
        mirrors it (checking ``_source`` on every row costs ~2 ns, 4 ms a pass at 2M rows)."""
        if self.shared is not None and table not in self.shared:
            return "true"
        return f"{SOURCE} = {sql_text(self.source.name)}"

    @property
    def now_naive(self) -> datetime:
        return self.now.astimezone(timezone.utc).replace(tzinfo=None)


def table_exists(ctx: Context, name: str) -> bool:
    return bool(ctx.run("SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?",
                        [name]).fetchone())


def target_columns(ctx: Context, name: str) -> dict[str, str]:
    return dict(ctx.run("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [name]).fetchall())


def key_text(plan: TablePlan, alias: str) -> str:
    """The row id shown in the quality table: the (mirrored) key as text."""
    return convert.key_text(plan.key, alias)


def _needs_stage(plan: TablePlan) -> bool:
    # Embeddings convert in Arrow; hashed keys need the raw key beside the row for the
    # quality table, and a raw key must never be written to the file, even transiently.
    return bool(plan.embedding_columns) or plan.key_hashed


# -- reading ------------------------------------------------------------------------------
def _select(ctx: Context, plan: TablePlan, where: str = "") -> str:
    extra = ()
    if plan.key_hashed:
        extra = (f"{convert.key_text(plan.key)} AS {RAW_KEY}",)
    return source_select(plan, where, as_text=ctx.source.text_projection, extra=extra)


def _converted(ctx: Context, plan: TablePlan, frag: str) -> str:
    return convert_select(plan, frag, ctx.source.name, ctx.key, (RAW_KEY,) if plan.key_hashed else (),
                          validate_text=ctx.validate_text)


def has_rowid(ctx: Context, plan: TablePlan) -> bool:
    return ctx.source.has_rowid(ctx.con, plan.name)


def _chunks(ctx: Context, plan: TablePlan, where: str = "") -> Iterator[str]:
    """Relations for a whole-table read; staged tables go in rowid slices to bound memory."""
    if not _needs_stage(plan) or where or not has_rowid(ctx, plan):
        yield from ctx.source.relations(ctx.con, _select(ctx, plan, where))
        return
    lo, hi = ctx.source.rows(ctx.con, f"SELECT min(rowid), max(rowid) FROM {q(plan.name)}")[0]
    if lo is None:
        yield from ctx.source.relations(ctx.con, _select(ctx, plan, "0"))
        return
    step = max(1000, ctx.options.batch_rows // 4 if plan.embedding_columns else ctx.options.batch_rows)
    for start in range(int(lo), int(hi) + 1, step):
        yield from ctx.source.relations(
            ctx.con, _select(ctx, plan, f"rowid >= {start} AND rowid < {start + step}"))


def stage_frag(ctx: Context, plan: TablePlan, frag: str) -> tuple[str, int]:
    """One relation of source rows, converted, in the temp stage table; returns (name, rows)."""
    rows = ctx.run(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS {_converted(ctx, plan, frag)}").fetchone()[0]
    return (vectors.convert_stage(ctx.con, plan, STAGE) if rows else STAGE), rows


def stage(ctx: Context, plan: TablePlan, where: str = "", warm_rows: int = 0) -> tuple[str, int]:
    """Changed (or all) rows of the source, converted, in a temp table; returns (name, rows).
    ``warm_rows``: the mirrored table's rows, to read its keys meanwhile (see ``warming``)."""
    rows, first = 0, True
    with one_thread(ctx.con) if ctx.source.one_reader else nullcontext(), warming(ctx, plan, warm_rows):
        for frag in ctx.source.relations(ctx.con, _select(ctx, plan, where)):
            verb = f"CREATE OR REPLACE TEMP TABLE {STAGE} AS" if first else f"INSERT INTO {STAGE}"
            rows += ctx.run(f"{verb} {_converted(ctx, plan, frag)}").fetchone()[0]
            first = False
    return (vectors.convert_stage(ctx.con, plan, STAGE) if rows else STAGE), rows


@contextmanager
def one_thread(con: Any, rows: int = 0) -> Iterator[None]:
    """Run the statements inside on one thread when they write fewer than a row group's rows
    (``rows``; 0: unknown but small): DuckDB's parallel insert gathers each thread's rows and
    merges them afterwards, which costs more than a second thread saves on a few thousand rows
    (staging and applying 20k changed rows: 159 -> 147 ms). The setting comes back afterwards."""
    if rows >= ROW_GROUP_ROWS:
        yield
        return
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    if int(threads) <= 1:
        yield
        return
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")


@contextmanager
def warming(ctx: Context, plan: TablePlan, rows: int) -> Iterator[None]:
    """Read the table's key and cursor columns into DuckDB's buffer pool on a second connection
    while the body reads the source's changed rows: SQLite keeps one core busy, and DuckDB's
    first pass over the keys just after opening the file would read them from the file (2M
    keys: ``apply_stage``'s pass takes 52 ms cold, 26 ms warm). Only for tables of more than a
    row group (``rows``: mirrored rows). Reads committed data (its own transaction); an error
    only leaves the cache cold, unless it names a table or column wrongly (a bug: raised).
    Stopped and joined when the body ends: it never delays the refresh nor outlives the body.
    Enter it after any ``SET threads`` (which waits for running queries)."""
    if rows < ROW_GROUP_ROWS:
        yield
        return
    import threading

    import duckdb

    # (a cursor is a new connection to the same DuckDB: it has not run the writer's USE)
    table = f"{q(ctx.database)}.main.{q(plan.name)}"
    cursor = ctx.con.cursor()
    sql = f"SELECT {', '.join(f'max({q(c)})' for c in _probed(plan))} FROM {table} WHERE {ctx.mine(plan.name)}"
    if ctx.tracer is not None:
        ctx.tracer(sql, None)
    failed: list[BaseException] = []

    def warm() -> None:
        try:
            cursor.execute(sql).fetchall()
        except (duckdb.CatalogException, duckdb.BinderException) as exc:  # a bug: said below
            failed.append(exc)
        except Exception:  # interrupted, or out of memory: a cold cache is only slower
            pass

    thread = threading.Thread(target=warm, name="learnlab-warm-keys", daemon=True)
    thread.start()
    try:
        yield
    finally:
        if thread.is_alive():  # SQLite was quicker (few changed rows): the pass reads the rest itself
            cursor.interrupt()
        thread.join()
        cursor.close()
    if failed:
        raise failed[0]


def _probed(plan: TablePlan) -> list[str]:
    """The mirrored columns ``apply_stage`` reads over the whole table: the key and the cursor."""
    return list(plan.key) + ([plan.cursor] if plan.cursor and plan.cursor not in plan.key else [])


# -- the first copy, or a reload ----------------------------------------------------------
def load(ctx: Context, plan: TablePlan, state: TableState | None, mode: str) -> TableReport:
    """Copy every row of the table from the source, in the refresh's snapshot (a new table swapped in)."""
    t0 = time.perf_counter()
    top = last_row(ctx, plan)
    report, forms, bad_rows = copy_rows(ctx, plan, state, mode)
    report.quality += quality.record(ctx, plan, bad_rows)
    name = plan.name
    watermark, wid = (_max_cursor(ctx, plan, f"{q(name)} t WHERE {ctx.mine(name)}", [])
                      if report.rows else (None, None))
    report.watermark = watermark
    report.seconds = time.perf_counter() - t0
    ctx.save(plan, plan.signature(ctx.key_fingerprint), report, forms=forms, watermark=watermark,
             watermark_id=wid, top=top)
    if plan.mode == "incremental":
        _next_window(ctx, plan, watermark, top)
    return report


def copy_rows(ctx: Context, plan: TablePlan, state: TableState | None, mode: str,
              frag: str | None = None) -> tuple[TableReport, int, list[tuple[str, str, int]]]:
    """Replace this source's rows of the table by every row read from ``frag`` (default: the
    source, in slices); returns the report, the DateTime forms seen and the rows with bad
    values (for ``quality.record``, which reads their stored values in the snapshot). Reads
    nothing else from the source, so ``bulk`` can run it before the snapshot starts."""
    report = TableReport(ctx.source.name, plan.name, mode)
    t0 = time.perf_counter()
    name = plan.name
    exists = table_exists(ctx, name)
    old = target_columns(ctx, name) if exists else {}
    keep = all_columns_elsewhere(ctx.con, ctx.source.name, name) if exists else set()
    columns = plan.target_columns()
    mine = {n for n, _ in columns}
    columns += [(n, t) for n, t in old.items() if n in keep and n not in mine and n != SOURCE]
    new = f"_learnlab_new_{name}" if exists else name
    ddl = convert.columns_ddl(columns, plan.key)
    ctx.run(f"CREATE TABLE {q(new)} ({ddl}, {SOURCE} VARCHAR, {BAD} BIGINT, {FORMS} BIGINT)")
    if exists:
        report.deleted = ctx.run(f"SELECT count(*) FROM {q(name)} WHERE {ctx.mine(name)}").fetchone()[0]
        shared = [n for n, _ in columns if n in old] + [SOURCE]
        cols = ", ".join(q(n) for n in shared)
        ctx.run(f"INSERT INTO {q(new)} ({cols}) SELECT {cols} FROM {q(name)} WHERE {SOURCE} <> ?",
                [ctx.source.name])
    bad_rows: list[tuple[str, str, int]] = []
    forms = loaded = 0
    if _needs_stage(plan):
        assert frag is None, "staged tables are read in the snapshot"
        for part in _chunks(ctx, plan):
            staged, n = stage_frag(ctx, plan, part)
            if n:
                bad_rows += _bad_rows(ctx, plan, staged)
                forms |= _forms(ctx, staged)
                loaded += ctx.run(f"INSERT INTO {q(new)} BY NAME SELECT * EXCLUDE ({RAW_KEY}) FROM {staged}"
                                  if plan.key_hashed else f"INSERT INTO {q(new)} BY NAME SELECT * FROM {staged}"
                                  ).fetchone()[0]
    else:
        for part in ([frag] if frag is not None else _chunks(ctx, plan)):
            loaded += ctx.run(f"INSERT INTO {q(new)} BY NAME {_converted(ctx, plan, part)}").fetchone()[0]
        if loaded:
            mine_rows = f"FROM {q(new)} t WHERE {ctx.mine(name)}"
            bad_rows = [(r[0], r[0], r[1]) for r in ctx.run(
                f"SELECT {key_text(plan, 't')}, t.{BAD} {mine_rows} AND t.{BAD} <> 0").fetchall()]
            forms = ctx.run(f"SELECT coalesce(bit_or(t.{FORMS}), 0) {mine_rows}").fetchone()[0]
    for hidden in HIDDEN:
        ctx.run(f"ALTER TABLE {q(new)} DROP COLUMN {hidden}")
    if exists:
        ctx.run(f"DROP TABLE {q(name)}")
        ctx.run(f"ALTER TABLE {q(new)} RENAME TO {q(name)}")
    if state is not None or exists:
        quality.clear_table(ctx, name)
        deletes.forget_groups(ctx, name)
    report.quality = quality.record_forms(ctx, plan, forms, clear=False)
    catchup.record(ctx.con, ctx.refresh_id, ctx.source.name, name, None)
    if loaded and deletes.bucketed(plan):
        deletes.groups(ctx, plan, loaded)  # kept up to date from now on
    report.rows = report.inserted = report.read = loaded
    report.seconds = time.perf_counter() - t0
    return report, forms, bad_rows


def last_row(ctx: Context, plan: TablePlan) -> tuple[int | None, str | None]:
    """(highest rowid, its key), read in the refresh's snapshot; (None, None) without rowids."""
    if not plan.key or not has_rowid(ctx, plan):
        return None, None
    rows = ctx.source.rows(ctx.con, f"SELECT rowid, {convert.key_text(plan.key)} FROM {q(plan.name)} "
                                    "ORDER BY rowid DESC LIMIT 1")
    return (int(rows[0][0]), _keep_key(ctx, plan, rows[0][1])) if rows else (0, None)


def _keep_key(ctx: Context, plan: TablePlan, raw_key: str | None) -> str | None:
    """A source key as it may be stored in the mirror (hashed when the key is hashed)."""
    return hmac_hex(raw_key, ctx.key) if plan.key_hashed and raw_key is not None else raw_key


# -- incremental ----------------------------------------------------------------------------
@dataclass
class Facts:
    """What the incremental pass needs to know of a table before reading any row, read for all
    tables of a source in one SQLite and one DuckDB statement (20 small tables no longer cost
    six round trips each)."""

    top: tuple[int | None, str | None]  # highest rowid and its key (None, None without rowids)
    at_max_rowid: str | None            # the key now at the previous refresh's highest rowid
    source_rows: int | None             # None: counted later, alongside the apply (``apply_stage``)
    target_rows: int
    changed: bool                       # does the changed-rows predicate match anything?
    window: str | None = None           # digest of the rows it matches, if few (``window``)
    window_rowids: list[int] | None = None  # their rowids
    kept: bool = False                  # the last window's rows are as the last refresh left them


def changed_rows_where(ctx: Context, plan: TablePlan, watermark: datetime | None, max_rowid: int | None) -> str:
    """Rows whose cursor may be at or after ``watermark - safety window``, plus rows past the
    last rowid (inserts committed later than even the window; None: no rowids); "" reads everything."""
    if watermark is None:
        return ""
    since = watermark.replace(tzinfo=timezone.utc) - ctx.options.safety_window
    where = changed_where(plan.cursor, since, nullable=not plan.column(plan.cursor).notnull)
    if max_rowid is not None:
        where += f" OR rowid > {int(max_rowid)}"
    return where


def table_facts(ctx: Context, items: list[tuple[TablePlan, TableState]]) -> dict[str, Facts]:
    if not items:
        return {}
    parts = []
    for plan, state in items:
        t, key = q(plan.name), convert.key_text(plan.key)
        rowid = has_rowid(ctx, plan)
        where = changed_rows_where(ctx, plan, state.watermark, state.max_rowid if rowid else None) or "1"
        if rowid:
            last = (f"(SELECT rowid FROM {t} ORDER BY rowid DESC LIMIT 1), "
                    f"(SELECT {key} FROM {t} ORDER BY rowid DESC LIMIT 1), "
                    f"(SELECT {key} FROM {t} WHERE rowid = {int(state.max_rowid or 0)})")
        else:
            last = "NULL, NULL, NULL"
        # The table's rows are counted here, unless more than a window's rows changed: the
        # table is then read for sure, and the count (a pass over an index: 27-37 ms at 2M rows)
        # runs on another core during the apply's pass over the mirrored keys (``apply_stage``).
        count = f"(SELECT count(*) FROM {t})"
        if ctx.source.counts_in_duckdb:
            count = f"CASE WHEN w.n <= {window.ROWS} THEN {count} END"
        # The last window's rows as they are now (``window``: left out of the read if unchanged).
        kept = window.kept_sql(plan, state.window_rowids) if rowid and state.window_rowids else "NULL"
        # The changed rows, counted up to a few (how many matter only for ``window``).
        parts.append(f"SELECT {sql_text(plan.name)}, {int(rowid)}, {last}, {count}, {kept}, "
                     f"{window.select_sql(plan, where, rowid)}")
    out: dict[str, Facts] = {}
    by_name = {p.name: (p, st) for p, st in items}
    for name, rowid, top_id, top_key, at_max, n, kept, matching, rows in ctx.source.rows(
            ctx.con, " UNION ALL ".join(parts)):
        plan, state = by_name[name]
        top = (int(top_id) if top_id is not None else 0, _keep_key(ctx, plan, top_key)) if int(rowid) else (None, None)
        out[name] = Facts(top, _keep_key(ctx, plan, at_max), None if n is None else int(n), 0, int(matching) > 0,
                          window.digest(rows, ctx.key), window.rowids(rows) if int(rowid) else None,
                          kept is not None and window.digest(kept, ctx.key) == state.window_digest)
    counts = " UNION ALL ".join(f"SELECT {sql_text(p.name)}, count(*) FROM {q(p.name)} WHERE {ctx.mine(p.name)}"
                                for p, _ in items)
    for name, n in ctx.run(counts).fetchall():
        out[name].target_rows = int(n)
    return out


def incremental(ctx: Context, plan: TablePlan, state: TableState, facts: Facts,
                copied: TableReport | None = None) -> TableReport:
    """Apply rows changed since ``watermark - safety window``, then deletions.

    ``copied``: the report of a ``bulk`` copy made just before the snapshot, which this pass
    brings to the snapshot; the result is reported as that copy (every row inserted).
    ``facts``: the table's, from ``table_facts``."""
    report = TableReport(ctx.source.name, plan.name, "incremental")
    t0 = time.perf_counter()
    top = facts.top
    where = changed_rows_where(ctx, plan, state.watermark, state.max_rowid if top[0] is not None else None)
    suspect = False
    if state.watermark is not None and state.max_rowid is not None and top[0] is not None:
        # Rows inserted since the last refresh have higher rowids (``where`` reads them),
        # unless the last rows were deleted first: their rowids are then reused, and only a
        # comparison of keys can tell.
        if state.top_key is None:
            suspect = False  # the table was empty
        elif top[0] >= state.max_rowid:
            suspect = facts.at_max_rowid != state.top_key
        else:
            suspect = True
    # The rows the read would return are the ones the last refresh left (``window``): nothing to read.
    unchanged = facts.window is not None and facts.window == state.window_digest and not suspect
    if facts.kept and not suspect and where:
        # Other rows changed, not the last window's: those are not read again (``window``).
        where = window.leave_out(where, state.window_rowids)
    staged, report.read = (stage(ctx, plan, where, facts.target_rows) if facts.changed and not unchanged
                           else (STAGE, 0))
    counted = None
    forms, watermark, wid = state.forms, state.watermark, state.watermark_id
    report.rows = facts.target_rows
    if report.read:
        forms |= _forms(ctx, staged)
        watermark, wid = _max_cursor(ctx, plan, f"{staged} t", [])
        if state.watermark is not None and (watermark is None or watermark < state.watermark):
            watermark, wid = state.watermark, state.watermark_id
        count = ctx.source.count_relation(plan.name) if facts.source_rows is None else None
        report.inserted, report.updated, report.late, counted = apply_stage(ctx, plan, staged, state.watermark,
                                                                            count)
        report.rows += report.inserted  # (updated rows were replaced, not added)
        report.quality += quality.record_forms(ctx, plan, forms) if forms != state.forms else 0
    # Deletions (and inserts even the window missed): counts first, ranges only if they differ.
    source_rows = facts.source_rows if facts.source_rows is not None else counted
    if source_rows is None:
        source_rows = int(ctx.source.scalar(ctx.con, f"SELECT count(*) FROM {q(plan.name)}"))
    if suspect or source_rows != report.rows:
        found = deletes.find(ctx, plan, report.rows, source_rows, every_key=suspect)
        report.deleted = _delete(ctx, plan, found.gone, found.gone_rowids)
        if found.missing:
            for i in range(0, len(found.missing), quality.CHUNK):
                cond = quality.key_condition(plan, found.missing[i:i + quality.CHUNK])
                staged, _ = stage(ctx, plan, cond)
                inserted, updated, _late, _ = apply_stage(ctx, plan, staged, None)
                report.recovered += inserted + updated
                report.inserted += inserted
                report.updated += updated
        report.rows = deletes.target_count(ctx, plan)
    if copied is not None:
        watermark, wid = _max_cursor(ctx, plan, f"{q(plan.name)} t WHERE {ctx.mine(plan.name)}", [])
        copied.rows = copied.inserted = report.rows
        copied.read += report.read
        copied.quality += report.quality
        copied.seconds += time.perf_counter() - t0
        report = copied
    else:
        report.seconds = time.perf_counter() - t0
    report.watermark = watermark
    # The next read asks for the same rows when the watermark and the last rowid stay: keep their
    # digest. Else the rows of the next read are digested at the end of the source's pass (``keep_windows``).
    same_read = (copied is None and not suspect and watermark == state.watermark and top[0] == state.max_rowid
                 and not (report.deleted or report.recovered))
    ctx.save(plan, state.signature, report, forms=forms, watermark=watermark, watermark_id=wid, top=top,
             window_digest=facts.window if same_read else None,
             window_rowids=facts.window_rowids if same_read else None)
    if not same_read:
        _next_window(ctx, plan, watermark, top)
    return report


def _next_window(ctx: Context, plan: TablePlan, watermark: datetime | None, top: tuple[int | None, Any]) -> None:
    """The state just saved gets the digest of the rows its next read asks for (``keep_windows``)."""
    if watermark is not None:
        ctx.next_windows.append((len(ctx.states) - 1, plan, changed_rows_where(ctx, plan, watermark, top[0]),
                                 top[0] is not None))


def keep_windows(ctx: Context) -> None:
    """Digest, in the snapshot just mirrored, the rows the next refresh of each table will ask for,
    for the tables whose watermark or last rowid moved (one SQLite statement for all): the next
    refresh skips that read if they are still the same (``window``). Without this, every table
    re-read its window once more after each change, and after the first copy."""
    if not ctx.next_windows:
        return
    parts = [f"SELECT {i}, {window.select_sql(plan, where, rowid)}" for i, plan, where, rowid in ctx.next_windows]
    has_rowid = {i: rowid for i, _plan, _where, rowid in ctx.next_windows}
    for i, _matching, rows in ctx.source.rows(ctx.con, " UNION ALL ".join(parts)):
        ctx.states[int(i)] = with_window(ctx.states[int(i)], window.digest(rows, ctx.key),
                                         window.rowids(rows) if has_rowid[int(i)] else None)
    ctx.next_windows.clear()


def apply_stage(ctx: Context, plan: TablePlan, staged: str, previous: datetime | None,
                count: str | None = None) -> tuple[int, int, int, int | None]:
    """Upsert staged rows by key: (inserted, updated, late, counted). Unchanged re-reads are skipped.

    One pass over the mirrored table's key and cursor finds each staged row's mirrored row
    (its DuckDB rowid): a different cursor means changed; only rows with the same cursor
    (re-read inside the safety window) are compared column by column. Replaced rows are then
    deleted by rowid (no second pass over the keys).

    ``count``: a relation counting the source table (``Source.count_relation``), computed by the
    same statement as that pass, on another core (the two are independent materialized CTEs:
    ~56 -> ~39 ms at 2M rows); its value is returned as ``counted`` (None without it).
    """
    name = q(plan.name)
    cols = [q(c.name) for c in plan.mirrored]
    keys = [q(k) for k in plan.key]
    on = " AND ".join(f"s.{k} = t.{k}" for k in keys)
    cursor = q(plan.cursor) if plan.cursor else None
    probe = ", ".join(q(c) for c in _probed(plan))
    first = f"WHEN s.{cursor} IS DISTINCT FROM t.{cursor} THEN 2 " if cursor else ""
    # A row whose key is NULL (SQLite allows it in a TEXT primary key) cannot be matched: never written here.
    null_key = " OR ".join(f"s.{k} IS NULL" for k in keys)
    late = "false"
    if previous is not None and plan.cursor:
        late = f"s.{q(plan.cursor)} < {sql_text(previous.isoformat(sep=' '))}::TIMESTAMP"
    ctx.run(f"DROP TABLE IF EXISTS {OPS}")
    ops = (f"SELECT {', '.join('s.' + k for k in keys)}, t._learnlab_rid, "
           f"CASE WHEN {null_key} THEN 0 WHEN t._learnlab_rid IS NULL THEN 1 {first}ELSE 3 END AS {OP}, "
           f"{late} AS _learnlab_late "
           f"FROM {staged} s LEFT JOIN (SELECT {probe}, rowid AS _learnlab_rid FROM {name} WHERE {ctx.mine(plan.name)}) t "
           f"ON {on}")
    if count is None:
        ctx.run(f"CREATE TEMP TABLE {OPS} AS {ops}")
    else:
        ctx.run(f"CREATE TEMP TABLE {OPS} AS WITH j AS MATERIALIZED ({ops}), c AS MATERIALIZED ({count}) "
                f"SELECT j.*, c.n AS {SOURCE_ROWS} FROM j, c")
    if ctx.run(f"SELECT count(*) FROM {OPS} WHERE {OP} = 3").fetchone()[0]:
        differs = (f"ROW({', '.join('s.' + c for c in cols)}) IS DISTINCT FROM "
                   f"ROW({', '.join('t.' + c for c in cols)})")
        match = " AND ".join(f"o.{k} = s.{k}" for k in keys)
        # Only the re-read rows' staged values (not all staged rows) meet the mirrored ones.
        on = " AND ".join(f"x.{k} = s.{k}" for k in keys)
        ctx.run(
            f"UPDATE {OPS} o SET {OP} = CASE WHEN {differs} THEN 2 ELSE 0 END FROM "
            f"(SELECT s.* FROM {staged} s SEMI JOIN (SELECT * FROM {OPS} WHERE {OP} = 3) x ON {on}) s, "
            f"(SELECT rowid AS _learnlab_rid, {', '.join(cols)} FROM {name} WHERE rowid IN "
            f"(SELECT _learnlab_rid FROM {OPS} WHERE {OP} = 3)) t "
            f"WHERE o.{OP} = 3 AND o._learnlab_rid = t._learnlab_rid AND {match}")
    inserted, updated, n_late, unchanged, counted = ctx.run(
        f"SELECT count(*) FILTER ({OP} = 1), count(*) FILTER ({OP} = 2), "
        f"count(*) FILTER ({OP} > 0 AND _learnlab_late), count(*) FILTER ({OP} = 0), "
        f"{f'any_value({SOURCE_ROWS})' if count else 'NULL'} FROM {OPS}").fetchone()
    if updated:
        ctx.run(f"DELETE FROM {name} WHERE rowid IN (SELECT _learnlab_rid FROM {OPS} WHERE {OP} = 2)")
    if inserted or updated:
        exclude = ", ".join([*HIDDEN] + ([RAW_KEY] if plan.key_hashed else []))
        match = " AND ".join(f"s.{k} = o.{k}" for k in keys)
        changed = f"SELECT s.* EXCLUDE ({exclude}) FROM {staged} s"
        if unchanged:  # (usually none: then every staged row goes in, without a join)
            changed += f" SEMI JOIN (SELECT * FROM {OPS} WHERE {OP} > 0) o ON {match}"
        with one_thread(ctx.con, inserted + updated):
            ctx.run(f"INSERT INTO {name} BY NAME {changed}")
        catchup.note_tail(ctx.appended, plan.name, *catchup.key_hash(
            ctx.con, ctx.source.name, f"SELECT {key_text(plan, 'o')} FROM {OPS} o WHERE o.{OP} > 0"))
    if inserted:
        deletes.note_keys(ctx, plan, f"SELECT {key_text(plan, 'o')} FROM {OPS} o WHERE o.{OP} = 1", +1)
    # Quality: rows read again lose their old problems; the ones still bad are recorded anew.
    quality.clear_rows(ctx, plan.name, f"SELECT {key_text(plan, 's')} FROM {staged} s")
    quality.record(ctx, plan, _bad_rows(ctx, plan, staged))
    return inserted, updated, n_late, None if counted is None else int(counted)


def _delete(ctx: Context, plan: TablePlan, gone: list[str], rowids: list[int] | None = None) -> int:
    """Delete rows by key text (and by DuckDB rowid when the caller has them: no pass over the keys)."""
    if not gone:
        return 0
    import pyarrow as pa

    name = q(plan.name)
    ctx.con.register("_learnlab_gone", pa.table({"k": pa.array(gone, pa.string())}))
    try:
        quality.clear_rows(ctx, plan.name, "SELECT k FROM _learnlab_gone")
        catchup.record(ctx.con, ctx.refresh_id, ctx.source.name, plan.name, "SELECT k FROM _learnlab_gone")
        deletes.note_keys(ctx, plan, "SELECT k FROM _learnlab_gone", -1)
        if rowids is not None:
            ctx.con.register("_learnlab_gone_rowids", pa.table({"r": pa.array(rowids, pa.int64())}))
            try:
                return int(ctx.run(f"DELETE FROM {name} WHERE rowid IN (SELECT r FROM _learnlab_gone_rowids)"
                                   ).fetchone()[0])
            finally:
                ctx.con.unregister("_learnlab_gone_rowids")
        text_key = len(plan.key) == 1 and plan.column(plan.key[0]).target_type() == "VARCHAR"
        key = f"t.{q(plan.key[0])}" if text_key else key_text(plan, "t")  # the column itself: a hash join
        n = ctx.run(f"DELETE FROM {name} t WHERE {ctx.mine(plan.name)} AND {key} IN (SELECT k FROM _learnlab_gone)"
                    ).fetchone()[0]
    finally:
        ctx.con.unregister("_learnlab_gone")
    return int(n)


# -- tables without a cursor ------------------------------------------------------------------
def diff(ctx: Context, plan: TablePlan, state: TableState) -> TableReport:
    """Read the whole table and compare: by key when there is one, as a multiset otherwise."""
    report = TableReport(ctx.source.name, plan.name, "diff")
    t0 = time.perf_counter()
    staged, report.read = stage(ctx, plan)
    forms = _forms(ctx, staged)
    name = q(plan.name)
    if plan.key:
        report.inserted, report.updated, _, _ = apply_stage(ctx, plan, staged, None)
        match = " AND ".join(f"s.{q(k)} = t.{q(k)}" for k in plan.key)
        gone = [r[0] for r in ctx.run(
            f"SELECT {key_text(plan, 't')} FROM {name} t WHERE {ctx.mine(plan.name)} AND NOT EXISTS "
            f"(SELECT 1 FROM {staged} s WHERE {match})").fetchall()]
        report.deleted = _delete(ctx, plan, gone)
    else:
        cols = ", ".join(q(c.name) for c in plan.mirrored)
        mine = f"SELECT {cols} FROM {name} WHERE {ctx.mine(plan.name)}"
        report.inserted = ctx.run(f"SELECT count(*) FROM (SELECT {cols} FROM {staged} EXCEPT ALL {mine})").fetchone()[0]
        report.deleted = ctx.run(f"SELECT count(*) FROM ({mine} EXCEPT ALL SELECT {cols} FROM {staged})").fetchone()[0]
        if report.inserted or report.deleted:
            ctx.run(f"DELETE FROM {name} WHERE {ctx.mine(plan.name)}")
            ctx.run(f"INSERT INTO {name} BY NAME SELECT * EXCLUDE ({', '.join(HIDDEN)}) FROM {staged}")
            catchup.record(ctx.con, ctx.refresh_id, ctx.source.name, plan.name, None)
            quality.clear_table(ctx, plan.name)
            quality.record(ctx, plan, _bad_rows(ctx, plan, staged))
    report.quality += quality.record_forms(ctx, plan, forms | state.forms) if forms & ~state.forms else 0
    report.rows = report.read
    report.seconds = time.perf_counter() - t0
    ctx.save(plan, state.signature, report, forms=forms | state.forms, watermark=None, watermark_id=None)
    return report


# -- helpers ------------------------------------------------------------------------------
def _bad_rows(ctx: Context, plan: TablePlan, staged: str) -> list[tuple[str, str, int]]:
    raw = f"s.{RAW_KEY}" if plan.key_hashed else key_text(plan, "s")
    return [tuple(r) for r in ctx.run(
        f"SELECT {key_text(plan, 's')}, {raw}, s.{BAD} FROM {staged} s WHERE s.{BAD} <> 0").fetchall()]


def _forms(ctx: Context, staged: str) -> int:
    return int(ctx.run(f"SELECT coalesce(bit_or({FORMS}), 0) FROM {staged}").fetchone()[0])


def _max_cursor(ctx: Context, plan: TablePlan, frm: str, params: list) -> tuple[datetime | None, str | None]:
    """The highest cursor (id as tie-break), never later than the snapshot: a clock ahead of
    ours, or a row dated in the future, must not push the watermark past rows still to come."""
    if not plan.cursor:
        return None, None
    c, k = q(plan.cursor), key_text(plan, "t")
    row = ctx.run(f"SELECT t.{c}, {k} FROM {frm} {'AND' if 'WHERE' in frm else 'WHERE'} t.{c} IS NOT NULL "
                  f"ORDER BY t.{c} DESC, {k} DESC LIMIT 1", params).fetchone()
    if row is None:
        return None, None
    at, wid = row
    now = ctx.now_naive
    return (now, None) if at > now else (at, wid)

