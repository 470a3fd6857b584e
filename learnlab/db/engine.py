"""Open the configured operational database: one function, whichever driver is configured.

- ``sqlite`` (development, the default): ``DATABASE_URL=file:./dev.db`` through the stdlib
  driver, WAL, foreign keys on, a busy timeout, real transactions (``BEGIN`` on begin).
- ``turso``: a local replica (``LOCAL_DB_URL``) of ``TURSO_DATABASE_URL`` through pyturso,
  pulled every ``sync_interval`` seconds in the background and pushed after each commit.
  Without a remote, ``turso`` opens the local file with pyturso's embedded engine.
- ``libsql``: ``libsql-experimental``, a local file or an embedded replica (``sync_url``)
  for servers speaking libSQL's replication protocol.

>>> db = connect(Settings(database_url="file::memory:"))  # doctest: +SKIP
>>> with db.session() as s: ...
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.orm import Session, sessionmaker

from learnlab.config import Settings
from learnlab.db import errors as db_errors
from learnlab.db.encoding import utcnow
from learnlab.db.turso import PullReport, TursoReplica
from learnlab.db.types import TIMESTAMP_FORMAT_ATTR
from learnlab.errors import DatabaseUnavailable


class _ForeignDriverDialect(SQLiteDialect_pysqlite):
    """SQLite dialect for DB-API drivers that are not ``sqlite3`` (no create_function, no isolation PRAGMA)."""

    supports_statement_cache = True
    supports_native_datetime = False

    def on_connect(self):
        return None

    def get_isolation_level(self, dbapi_connection):
        return "SERIALIZABLE"

    def set_isolation_level(self, dbapi_connection, level):
        return None


class LibsqlDialect(_ForeignDriverDialect):
    driver = "libsql_experimental"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls):
        import libsql_experimental

        return libsql_experimental


class TursoLocalDialect(_ForeignDriverDialect):
    driver = "learnlab_turso"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls):
        import turso

        return turso


# pyturso 0.8's engine fails "UPDATE/DELETE ... WHERE "User".id = ?" on a table other tables
# reference ("no such table: user": the foreign-key actions re-resolve the qualified name in
# lower case). SQLAlchemy qualifies columns that way, so drop the target's own qualifier
# when the statement has no subquery (where it could change what a name refers to).
_DML_TARGET = re.compile(r'^\s*(?:UPDATE|DELETE FROM)\s+("(?:[^"]|"")+")', re.I)


def _unqualify_dml(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool):
    m = _DML_TARGET.match(statement)
    if m and "select" not in statement.lower():
        statement = statement.replace(m.group(1) + ".", "")
    return statement, parameters


def _turso_workarounds(engine: sa.Engine) -> sa.Engine:
    event.listen(engine, "before_cursor_execute", _unqualify_dml, retval=True)
    return engine


registry.register("sqlite.libsql_experimental", __name__, "LibsqlDialect")
registry.register("sqlite.learnlab_turso", __name__, "TursoLocalDialect")


@dataclass
class Database:
    """An open operational database: its engine, sessions and, for replicas, sync."""

    settings: Settings
    engine: sa.Engine
    replica: TursoReplica | None = None
    _sessionmaker: sessionmaker = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def path(self) -> Path:
        return self.settings.database_path

    def session(self) -> Session:
        """A new ORM session (use ``with db.session() as s, s.begin(): ...``)."""
        return self._sessionmaker()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessionmaker() as s, s.begin():
            yield s

    def pull(self) -> PullReport | None:
        """Pull the remote into the replica (``None`` when not a replica)."""
        if self.replica is not None:
            return self.replica.pull()
        if self.settings.mode == "libsql" and self.settings.turso_url:
            with self.engine.connect() as c:
                c.connection.dbapi_connection.sync()
        return None

    def push(self) -> None:
        """Push local commits to the remote; ``SyncError`` (URL, never token) when it cannot."""
        if self.replica is not None:
            self.replica.push()

    def close(self) -> None:
        if self.replica is not None:
            self.replica.stop()
        self.engine.dispose()
        if self.replica is not None:
            self.replica.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _check_folder(path: Path) -> None:
    if str(path) != ":memory:" and not path.parent.exists():
        raise DatabaseUnavailable(f"cannot create the database {path}: the folder {path.parent} does not exist")


def _sqlite_engine(settings: Settings) -> sa.Engine:
    path = settings.database_path
    _check_folder(path)
    engine = sa.create_engine(f"sqlite+pysqlite:///{path}", connect_args={"timeout": settings.busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # pysqlite's own transaction handling skips DDL and SAVEPOINT: let SQLAlchemy emit BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_ms)}")
        if str(path) != ":memory:":
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _libsql_engine(settings: Settings) -> sa.Engine:
    import libsql_experimental

    path = settings.database_path
    _check_folder(path)
    kwargs: dict[str, Any] = {}
    if settings.turso_url:
        kwargs = {"sync_url": settings.turso_url, "sync_interval": settings.sync_interval}
        if settings.turso_auth_token:
            kwargs["auth_token"] = settings.turso_auth_token

    def creator() -> Any:
        try:
            conn = libsql_experimental.connect(str(path), **kwargs)
        except Exception as exc:
            where = f" of {settings.turso_url}" if settings.turso_url else ""
            text = str(exc).replace(settings.turso_auth_token or "\0", "***")
            raise DatabaseUnavailable(f"cannot open the libSQL database {path}{where}: {text}") from None
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_ms)}")
        return conn

    return sa.create_engine("sqlite+libsql_experimental://", creator=creator, poolclass=pool.QueuePool)


def _turso_engine(settings: Settings) -> tuple[sa.Engine, TursoReplica | None]:
    path = settings.database_path
    _check_folder(path)
    if not settings.turso_url:
        import turso

        def creator() -> Any:
            conn = turso.connect(str(path))
            conn.execute("PRAGMA foreign_keys = ON")
            return conn

        engine = sa.create_engine("sqlite+learnlab_turso://", creator=creator, poolclass=pool.QueuePool)
        return _turso_workarounds(engine), None
    replica = TursoReplica(path, settings.turso_url, settings.turso_auth_token)
    replica.connection()  # open (and bootstrap) now, so a bad URL fails here, clearly
    engine = sa.create_engine(
        "sqlite+learnlab_turso://",
        creator=replica.connection,
        poolclass=pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=300,
    )

    # The background puller and the application share the one connection: hold the
    # replica's lock while SQLAlchemy has it checked out, so a pull never lands mid-transaction.
    @event.listens_for(engine, "checkout")
    def _hold(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        replica.lock.acquire()
        record.info["learnlab_locked"] = record.info.get("learnlab_locked", 0) + 1

    @event.listens_for(engine, "checkin")
    def _release(dbapi_conn: Any, record: Any) -> None:
        if record.info.get("learnlab_locked"):
            record.info["learnlab_locked"] -= 1
            replica.lock.release()

    return _turso_workarounds(engine), replica


def connect(settings: Settings | None = None, *, background_sync: bool = False, **overrides: Any) -> Database:
    """Open whichever database the settings (default: the environment) configure.

    ``background_sync=True`` starts the Turso replica's pull loop on ``sync_interval``.
    """
    settings = settings.with_(**overrides) if settings is not None and overrides else settings
    settings = settings or Settings.from_env(**overrides)
    replica = None
    if settings.mode == "sqlite":
        engine = _sqlite_engine(settings)
    elif settings.mode == "libsql":
        engine = _libsql_engine(settings)
    else:
        engine, replica = _turso_engine(settings)
    setattr(engine.dialect, TIMESTAMP_FORMAT_ATTR, settings.timestamp_format)
    db_errors.install(engine)
    db = Database(settings, engine, replica)
    if replica is not None and background_sync:
        replica.start(settings.sync_interval)
    return db


def get_engine(settings: Settings | None = None, **overrides: Any) -> sa.Engine:
    """The SQLAlchemy engine for the configured database (see ``connect``)."""
    return connect(settings, **overrides).engine


def check_database_health(db: Database | None = None) -> dict[str, Any]:
    """``{"status": "healthy", "timestamp": ...}`` or ``unhealthy`` with the error, as in the seed."""
    timestamp: datetime = utcnow()
    try:
        own = db is None
        db = db or connect()
        try:
            with db.engine.connect() as c:
                c.exec_driver_sql("SELECT 1").scalar_one()
        finally:
            if own:
                db.close()
        return {"status": "healthy", "timestamp": timestamp}
    except Exception as exc:  # health checks report, they do not raise
        return {"status": "unhealthy", "error": str(exc), "timestamp": timestamp}
