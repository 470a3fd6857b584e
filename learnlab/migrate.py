"""Schema migrations: Alembic owns learnlab's revisions, and Prisma's history stays true.

How the two coexist on one database (see README, "Migrations"):

- ``alembic_version`` is Alembic's table, ``_prisma_migrations`` Prisma's; neither is a
  model, and autogenerate ignores both.
- Every revision that changes the schema names the Prisma migration it matches
  (``prisma_migration = "0_init"``; its SQL is ``prisma/migrations/<name>/migration.sql``)
  and records it in ``_prisma_migrations`` as applied, with Prisma's checksum (the
  SHA-256 of that file), so the app's ``prisma migrate deploy`` finds nothing to do.
- A database Prisma already migrated (its tables there, no ``alembic_version``) is
  adopted: ``learnlab migrate`` checks the tables are Prisma's ``0_init`` and stamps it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from learnlab.db.encoding import format_datetime, utcnow
from learnlab.errors import MigrationError

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = ROOT / "migrations"
PRISMA_MIGRATIONS_DIR = ROOT / "prisma" / "migrations"
BASELINE_REVISION = "0001_init"
BOOKKEEPING_TABLES = ("alembic_version", "_prisma_migrations")

PRISMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)"""


def include_object(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate compares the models only: bookkeeping and SQLite's own tables are skipped."""
    if type_ == "table" and (name in BOOKKEEPING_TABLES or name.startswith("sqlite_")):
        return False
    return True


def prisma_checksum(name: str) -> str:
    """Prisma's checksum of a migration: the SHA-256 (hex) of its ``migration.sql``."""
    path = PRISMA_MIGRATIONS_DIR / name / "migration.sql"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_prisma_migration(connection: sa.Connection, name: str) -> None:
    """Mark Prisma migration ``name`` as applied (as ``prisma migrate resolve --applied`` does)."""
    connection.exec_driver_sql(PRISMA_MIGRATIONS_DDL)
    done = connection.exec_driver_sql(
        'SELECT 1 FROM "_prisma_migrations" WHERE migration_name = ? AND rolled_back_at IS NULL', (name,)
    ).first()
    if done:
        return
    stamp = format_datetime(utcnow())
    connection.exec_driver_sql(
        'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, started_at, '
        "applied_steps_count) VALUES (?, ?, ?, ?, NULL, ?, 1)",
        (str(uuid.uuid4()), prisma_checksum(name), stamp, name, stamp),
    )


def alembic_config(connection: sa.Connection | None = None, script_location: Path | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def head_revision(script_location: Path | None = None) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(script_location=script_location)).get_current_head()


@dataclass
class MigrateReport:
    before: str | None
    after: str | None
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


def prisma_reference_schema() -> dict:
    """The tables Prisma's ``0_init`` migration creates, as ``describe_schema`` reports them."""
    import sqlite3

    from learnlab.db.introspect import describe_schema

    reference = sqlite3.connect(":memory:")
    try:
        reference.executescript((PRISMA_MIGRATIONS_DIR / "0_init" / "migration.sql").read_text())
        return describe_schema(reference)
    finally:
        reference.close()


def _is_prisma_baseline(connection: sa.Connection) -> bool:
    """Do the tables here equal what Prisma's ``0_init`` migration creates?"""
    from learnlab.db.introspect import describe_schema

    return describe_schema(connection.connection.dbapi_connection) == prisma_reference_schema()


def upgrade(db: Any, revision: str = "head", *, script_location: Path | None = None) -> MigrateReport:
    """Bring ``db`` (a ``learnlab.db.engine.Database``) to ``revision``; a replica pushes the result."""
    from alembic import command

    with db.engine.begin() as conn:
        cfg = alembic_config(conn, script_location)
        before = current_revision(conn)
        adopted = False
        if before is None and sa.inspect(conn).has_table("User"):
            if not _is_prisma_baseline(conn):
                raise MigrationError(
                    f"{db.path} already has tables that learnlab did not create and that differ from "
                    "Prisma's 0_init migration; migrate it with Prisma first, or start from an empty file"
                )
            command.stamp(cfg, BASELINE_REVISION)
            record_prisma_migration(conn, "0_init")
            adopted = True
        try:
            command.upgrade(cfg, revision)
        except Exception as exc:
            raise MigrationError(f"migrating {db.path} to {revision} failed: {exc}") from exc
        after = current_revision(conn)
    if db.replica is not None:
        db.replica.push()
    return MigrateReport(before, after, adopted)


def downgrade(db: Any, revision: str, *, script_location: Path | None = None) -> MigrateReport:
    """Take ``db`` back to ``revision`` (``base``: no tables but the bookkeeping ones)."""
    from alembic import command

    with db.engine.begin() as conn:
        cfg = alembic_config(conn, script_location)
        before = current_revision(conn)
        command.downgrade(cfg, revision)
        after = current_revision(conn)
    if db.replica is not None:
        db.replica.push()
    return MigrateReport(before, after)


def differences(db: Any) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty = in step)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from learnlab.models import metadata

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"include_object": include_object, "compare_type": True, "compare_server_default": True},
        )
        return compare_metadata(ctx, metadata)


def forget_prisma_migration(connection: sa.Connection, name: str) -> None:
    """Undo ``record_prisma_migration`` (a downgrade past the revision that matched ``name``)."""
    if sa.inspect(connection).has_table("_prisma_migrations"):
        connection.exec_driver_sql('DELETE FROM "_prisma_migrations" WHERE migration_name = ?', (name,))
