"""``seed()``: write a generated platform into a migrated, empty database, fast.

Rows go through the engine's raw DB-API connection (multi-row ``INSERT`` statements run by
``executemany``, one transaction per chunk of ~50k rows), not the ORM. Generating and
writing alternate in one thread: a generating thread was tried, and it slows ``sqlite3``
(which releases and re-takes the GIL around every statement) more than it saves.

On SQLite the non-unique indexes of the seeded tables are dropped for the load and
re-created from their exact SQL afterwards, several times faster than maintaining them row
by row; unique indexes and foreign keys stay on throughout, so a bad row fails loudly. If
the load fails, the rows already written are deleted and the indexes re-created: the
database is left as it was given, migrated and empty.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Any, Callable

from learnlab.errors import LearnlabError
from seeds.scales import resolve_seed, resolve_until, resolve_users

Progress = Callable[[str, int, int], None]  # (table just written, rows written so far, estimated total)


class SeedError(LearnlabError):
    """The database cannot be seeded as asked (not migrated, not empty...)."""


@dataclass
class SeedReport:
    database: str
    users: int
    seed: int
    until: datetime
    timestamp_format: str
    skipped: bool = False
    existing_users: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    generate_seconds: dict[str, float] = field(default_factory=dict)
    write_seconds: dict[str, float] = field(default_factory=dict)
    index_seconds: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def seconds(self, table: str) -> float:
        """Time spent on ``table``: generating, writing and (re-)indexing its rows."""
        return (self.generate_seconds.get(table, 0.0) + self.write_seconds.get(table, 0.0)
                + self.index_seconds.get(table, 0.0))

    def rows_per_second(self, table: str | None = None) -> float:
        if table is None:
            return self.total_rows / self.elapsed if self.elapsed else 0.0
        s = self.seconds(table)
        return self.rows.get(table, 0) / s if s else 0.0

    def summary(self) -> str:
        if self.skipped:
            return f"{self.database} already has {self.existing_users:,} users: nothing seeded (--if-empty)"
        return (f"seeded {self.database}: {self.users:,} users, {self.total_rows:,} rows in {self.elapsed:.1f}s "
                f"({self.rows_per_second():,.0f} rows/s; seed {self.seed}, until {self.until:%Y-%m-%d})")


def seed(
    db: Any,
    *,
    users: int | None = None,
    scale: str | None = None,
    seed: int = 42,
    until: datetime | date | str | None = None,
    if_empty: bool = False,
    progress: Progress | None = None,
    batch_rows: int = 50_000,
    defer_indexes: bool | None = None,
) -> SeedReport:
    """Generate a deterministic platform (``users`` or a named ``scale``) into ``db``.

    ``db`` is a ``learnlab.db.engine.Database`` whose schema is migrated and whose tables are
    empty; with ``if_empty`` a database that already has users is left alone. The same
    ``seed``, size and ``until`` give byte-identical tables. ``progress`` is called after each
    chunk is committed. ``defer_indexes`` (default: on for SQLite) drops and re-creates the
    non-unique indexes around the load.
    """
    from seeds.generate import TABLES, Generator, insert_sql
    from seeds.population import Context

    n = resolve_users(users, scale)
    seed = resolve_seed(seed)
    until_dt = resolve_until(until)
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise SeedError(f"batch_rows must be a positive number of rows, got {batch_rows!r}")
    settings = db.settings
    report = SeedReport(settings.describe(), n, seed, until_dt, settings.timestamp_format)
    started = time.perf_counter()
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        counts = _check_database(raw, settings.describe(), TABLES)
        if counts["User"] and if_empty:
            report.skipped, report.existing_users = True, counts["User"]
            return report
        filled = [f"User ({c:,} rows)" if t == "User" else t for t, c in counts.items() if c]
        if filled:
            raise SeedError(f"{settings.describe()} is not empty (data in {', '.join(filled)}); seed an empty, "
                            "migrated database, or pass --if-empty to leave a database with users alone")
        if defer_indexes is None:
            defer_indexes = settings.mode == "sqlite"
        ctx = Context(seed, n, until_dt, settings.timestamp_format, batch_rows)
        gen = Generator(ctx)
        writer = _Writer(raw, insert_sql, report, progress)
        restore = _session_pragmas(raw)
        dropped = _drop_indexes(raw, TABLES) if defer_indexes else []
        try:
            chunks = gen.chunks()
            first = next(chunks, None)  # builds the population, so the estimate can be made
            writer.estimate = gen.estimate_rows()
            if first is not None:
                writer.write(first)
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            _empty(raw, TABLES)  # back to the empty database we were given, not a partial seed
            raise
        finally:
            try:
                _recreate_indexes(raw, dropped, report)
            finally:
                _restore_pragmas(raw, restore)
        report.generate_seconds = dict(gen.timings.seconds)
        if progress is not None:
            progress("done", writer.done, writer.done)
    if getattr(db, "replica", None) is not None:
        db.push()
    report.elapsed = time.perf_counter() - started
    return report


def _check_database(raw: Any, where: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Row counts (0 or more) of the seeded tables; ``SeedError`` when the schema is not there."""
    names = {r[0].lower() for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    if "user" not in names:
        raise SeedError(f"{where} has no User table: it is not migrated; run `learnlab migrate` first")
    missing = [t for t in tables if t.lower() not in names]
    if missing:
        raise SeedError(f"{where} lacks tables {', '.join(missing)}: run `learnlab migrate` to bring it up to date")
    from learnlab.models import metadata

    present = {r[0].lower() for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}
    lost = sorted(ix.name for t in metadata.sorted_tables for ix in t.indexes if ix.name.lower() not in present)
    if lost:
        raise SeedError(f"{where} lacks the indexes {', '.join(lost)} (an interrupted `learnlab seed`?): "
                        "start from a fresh database (delete the file, then `learnlab migrate`)")
    counts = {}
    for t in tables:
        sql = f'SELECT count(*) FROM "{t}"' if t == "User" else f'SELECT EXISTS (SELECT 1 FROM "{t}")'
        counts[t] = int(raw.execute(sql).fetchone()[0])
    return counts


def _session_pragmas(raw: Any) -> dict[str, Any]:
    """A bigger page cache for this connection while seeding; returns what to restore."""
    old: dict[str, Any] = {}
    try:
        old["cache_size"] = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute("PRAGMA cache_size = -65536")  # 64 MiB (256 MiB measured no faster, up to 751 MiB RSS)
    except Exception:  # pragma: no cover - drivers without the pragma
        pass
    return old


def _restore_pragmas(raw: Any, old: dict[str, Any]) -> None:
    for name, value in old.items():
        try:
            raw.execute(f"PRAGMA {name} = {int(value)}")
        except Exception:  # pragma: no cover
            pass


def _drop_indexes(raw: Any, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Drop the non-unique indexes of ``tables``; returns ``(table, name, sql)`` to re-create them."""
    wanted = {t.lower(): t for t in tables}
    rows = raw.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                       "ORDER BY tbl_name, name").fetchall()
    dropped = [(wanted[t.lower()], name, sql) for t, name, sql in rows
               if t.lower() in wanted and not sql.lstrip().upper().startswith("CREATE UNIQUE")]
    _begin(raw)
    try:
        for _, name, _ in dropped:
            raw.execute(f'DROP INDEX "{name}"')
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    return dropped


def _empty(raw: Any, tables: tuple[str, ...]) -> None:
    """Delete what a failed run wrote (children first); best effort, the original error matters more."""
    try:
        if getattr(raw, "in_transaction", False):
            raw.rollback()
        _begin(raw)
        for table in reversed(tables):
            raw.execute(f'DELETE FROM "{table}"')
        raw.commit()
    except BaseException:  # pragma: no cover - e.g. a second Ctrl-C
        try:
            raw.rollback()
        except Exception:
            pass


def _recreate_indexes(raw: Any, dropped: list[tuple[str, str, str]], report: SeedReport) -> None:
    if not dropped:
        return
    if getattr(raw, "in_transaction", False):
        raw.rollback()
    seconds: dict[str, float] = defaultdict(float)
    for table, _, sql in dropped:
        t0 = time.perf_counter()
        raw.execute(sql)
        seconds[table] += time.perf_counter() - t0
    report.index_seconds = dict(seconds)


def _begin(raw: Any) -> None:
    if not getattr(raw, "in_transaction", False):
        raw.execute("BEGIN")


ROWS_PER_STATEMENT = 20  # multi-row VALUES: ~25% faster than one row per statement, <= 280 parameters


class _Writer:
    """Writes chunks: one transaction each, ``executemany`` per table, in the chunk's order.

    Rows go ``ROWS_PER_STATEMENT`` at a time (``INSERT ... VALUES (...), (...), ...``), the
    remainder one by one.
    """

    def __init__(self, raw: Any, insert_sql: Callable[..., str], report: SeedReport, progress: Progress | None):
        self.raw = raw
        self.one = {}
        self.many = {}
        self.insert_sql = insert_sql
        self.report = report
        self.progress = progress
        self.done = 0
        self.estimate = 0

    def _insert(self, cur: Any, table: str, rows: list[tuple]) -> None:
        if table not in self.one:
            self.one[table] = self.insert_sql(table)
            self.many[table] = self.insert_sql(table, ROWS_PER_STATEMENT)
        k = ROWS_PER_STATEMENT
        whole = len(rows) // k * k
        if whole:
            flat = chain.from_iterable
            cur.executemany(self.many[table], [tuple(flat(rows[i:i + k])) for i in range(0, whole, k)])
        if whole < len(rows):
            cur.executemany(self.one[table], rows[whole:])

    def write(self, chunk: list[tuple[str, list[tuple]]]) -> None:
        raw, rows_by, secs = self.raw, self.report.rows, self.report.write_seconds
        timings = []
        _begin(raw)
        try:
            cur = raw.cursor()
            for table, rows in chunk:
                if not rows:
                    continue
                t0 = time.perf_counter()
                self._insert(cur, table, rows)
                timings.append((table, len(rows), time.perf_counter() - t0))
            t0 = time.perf_counter()
            raw.commit()
            commit = time.perf_counter() - t0
        except BaseException:
            raw.rollback()
            raise
        total = sum(n for _, n, _ in timings) or 1
        for table, n, s in timings:
            rows_by[table] = rows_by.get(table, 0) + n
            secs[table] = secs.get(table, 0.0) + s + commit * n / total
            self.done += n
        if self.progress is not None and timings:
            self.estimate = max(self.estimate, self.done)
            self.progress(timings[0][0], self.done, self.estimate)  # the chunk's main table
