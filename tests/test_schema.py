"""learnlab's schema is Prisma's: same tables, columns, indexes, foreign keys; migrations agree."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.config import Settings
from learnlab.db.engine import connect
from learnlab.db.introspect import describe_schema
from learnlab.errors import MigrationError
from learnlab.migrate import (MIGRATIONS_DIR, PRISMA_MIGRATIONS_DIR, current_revision, differences, downgrade,
                              prisma_reference_schema, upgrade)

ROOT = Path(__file__).resolve().parents[1]
PRISMA_SQL = PRISMA_MIGRATIONS_DIR / "0_init" / "migration.sql"


def prisma_reference() -> dict:
    return prisma_reference_schema()


def normalised(schema: dict) -> dict:
    """pyturso rewrites stored DDL (``DEFAULT TRUE``); defaults compare case-insensitively there."""
    out = {}
    for name, t in schema.items():
        cols = [(c.name, c.type, c.notnull, (c.default or "").lower(), c.pk) for c in t.columns]
        out[name] = (cols, t.indexes, t.foreign_keys)
    return out


def test_reference_sql_is_the_spec_file():
    spec = ROOT.parent / "shared" / "spec" / "prisma-migration.sql"
    if spec.exists():
        assert spec.read_bytes() == PRISMA_SQL.read_bytes()


@pytest.mark.parametrize("driver", ["sqlite", "turso", "libsql"])
def test_migrate_creates_exactly_prismas_tables(tmp_path, driver):
    with connect(Settings(database_url=f"file:{tmp_path / 'x.db'}", driver=driver)) as db:
        upgrade(db)
    got = describe_schema(sqlite3.connect(tmp_path / "x.db"))
    reference = prisma_reference()
    assert sorted(got) == sorted(reference) and len(got) == 21
    if driver == "turso":
        assert normalised(got) == normalised(reference)
    else:
        assert got == reference  # column order, declared types, NOT NULL, defaults, pk, indexes, FKs


def test_models_metadata_is_prismas_schema():
    engine = sa.create_engine("sqlite://")
    m.metadata.create_all(engine)
    with engine.connect() as c:
        assert describe_schema(c.connection.dbapi_connection) == prisma_reference()


def test_models_and_migrations_agree(db):
    assert differences(db) == []


def test_schema_covers_every_prisma_model_field_and_enum():
    """Hold the models to the reference ``.prisma`` files: every model, scalar field, optionality, enum."""
    text = "\n".join(p.read_text() for p in sorted((ROOT / "prisma").glob("*.prisma")))
    enums = {n: re.findall(r"^\s+(\w+)\s*$", body, re.M) for n, body in re.findall(r"enum (\w+) \{(.*?)\}", text, re.S)}
    assert len(enums) == 8
    from learnlab.models.enums import ALL_ENUMS

    assert {e.__name__: [x.value for x in e] for e in ALL_ENUMS} == enums
    models = dict(re.findall(r"model (\w+) \{(.*?)\n\}", text, re.S))
    assert len(models) == 21 and set(models) == {t for t in m.metadata.tables}
    scalar = {"String", "Int", "Float", "Boolean", "DateTime", "Bytes", "Json", *enums}
    for name, body in models.items():
        fields = {}
        for fname, ftype in re.findall(r"^\s+(\w+)\s+(\w+\??(?:\[\])?)", body, re.M):
            if ftype.rstrip("?") in scalar:
                fields[fname] = ftype.endswith("?")
        table = m.metadata.tables[name]
        assert {c.name: c.nullable for c in table.columns} == fields, name


def test_initial_migration_records_prismas_baseline(db):
    with db.engine.connect() as c:
        rows = c.exec_driver_sql('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"').fetchall()
        assert current_revision(c) == "0001_init"
    assert [(r[0], r[1]) for r in rows] == [("0_init", hashlib.sha256(PRISMA_SQL.read_bytes()).hexdigest())]
    assert rows[0][2] is not None


def test_migrate_is_idempotent(db):
    report = upgrade(db)
    assert not report.changed and report.after == "0001_init"


def test_adopts_a_database_prisma_migrated(tmp_path):
    path = tmp_path / "prisma.db"
    raw = sqlite3.connect(path)
    raw.executescript(PRISMA_SQL.read_text())
    raw.execute("INSERT INTO \"User\" (id, email, \"updatedAt\") VALUES ('u1', 'a@x', '2024-01-01T00:00:00.000+00:00')")
    raw.commit()
    with connect(Settings(database_url=f"file:{path}")) as db:
        report = upgrade(db)
        assert report.adopted and report.after == "0001_init"
        assert differences(db) == []
        with db.session() as s:
            assert s.scalars(sa.select(m.User.email)).all() == ["a@x"]


def test_refuses_a_database_with_foreign_tables(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).executescript('CREATE TABLE "User" (id INTEGER PRIMARY KEY, login TEXT);')
    with connect(Settings(database_url=f"file:{path}")) as db, pytest.raises(MigrationError, match="differ from Prisma"):
        upgrade(db)


def test_downgrade_to_base_and_back(db):
    downgrade(db, "base")
    with db.engine.connect() as c:
        assert sa.inspect(c).get_table_names() == ["_prisma_migrations", "alembic_version"]
        assert c.exec_driver_sql('SELECT count(*) FROM "_prisma_migrations"').scalar() == 0
    upgrade(db)
    assert differences(db) == []


EVOLUTION = '''
"""The seed's schema-evolution example: an optional column on User."""
from alembic import op
import sqlalchemy as sa

revision = "0002_user_newfield"
down_revision = "0001_init"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("User", sa.Column("newField", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("User") as batch:
        batch.drop_column("newField")
'''


def test_schema_evolution_adds_an_optional_column_without_losing_rows(tmp_path, db):
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_user_newfield.py").write_text(textwrap.dedent(EVOLUTION))
    with db.transaction() as s:
        s.add_all([m.User(email=f"u{i}@x", name=f"U{i}") for i in range(50)])
    with db.engine.connect() as c:
        before = c.exec_driver_sql('SELECT id, email, name, "createdAt", "updatedAt" FROM "User" ORDER BY id').fetchall()
    report = upgrade(db, script_location=scripts)
    assert (report.before, report.after) == ("0001_init", "0002_user_newfield")
    with db.engine.connect() as c:
        after = c.exec_driver_sql('SELECT id, email, name, "createdAt", "updatedAt" FROM "User" ORDER BY id').fetchall()
        assert after == before and len(after) == 50
        assert c.exec_driver_sql('SELECT count(*) FROM "User" WHERE "newField" IS NULL').scalar() == 50
        cols = [r[1] for r in c.exec_driver_sql('PRAGMA table_info("User")')]
        assert cols[-1] == "newField"
