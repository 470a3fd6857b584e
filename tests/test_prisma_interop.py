"""learnlab and the real Prisma Client 7 on one database, both ways (no mocks).

Prisma Client is generated offline from ``prisma/*.prisma`` (``tests/node/generate.mjs``)
and driven through ``tests/node/interop.mjs`` with the ``@prisma/adapter-libsql`` adapter,
as the app runs it. Every test runs with both of the adapter's ``timestampFormat`` values,
learnlab configured alike (``Settings(timestamp_format=...)``).

- Prisma writes, learnlab reads (ORM): same values, ids, one timestamp per write.
- learnlab writes (ORM, ``db.transaction()``), Prisma reads: same values, and Prisma's
  DateTime filters (``gte``/``lt``/equality, which compare the stored form) find exactly
  the right rows.
- The same values written by each are stored identically (``typeof(col), col``).
- ``@updatedAt``: each side refreshes it, the other sees it, ``updatedAt > t`` finds it.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import struct
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from learnlab.config import Settings
from learnlab.db.encoding import JSON_NULL, ulid_time
from learnlab.db.engine import Database, connect
from learnlab.db.types import PrismaBoolean, PrismaDateTime, PrismaJson
from learnlab.migrate import upgrade
from learnlab.models import (
    AIUsage,
    Challenge,
    Document,
    DocumentChunk,
    Image,
    RagQuery,
    Session,
    Subscription,
    Team,
    TeamMember,
    TeamSettings,
    User,
    UserChallenge,
)

pytestmark = pytest.mark.prisma

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "tests" / "node"
FORMATS = ("iso8601", "unixepoch-ms")

ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
CUID_RE = re.compile(r"^c[a-z0-9]{24}$")
STORED_DATETIME_RE = {
    "iso8601": ("text", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")),
    "unixepoch-ms": ("integer", re.compile(r"^-?\d+$")),
}


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Talking to Prisma: tagged JSON both ways (see tests/node/interop.mjs)


@dataclass(frozen=True)
class Ref:
    """The id of an earlier row of the scenario."""

    name: str


def to_wire(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": f"{value.name}.id"}
    if value is JSON_NULL:
        return {"$json": "JsonNull"}
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return {"$date": f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == "$date":
                return v if v == "Invalid Date" else dt(v)
            if k == "$bytes":
                return base64.b64decode(v)
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


class PrismaClient:
    """Runs a list of Prisma Client operations on a database file (one ``node`` process per call)."""

    def __init__(self, node: str):
        self.node = node

    def run(self, db: Database | Path, timestamp_format: str, ops: list[dict]) -> dict[str, Any]:
        path = db.path if isinstance(db, Database) else db
        proc = subprocess.run(
            [self.node, str(NODE_DIR / "interop.mjs"), "run", str(path), timestamp_format],
            input=json.dumps(to_wire(ops)), capture_output=True, text=True, timeout=120, cwd=NODE_DIR, check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"Prisma Client failed:\n{proc.stderr.strip()}")
        return from_wire(json.loads(proc.stdout))


_generated = False


@pytest.fixture
def prisma(node: str) -> PrismaClient:
    """Prisma Client, generated (once, offline, only if the schema changed) from ``prisma/*.prisma``."""
    global _generated
    if not _generated:
        proc = subprocess.run(
            [node, str(NODE_DIR / "generate.mjs")], capture_output=True, text=True, timeout=300, cwd=NODE_DIR, check=False
        )
        if proc.returncode != 0:
            pytest.fail(f"generating Prisma Client failed (run ./dev setup --test):\n{proc.stdout}{proc.stderr}")
        _generated = True
    return PrismaClient(node)


@pytest.fixture(params=FORMATS)
def timestamp_format(request) -> str:
    return request.param


@pytest.fixture
def settings(tmp_path: Path, timestamp_format: str) -> Settings:
    """conftest's ``settings`` with the DateTime form under test (used by its ``db`` fixture)."""
    return Settings(database_url=f"file:{tmp_path / 'dev.db'}", timestamp_format=timestamp_format)


@pytest.fixture
def other_db(tmp_path: Path, settings: Settings):
    """A second database migrated by learnlab, with the same settings."""
    database = connect(settings.with_(database_url=f"file:{tmp_path / 'other.db'}"))
    upgrade(database)
    yield database
    database.close()


# --------------------------------------------------------------------------------------------
# The scenario: rows of several models with distinctive values, written by either side

EMBEDDING = struct.pack("<3f", 0.25, -1.5, 3.0)  # little-endian float32, as the schema says
METADATA = {
    "model": "all-MiniLM-L6-v2",
    "dim": 3,
    "score": 0.25,
    "nested": {"tags": ["intro", "engines"], "ok": True, "none": None, "n": -7, "ratio": 2.5},
    "text": 'Ünïcödé ✓ "quoted" \\ / \n\t',
}


@dataclass
class Row:
    name: str
    model: type
    fields: dict[str, Any] = field(default_factory=dict)  # column name -> value (Ref for foreign keys)


SCENARIO = [
    Row("ada", User, {
        "email": "ada@example.com", "name": "Ada Lovelace", "username": "ada",
        "imageUrl": "https://img.example/ada.png", "isSubscribed": True, "plan": "pro",
        "subscriptionType": "team", "lastSeenAt": dt("2024-05-06T07:08:09.678+00:00"),
    }),
    Row("bob", User, {"email": "bob@example.com"}),  # every default
    Row("session", Session, {"userId": Ref("ada"), "expirationDate": dt("2024-06-01T00:00:00+00:00")}),
    Row("team", Team, {"name": "Analytical Engines", "description": "Ünïcödé ✓"}),
    Row("settings", TeamSettings, {
        "teamId": Ref("team"), "allowMemberInvites": True, "defaultRole": "admin", "aiMonthlyBudgetCents": 5000,
    }),
    Row("member", TeamMember, {"userId": Ref("ada"), "teamId": Ref("team"), "role": "owner"}),
    Row("subscription", Subscription, {
        "subscriptionId": "sub_polar_123", "teamId": Ref("team"), "status": "past_due", "type": "team",
        "plan": "premium", "amount": 4900, "currentPeriodStart": dt("2024-05-01T00:00:00+00:00"),
        "currentPeriodEnd": dt("2024-05-31T23:59:59.999+00:00"),
    }),
    Row("team_image", Image, {"fileKey": "teams/ae.png", "filePath": "teams", "altText": "logo", "teamId": Ref("team")}),
    Row("user_image", Image, {"fileKey": "users/ada.png", "userId": Ref("ada")}),
    Row("doc", Document, {"title": "Notes on the Analytical Engine", "content": "Note G."}),
    Row("chunk_object", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 0, "content": "c0", "embedding": EMBEDDING, "metadata": METADATA,
    }),
    Row("chunk_int", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 1, "content": "c1", "chunkType": "CODE", "embedding": b"",
        "metadata": 42,
    }),
    Row("chunk_real", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 2, "content": "c2", "chunkType": "HEADING", "embedding": EMBEDDING,
        "metadata": 2.5,
    }),
    Row("chunk_string", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 3, "content": "c3", "chunkType": "TABLE", "embedding": EMBEDDING,
        "metadata": "hello",
    }),
    Row("chunk_bool", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 4, "content": "c4", "embedding": EMBEDDING, "metadata": True,
    }),
    Row("chunk_list", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 5, "content": "c5", "embedding": EMBEDDING,
        "metadata": [1, "two", 3.5, None, {"k": []}],
    }),
    Row("chunk_json_null", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 6, "content": "c6", "embedding": EMBEDDING, "metadata": JSON_NULL,
    }),
    Row("chunk_db_null", DocumentChunk, {
        "documentId": Ref("doc"), "chunkIndex": 7, "content": "c7", "embedding": EMBEDDING, "metadata": None,
    }),
    Row("usage", AIUsage, {
        "userId": Ref("ada"), "type": "code_review", "model": "gpt-4o-mini", "prompt": "Review this",
        "response": "LGTM", "tokensUsed": 1234, "costInCents": 7, "success": False, "errorMessage": "timeout",
        "usageMonth": "2024-05",
    }),
    Row("usage_defaults", AIUsage, {"userId": Ref("bob"), "prompt": "Hi", "usageMonth": "2024-05"}),
    Row("challenge", Challenge, {
        "title": "One small step", "description": "Pre-1970 dates are negative ms.", "difficulty": "expert",
        "startDate": dt("1969-07-20T20:17:40.123+00:00"), "endDate": dt("2024-12-31T23:59:59.999+00:00"),
        "isActive": False,
    }),
    Row("participation", UserChallenge, {
        "userId": Ref("ada"), "challengeId": Ref("challenge"), "score": 99,
        "completedAt": datetime.fromisoformat("2024-05-06T09:08:09+02:00"),  # the same instant, stored in UTC
    }),
    Row("rag", RagQuery, {
        "userId": Ref("ada"), "aiUsageId": Ref("usage"), "query": "What is Note G?", "embedder": "minilm",
        "k": 5, "latencyMs": 3.0, "feedback": -1,
    }),
    # Every timestamp given: stored exactly alike by both sides.
    Row("team_dated", Team, {
        "name": "Dated", "createdAt": dt("2024-02-29T12:00:00.001+00:00"),
        "updatedAt": dt("2024-03-01T00:00:00.000+00:00"),
    }),
]


def columns(model: type) -> dict[str, tuple[str, Any]]:
    """column name -> (ORM attribute name, column type)."""
    return {p.columns[0].name: (p.key, p.columns[0].type) for p in sa.inspect(model).column_attrs}


def learnlab_write(db: Database, rows: list[Row]) -> dict[str, str]:
    """Write ``rows`` with learnlab's ORM in one transaction; their ids by name."""
    ids: dict[str, str] = {}
    with db.transaction() as s:
        for row in rows:
            cols = columns(row.model)
            kwargs = {cols[c][0]: ids[v.name] if isinstance(v, Ref) else v for c, v in row.fields.items()}
            obj = row.model(**kwargs)
            s.add(obj)
            s.flush()
            ids[row.name] = obj.id
    return ids


def prisma_data(row: Row) -> dict[str, Any]:
    data = {}
    for col, value in row.fields.items():
        if value is None and isinstance(columns(row.model)[col][1], PrismaJson):
            value = {"$json": "DbNull"}  # SQL NULL in a Json column is Prisma's DbNull
        data[col] = value
    return data


def prisma_write(prisma: PrismaClient, db: Database | Path, fmt: str, rows: list[Row]) -> dict[str, dict]:
    ops = [{"name": r.name, "model": r.model.__name__, "op": "create", "args": {"data": prisma_data(r)}} for r in rows]
    return prisma.run(db, fmt, ops)


def prisma_read(prisma: PrismaClient, db: Database, fmt: str, rows: list[Row], ids: dict[str, str]) -> dict[str, dict]:
    ops = [
        {"name": r.name, "model": r.model.__name__, "op": "findUnique", "args": {"where": {"id": ids[r.name]}}}
        for r in rows
    ]
    return prisma.run(db, fmt, ops)


def learnlab_read(db: Database, model: type, id_: str) -> dict[str, Any]:
    """A row as learnlab's models read it, by column name."""
    with db.session() as s:
        obj = s.get(model, id_)
        assert obj is not None, f"learnlab finds no {model.__name__} {id_}"
        return {c: getattr(obj, attr) for c, (attr, _) in columns(model).items()}


def raw_row(db: Database | Path, table: str, id_: str) -> dict[str, tuple[str, Any]]:
    """``typeof(col), col`` of every column of a row, straight from the file."""
    path = db.path if isinstance(db, Database) else db
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        select = ", ".join(f'typeof("{c}"), "{c}"' for c in cols)
        values = con.execute(f'SELECT {select} FROM "{table}" WHERE id = ?', (id_,)).fetchone()
    finally:
        con.close()
    assert values is not None, f"no {table} row {id_}"
    return {c: (values[2 * i], values[2 * i + 1]) for i, c in enumerate(cols)}


def same_value(col_type: Any, learnlab_value: Any, prisma_value: Any) -> bool:
    """Does learnlab's reading of a column equal Prisma Client's (Json nulls are both ``null`` in Prisma)?"""
    if isinstance(col_type, PrismaJson) and learnlab_value in (None, JSON_NULL):
        return prisma_value is None
    if isinstance(col_type, PrismaBoolean) and not isinstance(learnlab_value, bool):
        return False
    return (learnlab_value is None) == (prisma_value is None) and learnlab_value == prisma_value


def expected(row: Row, ids: dict[str, str]) -> dict[str, Any]:
    return {c: ids[v.name] if isinstance(v, Ref) else v for c, v in row.fields.items()}


def check_ids_and_write_time(row: Row, values: dict[str, Any], who: str) -> None:
    """ULID ids (cuid for Image) whose time is the write's, give or take the few ms Prisma allows itself.

    Prisma makes the ULID just before the statement's ``now()``, which it computes once: the
    defaulted DateTime columns of a row it creates are equal. (learnlab's version of that rule
    is checked deterministically by ``test_one_timestamp_per_write_like_prisma``.)
    """
    id_ = values["id"]
    if row.model is Image:
        assert CUID_RE.match(id_), f"{who} {row.name}: {id_!r} is not a cuid"
        return
    assert ULID_RE.match(id_), f"{who} {row.name}: {id_!r} is not a ULID"
    table = row.model.__table__
    defaulted = [
        c for c, (_, t) in columns(row.model).items()
        if isinstance(t, PrismaDateTime) and c not in row.fields and table.c[c].default is not None
    ]
    times = {values[c] for c in defaulted}
    if who == "Prisma":
        assert len(times) <= 1, f"{who} {row.name}: one write, several now() values: {times}"
    for at in times:
        assert timedelta(0) <= at - ulid_time(id_) < timedelta(seconds=2), f"{who} {row.name}: {at} vs ULID {id_}"


# --------------------------------------------------------------------------------------------
# (a) Prisma writes, learnlab reads


def test_prisma_writes_learnlab_reads(db: Database, prisma: PrismaClient, timestamp_format: str) -> None:
    written = prisma_write(prisma, db, timestamp_format, SCENARIO)
    ids = {name: row["id"] for name, row in written.items()}
    problems = []
    for row in SCENARIO:
        mine = learnlab_read(db, row.model, ids[row.name])
        theirs = written[row.name]
        for col, (_, col_type) in columns(row.model).items():
            if not same_value(col_type, mine[col], theirs[col]):
                problems.append(f"{row.name}.{col}: Prisma wrote {theirs[col]!r}, learnlab reads {mine[col]!r}")
        for col, value in expected(row, ids).items():
            if mine[col] != value:
                problems.append(f"{row.name}.{col}: given {value!r}, learnlab reads {mine[col]!r}")
        check_ids_and_write_time(row, mine, "Prisma")
    assert not problems, "\n".join(problems)

    # Json nulls: Prisma.JsonNull is JSON null (learnlab's JSON_NULL), DbNull is SQL NULL (None).
    assert learnlab_read(db, DocumentChunk, ids["chunk_json_null"])["metadata"] is JSON_NULL
    assert learnlab_read(db, DocumentChunk, ids["chunk_db_null"])["metadata"] is None
    # Enums come back as learnlab's enum members, booleans as bool, REAL as float.
    ada = learnlab_read(db, User, ids["ada"])
    assert type(ada["plan"]).__name__ == "Plan" and ada["isSubscribed"] is True
    assert learnlab_read(db, AIUsage, ids["usage_defaults"])["success"] is True
    assert isinstance(learnlab_read(db, RagQuery, ids["rag"])["latencyMs"], float)
    assert struct.unpack("<3f", learnlab_read(db, DocumentChunk, ids["chunk_object"])["embedding"]) == (0.25, -1.5, 3.0)


# --------------------------------------------------------------------------------------------
# (b) learnlab writes, Prisma reads


def test_learnlab_writes_prisma_reads(db: Database, prisma: PrismaClient, timestamp_format: str) -> None:
    ids = learnlab_write(db, SCENARIO)
    theirs = prisma_read(prisma, db, timestamp_format, SCENARIO, ids)
    problems = []
    for row in SCENARIO:
        mine = learnlab_read(db, row.model, ids[row.name])
        check_ids_and_write_time(row, mine, "learnlab")
        got = theirs[row.name]
        if got is None:
            problems.append(f"{row.name}: Prisma finds no {row.model.__name__} {ids[row.name]}")
            continue
        for col, (_, col_type) in columns(row.model).items():
            if not same_value(col_type, mine[col], got[col]):
                problems.append(f"{row.name}.{col}: learnlab wrote {mine[col]!r}, Prisma reads {got[col]!r}")
        for col, value in expected(row, ids).items():
            want = None if value is JSON_NULL else value
            if got[col] != want:
                problems.append(f"{row.name}.{col}: given {value!r}, Prisma reads {got[col]!r}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# DateTime filters: they compare the stored form, so they only work when both sides store alike

MAY, JUNE = dt("2024-05-01T00:00:00+00:00"), dt("2024-06-01T00:00:00+00:00")
RANGE_ROWS = {  # name -> createdAt; the bounds themselves are included (gte) and excluded (lt)
    "april_last_ms": dt("2024-04-30T23:59:59.999+00:00"),
    "may_first": MAY,
    "may_mid": dt("2024-05-15T12:30:00.5+00:00"),
    "may_last_ms": dt("2024-05-31T23:59:59.999+00:00"),
    "june_first": JUNE,
    "pre_epoch": dt("1969-12-31T23:59:59.999+00:00"),
}
IN_MAY = ["may_first", "may_mid", "may_last_ms"]


def range_rows() -> list[Row]:
    rows = [Row("owner", User, {"email": "range@example.com"})]
    for name, at in RANGE_ROWS.items():
        rows.append(Row(name, AIUsage, {
            "userId": Ref("owner"), "prompt": name, "usageMonth": f"{at:%Y-%m}", "createdAt": at, "updatedAt": at,
        }))
    return rows


def range_ops() -> list[dict]:
    def find(name, where):
        return {"name": name, "model": "AIUsage", "op": "findMany",
                "args": {"where": where, "orderBy": {"createdAt": "asc"}, "select": {"prompt": True}}}

    return [
        find("may", {"createdAt": {"gte": MAY, "lt": JUNE}}),
        find("may_closed", {"createdAt": {"gte": MAY, "lte": RANGE_ROWS["may_last_ms"]}}),
        find("equal", {"createdAt": RANGE_ROWS["may_mid"]}),
        find("before_epoch", {"createdAt": {"lt": dt("1970-01-01T00:00:00+00:00")}}),
        find("from_june", {"createdAt": {"gte": JUNE}}),
        find("all", {}),
    ]


RANGE_EXPECTED = {
    "may": IN_MAY,
    "may_closed": IN_MAY,
    "equal": ["may_mid"],
    "before_epoch": ["pre_epoch"],
    "from_june": ["june_first"],
    "all": ["pre_epoch", "april_last_ms", *IN_MAY, "june_first"],
}


def test_prisma_date_filters_find_learnlab_rows(db: Database, prisma: PrismaClient, timestamp_format: str) -> None:
    learnlab_write(db, range_rows())
    found = prisma.run(db, timestamp_format, range_ops())
    assert {k: [r["prompt"] for r in v] for k, v in found.items()} == RANGE_EXPECTED


def test_learnlab_date_filters_find_prisma_rows(db: Database, prisma: PrismaClient, timestamp_format: str) -> None:
    prisma_write(prisma, db, timestamp_format, range_rows())
    with db.session() as s:
        def prompts(*where):
            return list(s.scalars(sa.select(AIUsage.prompt).where(*where).order_by(AIUsage.createdAt)))

        assert prompts(AIUsage.createdAt >= MAY, AIUsage.createdAt < JUNE) == IN_MAY
        assert prompts(AIUsage.createdAt == RANGE_ROWS["may_mid"]) == ["may_mid"]
        assert prompts(AIUsage.createdAt < dt("1970-01-01T00:00:00+00:00")) == ["pre_epoch"]
        assert prompts() == RANGE_EXPECTED["all"]


# --------------------------------------------------------------------------------------------
# The stored forms: the same values, written by each side, are the same bytes in the file


def test_stored_forms_match_prisma(db: Database, other_db: Database, prisma: PrismaClient, timestamp_format: str) -> None:
    mine_ids = learnlab_write(db, SCENARIO)
    theirs_ids = {n: r["id"] for n, r in prisma_write(prisma, other_db, timestamp_format, SCENARIO).items()}
    kind, shape = STORED_DATETIME_RE[timestamp_format]
    problems = []
    for row in SCENARIO:
        table = row.model.__table__
        mine = raw_row(db, table.name, mine_ids[row.name])
        theirs = raw_row(other_db, table.name, theirs_ids[row.name])
        for col, (_, col_type) in columns(row.model).items():
            given = row.fields.get(col, "<default>")
            if col == "id":
                id_re = CUID_RE if row.model is Image else ULID_RE
                if mine[col][0] != "text" or not id_re.match(mine[col][1]):
                    problems.append(f"{row.name}.id: learnlab stored {mine[col]!r}")
                continue
            if isinstance(given, Ref):
                if mine[col] != ("text", mine_ids[given.name]) or theirs[col] != ("text", theirs_ids[given.name]):
                    problems.append(f"{row.name}.{col}: foreign key stored {mine[col]!r} vs Prisma {theirs[col]!r}")
                continue
            if isinstance(col_type, PrismaDateTime) and given == "<default>" and table.c[col].default is not None:
                # now(): compare the form, not the value (each side wrote at its own time)
                for who, stored in (("learnlab", mine[col]), ("Prisma", theirs[col])):
                    if stored[0] != kind or not shape.match(str(stored[1])):
                        problems.append(f"{row.name}.{col}: {who} stored {stored!r}, not the {timestamp_format} form")
                continue
            if mine[col] != theirs[col]:
                problems.append(f"{row.name}.{col} = {given!r}: learnlab stored {mine[col]!r}, Prisma {theirs[col]!r}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# (d) @updatedAt: refreshed by whoever updates, seen by the other, found by `updatedAt > t`

OLD = dt("2024-01-01T00:00:00+00:00")
CUTOFF = OLD + timedelta(days=1)


def test_updated_at_refresh_both_ways(db: Database, prisma: PrismaClient, timestamp_format: str) -> None:
    dated = {"createdAt": OLD, "updatedAt": OLD}
    ids = learnlab_write(db, [
        Row("by_prisma", Team, {"name": "t1", **dated}),
        Row("bulk_by_learnlab", Team, {"name": "t2", **dated}),
        Row("untouched", Team, {"name": "t4", **dated}),
    ])
    first = prisma.run(db, timestamp_format, [
        {"name": "created", "model": "Team", "op": "create", "args": {"data": {"name": "t3", **dated}}},
        {"name": "updated", "model": "Team", "op": "update",
         "args": {"where": {"id": ids["by_prisma"]}, "data": {"name": "t1 renamed by Prisma"}}},
    ])
    assert first["created"]["updatedAt"] == OLD, "Prisma keeps an explicit updatedAt on create"
    ids["orm_by_learnlab"] = first["created"]["id"]
    prisma_updated_at = first["updated"]["updatedAt"]
    assert prisma_updated_at > CUTOFF

    t1 = learnlab_read(db, Team, ids["by_prisma"])
    assert (t1["name"], t1["createdAt"], t1["updatedAt"]) == ("t1 renamed by Prisma", OLD, prisma_updated_at)

    with db.transaction() as s:
        s.get(Team, ids["orm_by_learnlab"]).name = "t3 renamed by learnlab"
    with db.transaction() as s:
        s.execute(sa.update(Team).where(Team.id == ids["bulk_by_learnlab"]).values(description="bulk"))

    names = ["by_prisma", "bulk_by_learnlab", "orm_by_learnlab", "untouched"]
    mine = {n: learnlab_read(db, Team, ids[n]) for n in names}
    for n in ("orm_by_learnlab", "bulk_by_learnlab"):
        assert mine[n]["updatedAt"] > CUTOFF and mine[n]["createdAt"] == OLD, n
    assert mine["untouched"]["updatedAt"] == OLD

    kind, shape = STORED_DATETIME_RE[timestamp_format]
    for n in names:
        stored = raw_row(db, "Team", ids[n])["updatedAt"]
        assert stored[0] == kind and shape.match(str(stored[1])), f"{n}.updatedAt stored as {stored!r}"

    second = prisma.run(db, timestamp_format, [
        *({"name": n, "model": "Team", "op": "findUnique", "args": {"where": {"id": ids[n]}}} for n in names),
        {"name": "changed", "model": "Team", "op": "findMany",
         "args": {"where": {"updatedAt": {"gt": CUTOFF}}, "orderBy": {"name": "asc"}, "select": {"id": True}}},
    ])
    for n in names:
        assert second[n]["updatedAt"] == mine[n]["updatedAt"], n
        assert second[n]["name"] == mine[n]["name"] and second[n]["description"] == mine[n]["description"]
    assert {r["id"] for r in second["changed"]} == {ids[n] for n in names if n != "untouched"}
    with db.session() as s:
        assert set(s.scalars(sa.select(Team.id).where(Team.updatedAt > CUTOFF))) == {
            ids[n] for n in names if n != "untouched"
        }


# --------------------------------------------------------------------------------------------
# One timestamp per write, as Prisma does it


@pytest.mark.parametrize("timestamp_format", ["iso8601"])
def test_one_timestamp_per_write_like_prisma(
    db: Database, prisma: PrismaClient, timestamp_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prisma computes ``now()`` once per create: ``createdAt == updatedAt == lastSeenAt``.

    learnlab promises the same (and the ULID's time too). Its clock is made to move on by
    1 ms at every reading, so that a second reading within one write cannot go unnoticed.
    """
    theirs = prisma.run(db, timestamp_format, [
        {"name": "user", "model": "User", "op": "create", "args": {"data": {"email": "prisma@example.com"}}},
        {"name": "member", "model": "TeamMember", "op": "create", "args": {"data": {
            "role": "admin", "user": {"connect": {"id": {"$ref": "user.id"}}},
            "team": {"create": {"name": "nested create"}},
        }}},
    ])
    u = theirs["user"]
    assert u["createdAt"] == u["updatedAt"] == u["lastSeenAt"]
    assert theirs["member"]["joinedAt"] == theirs["member"]["updatedAt"]

    from learnlab.models import base

    start, ticks = base.utcnow(), iter(range(10_000))
    monkeypatch.setattr(base, "utcnow", lambda: start + timedelta(milliseconds=next(ticks)))
    ids = learnlab_write(db, [
        Row("user", User, {"email": "learnlab@example.com"}),
        Row("team", Team, {"name": "t"}),
        Row("member", TeamMember, {"userId": Ref("user"), "teamId": Ref("team")}),
    ])
    mine = learnlab_read(db, User, ids["user"])
    member = learnlab_read(db, TeamMember, ids["member"])
    assert (mine["createdAt"], mine["updatedAt"], mine["lastSeenAt"], ulid_time(ids["user"])) == (
        (mine["createdAt"],) * 4
    ), "learnlab took several timestamps for one INSERT (Prisma takes one)"
    assert member["joinedAt"] == member["updatedAt"] == ulid_time(ids["member"])


# --------------------------------------------------------------------------------------------
# Values Python spells differently from JavaScript


@pytest.mark.parametrize("timestamp_format", ["iso8601"])
def test_json_numbers_stored_as_prisma_does(
    db: Database, other_db: Database, prisma: PrismaClient, timestamp_format: str
) -> None:
    """Json is stored as JavaScript spells it; Prisma's Json ``equals`` filter compares that text.

    A Python float that is whole (``1.0``) or small (``1e-05``) is the same JSON number as
    JavaScript's ``1`` / ``0.00001``, but spelt differently.
    """
    metadata = {"model": "all-MiniLM-L6-v2", "dim": 384, "norm": 1.0, "minScore": 1e-05}
    rows = [
        Row("doc", Document, {"title": "t", "content": "c"}),
        Row("chunk", DocumentChunk, {
            "documentId": Ref("doc"), "chunkIndex": 0, "content": "c", "embedding": EMBEDDING, "metadata": metadata,
        }),
    ]
    mine = learnlab_write(db, rows)
    theirs = prisma_write(prisma, other_db, timestamp_format, rows)
    stored_by_prisma = raw_row(other_db, "DocumentChunk", theirs["chunk"]["id"])["metadata"]
    stored_by_learnlab = raw_row(db, "DocumentChunk", mine["chunk"])["metadata"]
    found = prisma.run(db, timestamp_format, [{"name": "equal", "model": "DocumentChunk", "op": "findMany", "args": {
        "where": {"metadata": {"equals": metadata}}, "select": {"id": True},
    }}])
    assert learnlab_read(db, DocumentChunk, mine["chunk"])["metadata"] == metadata
    assert (stored_by_learnlab, [r["id"] for r in found["equal"]]) == (stored_by_prisma, [mine["chunk"]]), (
        "learnlab's Json text differs from Prisma's for the same value, and Prisma's equals filter misses the row"
    )


def test_early_dates_stored_as_prisma_does(
    db: Database, other_db: Database, prisma: PrismaClient, timestamp_format: str
) -> None:
    """Years before 1000 (``datetime.min`` as a 'since forever' sentinel): Prisma writes ``0001-01-01T...``."""
    rows = [Row("challenge", Challenge, {
        "title": "sentinels", "description": "d", "difficulty": "beginner",
        "startDate": datetime(1, 1, 1, tzinfo=UTC), "endDate": datetime(999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    })]
    mine = learnlab_write(db, rows)["challenge"]
    theirs = prisma_write(prisma, other_db, timestamp_format, rows)["challenge"]
    assert theirs["startDate"] == rows[0].fields["startDate"] and theirs["endDate"] == rows[0].fields["endDate"]
    for col in ("startDate", "endDate"):
        stored_by_learnlab = raw_row(db, "Challenge", mine)[col]
        stored_by_prisma = raw_row(other_db, "Challenge", theirs["id"])[col]
        assert stored_by_learnlab == stored_by_prisma, f"{col}: learnlab stored {stored_by_learnlab}, Prisma {stored_by_prisma}"
    assert learnlab_read(db, Challenge, mine)["startDate"] == rows[0].fields["startDate"]
    back = prisma_read(prisma, db, timestamp_format, rows, {"challenge": mine})["challenge"]
    assert (back["startDate"], back["endDate"]) == (rows[0].fields["startDate"], rows[0].fields["endDate"])


# --------------------------------------------------------------------------------------------
# (e) rows the real Prisma Client wrote reach the DuckDB mirror with the same values


def test_prisma_rows_reach_the_mirror_with_the_same_values(
    db: Database, prisma: PrismaClient, timestamp_format: str, tmp_path: Path
) -> None:
    import duckdb

    from learnlab.mirror import MirrorOptions, refresh

    written = prisma_write(prisma, db, timestamp_format, SCENARIO)
    ids = {name: row["id"] for name, row in written.items()}
    keep_all = MirrorOptions().with_privacy(**{"User.email": "keep", "User.name": "keep", "User.username": "keep",
                                               "Session.id": "keep"})
    report = refresh(db.settings, tmp_path / "mirror.duckdb", options=keep_all)
    assert report.total("inserted") == len(SCENARIO)
    con = duckdb.connect(str(tmp_path / "mirror.duckdb"), read_only=True)
    problems = []
    for row in SCENARIO:
        mine = learnlab_read(db, row.model, ids[row.name])
        table = row.model.__table__
        names = [c.name for c in table.columns]
        cur = con.execute(f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} FROM "{table.name}" WHERE id = ?',
                          [ids[row.name]])
        got = dict(zip(names, cur.fetchone()))
        for col in names:
            want, have = mine[col], got[col]
            if isinstance(want, datetime):
                ok = have == want.astimezone(UTC).replace(tzinfo=None)  # TIMESTAMP in UTC
            elif col == "metadata":
                ok = (json.loads(have) if have is not None else None) == (None if want is JSON_NULL else want) and (
                    (have is None) == (want is None))
            elif col == "embedding":
                ok = (have is None and want == b"") or list(have or []) == list(struct.unpack(f"<{len(want) // 4}f", want))
            else:
                ok = have == (want.value if hasattr(want, "value") else want)
            if not ok:
                problems.append(f"{row.name}.{col}: learnlab reads {want!r}, the mirror has {have!r}")
    assert not problems, "\n".join(problems)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'DocumentChunk'").fetchall())
    assert (types["createdAt"], types["metadata"], types["embedding"]) == ("TIMESTAMP", "JSON", "FLOAT[3]")
