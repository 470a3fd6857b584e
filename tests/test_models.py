"""Every model round-trips on each engine; constraints, cascades and timestamps behave as Prisma's."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.config import Settings
from learnlab.db.encoding import JSON_NULL, ulid_time
from learnlab.db.engine import connect
from learnlab.errors import ConstraintError, ValidationError
from learnlab.migrate import upgrade

T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
DRIVERS = ["sqlite", "turso", "libsql"]


def full_rows() -> list[m.Base]:
    """One row of every model with every field set (ids fixed so the rows can be found again)."""
    u = m.User(id="01HX0000000000000000000001", email="ada@example.com", name="Ada", username="ada",
               imageUrl="https://img/ada.png", isSubscribed=True, plan=m.Plan.pro,
               subscriptionType=m.SubscriptionType.team, lastSeenAt=T0, createdAt=T0, updatedAt=T0)
    team = m.Team(id="01HX0000000000000000000002", name="Team A", description="desc", createdAt=T0, updatedAt=T0)
    ch = m.Challenge(id="01HX0000000000000000000003", title="SQL week", description="Write SQL",
                     difficulty=m.ChallengeDifficulty.expert, startDate=T0, endDate=T0 + timedelta(days=7),
                     isActive=False, createdAt=T0, updatedAt=T0)
    doc = m.Document(id="01HX0000000000000000000004", title="Doc", source="https://src", content="Body",
                     createdAt=T0, updatedAt=T0)
    chunk = m.DocumentChunk(id="01HX0000000000000000000005", chunkType=m.ChunkType.CODE, chunkIndex=3,
                            embedding=b"\x00\x00\x80?\x00\x00\x00@", metadata_={"dim": 2, "model": "x", "tags": ["a"]},
                            documentId=doc.id, content="chunk", createdAt=T0, updatedAt=T0)
    usage = m.AIUsage(id="01HX0000000000000000000006", userId=u.id, type=m.AIUsageType.rag_query, model="gpt-4o-mini",
                      prompt="q?", response="a.", tokensUsed=1234, costInCents=7, success=False,
                      errorMessage="timeout", usageMonth="2024-05", createdAt=T0, updatedAt=T0)
    rq = m.RagQuery(id="01HX0000000000000000000007", userId=u.id, aiUsageId=usage.id, query="what is sql",
                    embedder="minilm", k=5, latencyMs=12.5, feedback=-1, createdAt=T0, updatedAt=T0)
    badge = m.Badge(id="01HX0000000000000000000008", name="Gold", description="top", imageUrl="b.png", minScore=90,
                    challengeId=ch.id, createdAt=T0, updatedAt=T0)
    return [
        u, team, ch, doc, chunk, usage, rq, badge,
        m.Session(id="01HX0000000000000000000009", expirationDate=T0 + timedelta(days=30), createdAt=T0,
                  updatedAt=T0, userId=u.id),
        m.Password(hash="$argon2id$v=19$m=65536,t=3,p=4$abc$def", userId=u.id),
        m.Image(id="ckx0000000000000000000001", fileKey="k/1.png", filePath=m.ImagePath.teams, altText="logo",
                createdAt=T0, updatedAt=T0, teamId=team.id),
        m.RagQueryResult(id="01HX000000000000000000000A", queryId=rq.id, chunkId=chunk.id, rank=1, score=0.875,
                         createdAt=T0, updatedAt=T0),
        m.Subscription(id="01HX000000000000000000000B", subscriptionId="polar_1", teamId=team.id,
                       status=m.SubscriptionStatus.past_due, type=m.SubscriptionType.team, plan=m.Plan.premium,
                       amount=900, currency="EUR", currentPeriodStart=T0, currentPeriodEnd=T0 + timedelta(days=30),
                       canceledAt=T0 + timedelta(days=3), createdAt=T0, updatedAt=T0),
        m.TeamMember(id="01HX000000000000000000000C", role=m.TeamRole.owner, joinedAt=T0, updatedAt=T0,
                     userId=u.id, teamId=team.id),
        m.TeamCertificate(id="01HX000000000000000000000D", teamId=team.id, userId=u.id, challengeId=ch.id,
                          title="Certified", code="CERT-1", issuedAt=T0, expiresAt=T0 + timedelta(days=365),
                          revokedAt=T0 + timedelta(days=1), createdAt=T0, updatedAt=T0),
        m.TeamSettings(id="01HX000000000000000000000E", teamId=team.id, maxMembers=10, allowMemberInvites=True,
                       defaultRole=m.TeamRole.admin, aiMonthlyBudgetCents=5000, createdAt=T0, updatedAt=T0),
        m.UserChallenge(id="01HX000000000000000000000F", score=95, completedAt=T0 + timedelta(hours=5),
                        createdAt=T0, updatedAt=T0, userId=u.id, challengeId=ch.id),
        m.LeaderboardEntry(id="01HX000000000000000000000G", challengeId=ch.id, userId=u.id, score=95, rank=1,
                           createdAt=T0, updatedAt=T0),
        m.UserChallengeBadge(id="01HX000000000000000000000H", userId=u.id, badgeId=badge.id, awardedAt=T0,
                             updatedAt=T0),
        m.QueryStat(id="01HX000000000000000000000J", fingerprint="abc", statement="SELECT ?", source="app",
                    bucketStart=T0, calls=3, totalMs=30.5, maxMs=20.25, p95Ms=19.0, rows=7, createdAt=T0,
                    updatedAt=T0),
        m.SlowQuery(id="01HX000000000000000000000K", fingerprint="abc", statement="SELECT 1", source="app",
                    durationMs=25.5, plan="SCAN t", occurredAt=T0, createdAt=T0, updatedAt=T0),
    ]


def values(obj: m.Base) -> dict:
    return {c.key: getattr(obj, c.key) for c in sa.inspect(type(obj)).column_attrs}


def open_db(tmp_path, driver: str, **kw):
    db = connect(Settings(database_url=f"file:{tmp_path / f'{driver}.db'}", driver=driver, **kw))
    upgrade(db)
    return db


@pytest.mark.parametrize("driver", DRIVERS)
def test_every_model_round_trips_on_each_engine(tmp_path, driver):
    rows = full_rows()
    assert {type(r) for r in rows} == set(m.MODELS)
    expected = [values(r) for r in rows]
    with open_db(tmp_path, driver) as db:
        with db.transaction() as s:
            s.add_all(rows)
        with db.session() as s:
            for want, row in zip(expected, rows):
                mapper = sa.inspect(type(row))
                key = tuple(want[c.key] for c in mapper.primary_key)
                got = s.get(type(row), key if len(key) > 1 else key[0])
                assert values(got) == want, type(row).__name__


@pytest.mark.parametrize("driver", DRIVERS)
def test_stored_forms_are_prismas(tmp_path, driver):
    with open_db(tmp_path, driver) as db:
        with db.transaction() as s:
            s.add_all(full_rows())
    raw = sqlite3.connect(tmp_path / f"{driver}.db")
    row = raw.execute('SELECT "createdAt", typeof("isSubscribed"), "isSubscribed", plan FROM "User"').fetchone()
    assert row == ("2024-05-06T07:08:09.123+00:00", "integer", 1, "pro")
    meta = raw.execute('SELECT metadata, typeof(embedding) FROM "DocumentChunk"').fetchone()
    assert meta == ('{"dim":2,"model":"x","tags":["a"]}', "blob")


def test_unixepoch_ms_format_stores_integer_milliseconds(tmp_path):
    with open_db(tmp_path, "sqlite", timestamp_format="unixepoch-ms") as db:
        with db.transaction() as s:
            s.add(m.User(email="a@x", createdAt=T0, updatedAt=T0, lastSeenAt=T0))
        with db.session() as s:
            assert s.scalars(sa.select(m.User)).one().createdAt == T0
    raw = sqlite3.connect(tmp_path / "sqlite.db")
    assert raw.execute('SELECT typeof("createdAt"), "createdAt" FROM "User"').fetchone() == ("integer", 1714979289123)


def test_every_stored_datetime_form_reads_back_the_same(db):
    forms = ["2024-05-06T07:08:09.123+00:00", "2024-05-06T07:08:09.123Z", "2024-05-06T09:08:09.123+02:00",
             1714979289123, 1714979289123.0]
    with db.engine.begin() as c:
        for i, form in enumerate(forms):
            c.exec_driver_sql(
                'INSERT INTO "User" (id, email, "lastSeenAt", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                (f"u{i}", f"u{i}@x", form, form, form),
            )
        c.exec_driver_sql('INSERT INTO "User" (id, email, "updatedAt") VALUES (?, ?, ?)', ("cur", "c@x", T0))
    with db.session() as s:
        users = {u.id: u for u in s.scalars(sa.select(m.User))}
    assert {users[f"u{i}"].createdAt for i in range(len(forms))} == {T0}
    # DEFAULT CURRENT_TIMESTAMP leaves 'YYYY-MM-DD HH:MM:SS' (UTC): read as an aware UTC datetime.
    assert users["cur"].createdAt.tzinfo == timezone.utc
    assert abs(users["cur"].createdAt - datetime.now(timezone.utc)) < timedelta(minutes=5)


def test_one_timestamp_per_write_and_ulid_time(db):
    with db.transaction() as s:
        user = m.User(email="a@x")
        s.add(user)
    assert user.createdAt == user.updatedAt == user.lastSeenAt == ulid_time(user.id)
    assert len(user.id) == 26 and user.id.isupper()


def test_updated_at_is_refreshed_by_orm_and_bulk_updates(db):
    with db.transaction() as s:
        s.add_all([m.User(email="a@x", createdAt=T0, updatedAt=T0), m.User(email="b@x", createdAt=T0, updatedAt=T0)])
    with db.transaction() as s:
        user = s.scalars(sa.select(m.User).where(m.User.email == "a@x")).one()
        user.name = "A"
    assert user.updatedAt > T0 and user.createdAt == T0
    with db.transaction() as s:
        s.execute(sa.update(m.User).where(m.User.email == "b@x").values(name="B"))
    with db.engine.begin() as c:
        c.execute(sa.update(m.User.__table__).values(plan="premium"))
    with db.session() as s:
        users = s.scalars(sa.select(m.User)).all()
    assert all(u.updatedAt > T0 and u.createdAt == T0 for u in users)
    assert len({u.updatedAt for u in users}) == 1  # one bulk statement, one timestamp


def test_duplicate_email_is_rejected_with_a_clear_error(db):
    with db.transaction() as s:
        s.add(m.User(email="ada@example.com"))
    with pytest.raises(ConstraintError, match=r"User\.email: a row with this value already exists"):
        with db.transaction() as s:
            s.add(m.User(email="ada@example.com"))
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.User)) == 1


@pytest.mark.parametrize("driver", DRIVERS)
def test_cascades_follow_the_schema(tmp_path, driver):
    with open_db(tmp_path, driver) as db:
        with db.transaction() as s:
            rows = full_rows()
            s.add_all(rows)
            s.add(m.Subscription(subscriptionId="polar_2", userId=rows[0].id, status="active",
                                 type="individual", plan="pro", amount=1900))
        with db.transaction() as s:
            s.execute(sa.delete(m.User).where(m.User.id == rows[0].id))
        with db.session() as s:
            count = lambda model: s.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
            for gone in (m.Session, m.Password, m.AIUsage, m.TeamMember, m.UserChallenge, m.LeaderboardEntry,
                         m.UserChallengeBadge, m.TeamCertificate):
                assert count(gone) == 0, gone.__name__
            assert s.scalars(sa.select(m.RagQuery.userId)).all() == [None]  # SET NULL
            assert s.scalars(sa.select(m.RagQuery.aiUsageId)).all() == [None]  # its AIUsage cascaded away
            assert s.scalars(sa.select(m.Subscription.userId).where(m.Subscription.subscriptionId == "polar_2")).all() == [None]
            assert count(m.Team) == 1 and count(m.Image) == 1
        with db.transaction() as s:
            s.execute(sa.delete(m.Document))
            s.execute(sa.delete(m.Challenge))
        with db.session() as s:
            assert count(m.DocumentChunk) == 0 and count(m.RagQueryResult) == 0 and count(m.Badge) == 0


@pytest.mark.parametrize("model", [m.Image, m.Subscription])
def test_one_owner_rule(db, model):
    with db.transaction() as s:
        s.add_all([m.User(id="U1", email="a@x"), m.Team(id="T1", name="t")])
    extra = {"fileKey": "k"} if model is m.Image else {
        "subscriptionId": "s", "status": "active", "type": "team", "plan": "pro", "amount": 1}
    for owners, message in (({"userId": "U1", "teamId": "T1"}, "both are set"), ({}, "neither is set")):
        with pytest.raises(ValidationError, match=f"{model.__name__}.userId/teamId: exactly one owner.*{message}"):
            with db.transaction() as s:
                s.add(model(**extra, **owners))
    with db.transaction() as s:
        row = model(**extra, userId="U1")
        s.add(row)
    with pytest.raises(ValidationError):
        with db.transaction() as s:
            s.get(model, row.id).teamId = "T1"
    with db.session() as s:
        assert s.get(model, row.id).teamId is None


def test_bad_enum_and_datetime_values_name_the_field(db):
    with pytest.raises(ValidationError, match="Plan: 'gold' is not one of basic, premium, pro"):
        with db.transaction() as s:
            s.add(m.User(email="a@x", plan="gold"))
    with pytest.raises(ValidationError, match="DateTime: expected a datetime"):
        with db.transaction() as s:
            s.add(m.Session(userId="x", expirationDate="tomorrow"))
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.User)) == 0


def test_json_null_and_sql_null_are_distinct(db):
    with db.transaction() as s:
        s.add(m.Document(id="D", title="t", content="c"))
        s.add_all([
            m.DocumentChunk(id="a", chunkIndex=0, embedding=b"", documentId="D", content="x", metadata_=None),
            m.DocumentChunk(id="b", chunkIndex=1, embedding=b"", documentId="D", content="x", metadata_=JSON_NULL),
            m.DocumentChunk(id="c", chunkIndex=2, embedding=b"", documentId="D", content="x", metadata_=3),
            m.DocumentChunk(id="d", chunkIndex=3, embedding=b"", documentId="D", content="x", metadata_="text"),
        ])
    with db.session() as s:
        got = {c.id: (c.metadata_, c.embedding) for c in s.scalars(sa.select(m.DocumentChunk))}
    assert got == {"a": (None, b""), "b": (JSON_NULL, b""), "c": (3, b""), "d": ("text", b"")}
    raw = db.engine.connect().exec_driver_sql('SELECT id, typeof(metadata), metadata FROM "DocumentChunk" ORDER BY id')
    assert raw.fetchall() == [("a", "null", None), ("b", "text", "null"), ("c", "integer", 3), ("d", "text", '"text"')]


def test_one_owner_rule_holds_for_core_bulk_inserts(db):
    with db.transaction() as s:
        s.add_all([m.User(id="U1", email="a@x"), m.Team(id="T1", name="t")])
    with pytest.raises(ValidationError, match="Image.userId/teamId"):
        with db.engine.begin() as c:
            c.execute(sa.insert(m.Image), [{"fileKey": "a", "userId": "U1", "teamId": None},
                                           {"fileKey": "b", "userId": "U1", "teamId": "T1"}])
    with db.engine.begin() as c:
        c.execute(sa.insert(m.Image), [{"fileKey": "a", "userId": "U1", "teamId": None},
                                       {"fileKey": "b", "userId": None, "teamId": "T1"}])
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Image)) == 2
