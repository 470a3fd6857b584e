"""Reading an operational database in one read transaction, as relations DuckDB can scan.

Two readers, one contract (``Source``): ``begin()`` fixes the point in time every later read
sees, ``relations(sql)`` yields DuckDB ``FROM`` fragments holding the result as VARCHAR
columns (see ``convert``), ``rows(sql)`` returns small results, ``end()`` lets go.

- ``SqliteSource``: a SQLite file, read by DuckDB's own sqlite reader (the
  ``duckdb-extension-sqlite-scanner`` package) ATTACHed read-only with a busy timeout.
  ``sqlite_query`` pushes the WHERE clause down, so SQLite uses its indexes. Every query
  runs on the one SQLite connection of the DuckDB transaction, inside one ``BEGIN``: WAL
  readers see a single snapshot and never block the app's writers.
- ``DbapiSource``: a Turso replica (or libSQL), read through its own driver while the
  replica's lock is held: the background puller and the app's statements wait, so the
  replica cannot move under the read; rows arrive in Arrow batches. Reading a Turso replica
  file with SQLite's reader instead is unsafe: Turso keeps no SQLite WAL index, so a SQLite
  connection can miss frames a pull appended (measured: a stale count after a pull).
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from learnlab.db.encoding import utcnow
from learnlab.db.introspect import TableInfo, describe_schema
from learnlab.db.introspect import quote_identifier as q
from learnlab.db.turso import PullReport
from learnlab.errors import MirrorError
from learnlab.mirror.convert import key_text, sql_text
from learnlab.mirror.plan import choose_key

Tracer = Callable[[str, Any], None]


def scanner_extension() -> Path:
    """The sqlite_scanner extension file shipped by ``duckdb-extension-sqlite-scanner``."""
    import duckdb

    try:
        import duckdb_extension_sqlite_scanner as pkg
    except ImportError:
        raise MirrorError(
            "the DuckDB sqlite reader is missing; install it with "
            f"`pip install duckdb-extension-sqlite-scanner=={duckdb.__version__}`"
        ) from None
    base = Path(pkg.__file__).parent
    found = sorted(base.rglob("sqlite_scanner.duckdb_extension"))
    exact = [p for p in found if f"v{duckdb.__version__}" in p.parts]
    if not (exact or found):
        raise MirrorError(f"no sqlite_scanner.duckdb_extension inside {base}; reinstall the package")
    return (exact or found)[0]


def load_scanner(con: Any) -> None:
    """Load the sqlite reader from the installed package (extensions cannot be downloaded here).

    On a connection opened with ``WRITER_CONFIG`` the file is loaded straight from the
    package: DuckDB then skips hashing its 33 MiB to check the signature (100 ms per load,
    per connection); the file is as trusted as DuckDB's own library beside it, which pip
    installed from the same pinned lock. Other connections install it, then load it by name.
    """
    if con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0]:
        con.execute(f"LOAD {sql_text(str(scanner_extension()))}")
        return
    installed = con.execute("SELECT installed FROM duckdb_extensions() WHERE extension_name = 'sqlite_scanner'"
                            ).fetchone()
    if not (installed and installed[0]):
        con.execute(f"INSTALL {sql_text(str(scanner_extension()))}")
    con.execute("LOAD sqlite_scanner")


# The mirror's writer connections: they load only the sqlite reader, from the package (see load_scanner).
WRITER_CONFIG = {"allow_unsigned_extensions": True}


@dataclass
class Source:
    """One operational database being mirrored; ``name`` tags its rows (``_source``)."""

    name: str
    path: Path
    tracer: Tracer | None = None
    snapshot_at: datetime | None = None
    pull_report: PullReport | None = None
    schema_version: int | None = field(default=None, repr=False)

    def trace(self, sql: str, params: Any = None) -> None:
        if self.tracer is not None:
            self.tracer(sql, params)

    # the contract ---------------------------------------------------------------------
    def begin(self, con: Any) -> None: ...
    def end(self, con: Any) -> None: ...
    def schema(self) -> dict[str, TableInfo]: ...
    def relations(self, con: Any, sql: str) -> Iterator[str]: ...
    def rows(self, con: Any, sql: str) -> list[tuple]: ...

    def scalar(self, con: Any, sql: str) -> Any:
        rows = self.rows(con, sql)
        return rows[0][0] if rows else None

    @property
    def counts_in_duckdb(self) -> bool:
        """Whether ``count_relation`` works: a DuckDB statement of the refresh can then count a
        table of the source in the snapshot, alongside its own work."""
        return False

    def count_relation(self, table: str) -> str:
        """A DuckDB ``FROM`` item giving the table's row count (column ``n``) in the snapshot."""
        raise NotImplementedError

    def has_rowid(self, con: Any, table: str) -> bool:
        """False for WITHOUT ROWID tables. Asked, not tried: a failing statement would abort
        the refresh's DuckDB transaction."""
        sql = self.scalar(con, f"SELECT sql FROM sqlite_master WHERE type = 'table' AND lower(name) = "
                               f"lower({sql_text(table)})")
        return "WITHOUT ROWID" not in " ".join(str(sql or "").upper().split())

    @property
    def text_projection(self) -> bool:
        """Whether source SQL must CAST values to TEXT itself (the scanner does it for us)."""
        return False

    @property
    def one_reader(self) -> bool:
        """Whether DuckDB reads this source's relations on one thread anyway (one SQLite
        connection); batches fetched by a driver (Arrow tables) are scanned on every thread."""
        return True

    def _stamp(self) -> None:
        now = datetime.now(timezone.utc)
        self.snapshot_at = now.replace(microsecond=now.microsecond // 1000 * 1000)


class SchemaMoved(MirrorError):
    """The source's schema changed between reading it and starting the snapshot (retry)."""


class SqliteSource(Source):
    """A SQLite file read through DuckDB's sqlite reader, in the DuckDB transaction's snapshot.

    Python's ``sqlite3`` (a different copy of SQLite, see ``worker``) touches the file only
    before the reader opens it: to check WAL mode and to read the schema.
    """

    def __init__(self, name: str, path: Path, *, busy_timeout_ms: int = 5000, tracer: Tracer | None = None):
        super().__init__(name, Path(path), tracer)
        self.busy_timeout_ms = busy_timeout_ms
        self.alias = "src_" + uuid.uuid4().hex[:8]
        self._schema: dict[str, TableInfo] | None = None
        self._version: int | None = None
        self.prepared_at: datetime | None = None
        self.attached = False
        self.last_rows: dict[str, tuple[int, str | None]] = {}
        self.rowid_tables: set[str] = set()
        self._preparing: Any = None

    def prepare(self) -> None:
        """Before ``begin``: WAL mode, the schema with its version (checked in ``begin``), and
        each table's last row with the time just before it was read (``bulk`` continues from there)."""
        if not self.path.exists():
            raise MirrorError(f"the operational database {self.path} does not exist; check DATABASE_URL")
        ensure_wal(self.path, self.busy_timeout_ms)
        self.prepared_at = utcnow()
        self._version, self._schema, self.last_rows, self.rowid_tables = self._read_schema()

    def prepare_meanwhile(self) -> None:
        """Start ``prepare`` on a thread, while the writer opens its DuckDB file (~8 ms of 21
        tables' schema hidden behind its ~40 ms); ``prepared`` waits for it. Python's SQLite
        connection is closed before the DuckDB reader opens the file (see the class doc)."""
        from concurrent.futures import Future
        from threading import Thread

        future: Future = Future()

        def run() -> None:
            try:
                self.prepare()
                future.set_result(None)
            except BaseException as exc:  # handed to ``prepared``
                future.set_exception(exc)

        Thread(target=run, name="learnlab-prepare", daemon=True).start()
        self._preparing = future

    def prepared(self) -> None:
        """``prepare`` done (raising what it raised), whether started by ``prepare_meanwhile`` or not."""
        future, self._preparing = self._preparing, None
        if future is None:
            self.prepare()
        else:
            future.result()

    def settle(self) -> None:
        """Wait for a ``prepare_meanwhile`` nobody waited for (the refresh failed first): its
        SQLite connection must not outlive the refresh (see the class doc)."""
        future, self._preparing = self._preparing, None
        if future is not None:
            future.exception()

    def detach(self, con: Any) -> None:
        """After the DuckDB transaction ends (DuckDB refuses it before)."""
        if self.attached:
            con.execute(f"DETACH {self.alias}")
            self.attached = False

    def begin(self, con: Any) -> None:
        # The source is ATTACHed only now, inside the DuckDB transaction: DuckDB starts the
        # attached database's transaction (and SQLite its snapshot) the first time any
        # statement looks at it, even an information_schema query, and the snapshot must not
        # start before ``bulk`` copies are done. The first read here starts it; the schema
        # read in ``prepare`` must belong to it (schema_version is bumped by every change).
        sql = (f"ATTACH {sql_text(str(self.path))} AS {self.alias} "
               f"(TYPE sqlite, READ_ONLY, busy_timeout {int(self.busy_timeout_ms)})")
        self.trace(sql)
        con.execute(sql)
        self.attached = True
        self.schema_version = int(self.scalar(con, "PRAGMA schema_version"))
        self._stamp()
        if self.schema_version != self._version:
            raise SchemaMoved(f"the schema of {self.path} changed while the refresh started (a migration "
                              "running?); run the refresh again when it is done")

    def has_rowid(self, con: Any, table: str) -> bool:
        return table in self.rowid_tables  # known since ``prepare``

    def _read_schema(self) -> tuple[int, dict[str, TableInfo], dict[str, tuple[int, str | None]], set[str]]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.busy_timeout_ms / 1000,
                               isolation_level=None)
        try:
            conn.execute("BEGIN")
            version = conn.execute("PRAGMA schema_version").fetchone()[0]
            schema = describe_schema(conn)
            last: dict[str, tuple[int, str | None]] = {}
            rowids: set[str] = set()
            for name, info in schema.items():
                key = choose_key(info)
                sql = f"SELECT rowid, {key_text(key)} FROM {q(name)} ORDER BY rowid DESC LIMIT 1"
                self.trace(sql)
                try:
                    row = conn.execute(sql).fetchone()
                except sqlite3.OperationalError:  # WITHOUT ROWID
                    continue
                rowids.add(name)
                if key:
                    last[name] = (int(row[0]), row[1]) if row else (0, None)
            conn.execute("COMMIT")
            return int(version), schema, last, rowids
        finally:
            conn.close()

    def schema(self) -> dict[str, TableInfo]:
        assert self._schema is not None, "begin() first"
        return self._schema

    def fragment(self, sql: str) -> str:
        return f"sqlite_query({sql_text(self.alias)}, {sql_text(sql)})"

    def relations(self, con: Any, sql: str) -> Iterator[str]:
        self.trace(sql)
        yield self.fragment(sql)

    @property
    def counts_in_duckdb(self) -> bool:
        return True

    def count_relation(self, table: str) -> str:
        sql = f"SELECT count(*) AS n FROM {q(table)}"
        self.trace(sql)
        return f"(SELECT CAST(n AS BIGINT) AS n FROM {self.fragment(sql)})"

    def rows(self, con: Any, sql: str) -> list[tuple]:
        self.trace(sql)
        return con.execute(f"SELECT * FROM {self.fragment(sql)}").fetchall()


def ensure_wal(path: Path, busy_timeout_ms: int) -> None:
    """A refresh holds a read transaction for its whole duration: in WAL mode that never blocks
    the app's writers; in rollback-journal mode it would. learnlab's engine puts every database
    it opens in WAL; a file that some other tool left in another mode is switched here."""
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                raise MirrorError(
                    f"{path} is in {mode} journal mode and could not be switched to WAL ({exc}); "
                    "a refresh would block the app's writers: stop them briefly, or run `learnlab migrate`"
                ) from None
    finally:
        conn.close()


class DbapiSource(Source):
    """A replica read through its own driver (pyturso, libsql) under the replica's lock."""

    def __init__(self, name: str, path: Path, conn: Any, *, lock: Any = None, tracer: Tracer | None = None,
                 batch_rows: int = 100_000):
        super().__init__(name, Path(path), tracer)
        self.conn = conn
        self.lock = lock
        self.batch_rows = batch_rows
        self._held: Any = None
        self._schema: dict[str, TableInfo] | None = None

    @property
    def text_projection(self) -> bool:
        return True

    @property
    def one_reader(self) -> bool:
        return False

    def begin(self, con: Any) -> None:
        self._held = self.lock if self.lock is not None else nullcontext()
        self._held.__enter__()
        try:
            self.conn.execute("BEGIN")
            self.schema_version = int(self.conn.execute("PRAGMA schema_version").fetchone()[0])
            self._stamp()
            self._schema = describe_schema(self.conn)
        except BaseException:
            self.end(con)
            raise

    def end(self, con: Any) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except Exception:  # no transaction open (begin failed early)
            pass
        finally:
            if self._held is not None:
                held, self._held = self._held, None
                held.__exit__(None, None, None)

    def schema(self) -> dict[str, TableInfo]:
        assert self._schema is not None, "begin() first"
        return self._schema

    def relations(self, con: Any, sql: str) -> Iterator[str]:
        import pyarrow as pa

        self.trace(sql)
        cur = self.conn.execute(sql)
        names = [d[0] for d in cur.description]
        schema = pa.schema([(n, pa.string()) for n in names])
        first = True
        while True:
            batch = cur.fetchmany(self.batch_rows)
            if not batch and not first:
                break
            first = False
            cols = list(zip(*batch)) if batch else [()] * len(names)
            table = pa.Table.from_arrays([pa.array(_texts(c), pa.string()) for c in cols], schema=schema)
            view = "_learnlab_batch_" + uuid.uuid4().hex[:8]
            con.register(view, table)
            try:
                yield view
            finally:
                con.unregister(view)
            if len(batch) < self.batch_rows:
                break

    def rows(self, con: Any, sql: str) -> list[tuple]:
        self.trace(sql)
        return [tuple(None if v is None else str(v) for v in r) for r in self.conn.execute(sql).fetchall()]


def _texts(values: tuple) -> list:
    # The projection already CASTs to TEXT; drivers may still hand back bytes for odd text.
    return [v if v is None or isinstance(v, str) else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
            for v in values]
