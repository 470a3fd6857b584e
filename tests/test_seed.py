"""The seed-data generator and ``learnlab seed``: deterministic, consistent, stored as Prisma stores it."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone

import numpy as np
import pytest
from typer.testing import CliRunner

from learnlab.config import Settings
from learnlab.db.encoding import format_datetime, from_epoch_ms, parse_datetime, ulid_from_parts, ulid_time
from learnlab.db.engine import connect
from learnlab.db.introspect import describe_schema
from learnlab.errors import ValidationError
from learnlab.migrate import upgrade
from seeds import encode
from seeds.generate import TABLES
from seeds.run import SeedError, seed

UNTIL = "2026-11-01T00:00:00.000+00:00"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
CREATED = {"TeamMember": "joinedAt", "UserChallengeBadge": "awardedAt"}


def raw_of(db):
    conn = db.engine.connect()
    return conn, conn.connection.dbapi_connection


def query(db, sql: str, params=()) -> list[tuple]:
    conn, raw = raw_of(db)
    try:
        return [tuple(r) for r in raw.execute(sql, params).fetchall()]
    finally:
        conn.close()


def one(db, sql: str, params=()):
    return query(db, sql, params)[0][0]


def digest(db) -> dict[str, str]:
    """A hash of every seeded table's contents, ``SELECT * ... ORDER BY id``."""
    out = {}
    for table in TABLES:
        order = "userId" if table == "Password" else "id"
        h = hashlib.sha256()
        for row in query(db, f'SELECT * FROM "{table}" ORDER BY "{order}"'):
            h.update(repr(row).encode())
        out[table] = h.hexdigest()
    return out


def datetime_columns(db, table: str) -> list[str]:
    return [r[1] for r in query(db, f'PRAGMA table_info("{table}")') if r[2].upper() == "DATETIME"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One migrated database seeded with 400 users, shared by the read-only checks."""
    path = tmp_path_factory.mktemp("seeded") / "dev.db"
    database = connect(Settings(database_url=f"file:{path}"))
    upgrade(database)
    seed(database, users=400)
    yield database
    database.close()


# -- the vectorised encoders equal learnlab's scalar ones ----------------------------------------

def test_vectorised_encoding_equals_learnlab_encoding():
    rng = np.random.default_rng(1)
    ms = np.r_[0, 1, 999, rng.integers(0, 253402300799999, 2000), 253402300799999]
    assert encode.datetimes(ms) == [format_datetime(from_epoch_ms(int(x))) for x in ms]
    assert encode.datetimes(ms, "unixepoch-ms") == [format_datetime(from_epoch_ms(int(x)), "unixepoch-ms") for x in ms]
    assert encode.months(ms) == [format_datetime(from_epoch_ms(int(x)))[:7] for x in ms]
    assert encode.datetimes(ms[:3], null=np.array([False, True, False]))[1] is None

    t = rng.integers(0, 1 << 48, 500)
    ids = encode.ulids(t, np.random.default_rng(5))
    for value, ms_, in zip(ids, t.tolist()):
        randomness = 0
        for ch in value[10:]:
            randomness = randomness * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(ch)
        assert value == ulid_from_parts(ms_, randomness)
    assert ids == encode.ulids(t, np.random.default_rng(5))  # seeded: reproducible

    cuids = encode.cuids(t, np.random.default_rng(2))
    assert all(len(c) == 25 and c[0] == "c" and c.isalnum() and c == c.lower() for c in cuids)
    assert len(set(cuids)) == len(cuids)


def test_add_months_clamps_to_the_end_of_the_month():
    def ms(text):
        return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)

    start = np.array([ms("2024-01-31T10:00:00"), ms("2024-03-15T00:00:00")])
    got = [format_datetime(from_epoch_ms(int(x))) for x in encode.add_months(start, np.array([1, 11]))]
    assert got == ["2024-02-29T10:00:00.000+00:00", "2025-02-15T00:00:00.000+00:00"]
    assert encode.whole_months(start, start + 10).tolist() == [0, 0]
    assert encode.whole_months(start[:1], np.array([ms("2024-02-29T10:00:00")])).tolist() == [1]


# -- determinism ------------------------------------------------------------------------------

def test_same_seed_same_bytes_other_seed_other_data(db, tmp_path):
    seed(db, users=250, seed=7)
    twin = connect(Settings(database_url=f"file:{tmp_path / 'twin.db'}"))
    other = connect(Settings(database_url=f"file:{tmp_path / 'other.db'}"))
    try:
        for database, value in ((twin, 7), (other, 8)):
            upgrade(database)
            seed(database, users=250, seed=value)
        first = digest(db)
        assert digest(twin) == first
        assert all(digest(other)[t] != first[t] for t in ("User", "AIUsage", "Subscription", "RagQueryResult"))
    finally:
        twin.close()
        other.close()


def test_schema_is_unchanged_by_seeding(db, tmp_path):
    conn, raw = raw_of(db)
    try:
        before = describe_schema(raw)
        sql_before = raw.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()
    seed(db, users=60)
    conn, raw = raw_of(db)
    try:
        assert describe_schema(raw) == before
        assert raw.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == sql_before
    finally:
        conn.close()


def test_a_failed_load_leaves_the_database_empty_with_its_indexes(db, monkeypatch):
    from seeds.generate import Generator

    def broken(self):
        raise RuntimeError("boom in the middle")
        yield  # pragma: no cover

    conn, raw = raw_of(db)
    before = describe_schema(raw)
    conn.close()
    monkeypatch.setattr(Generator, "participation", broken)
    with pytest.raises(RuntimeError, match="boom"):
        seed(db, users=40)
    conn, raw = raw_of(db)
    try:
        assert describe_schema(raw) == before
    finally:
        conn.close()
    assert all(one(db, f'SELECT count(*) FROM "{t}"') == 0 for t in TABLES)  # no partial seed left behind
    monkeypatch.undo()
    assert seed(db, users=40).total_rows > 0


# -- relations, timestamps, values ------------------------------------------------------------

def test_relations_are_valid_and_every_table_has_rows(seeded):
    assert query(seeded, "PRAGMA foreign_key_check") == []
    assert query(seeded, "PRAGMA integrity_check") == [("ok",)]
    for table in TABLES:
        assert one(seeded, f'SELECT count(*) FROM "{table}"') > 0, table
    per_user = one(seeded, 'SELECT count(*) FROM "AIUsage"') / one(seeded, 'SELECT count(*) FROM "User"')
    assert 14 < per_user < 26  # ~20 AIUsage rows per user


def test_timestamps_are_consistent(seeded):
    for table in TABLES:
        stamps = datetime_columns(seeded, table)
        for col in stamps:  # every DateTime in Prisma's form (or NULL)
            bad = [v for (v,) in query(seeded, f'SELECT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL')
                   if not (isinstance(v, str) and ISO.match(v))]
            assert not bad, (table, col, bad[:3])
        if "updatedAt" not in stamps:
            continue
        created = CREATED.get(table, "createdAt")
        assert one(seeded, f'SELECT count(*) FROM "{table}" WHERE "updatedAt" < "{created}"') == 0, table
        assert one(seeded, f'SELECT count(*) FROM "{table}" WHERE "updatedAt" > ? OR "{created}" > ?',
                   (UNTIL, UNTIL)) == 0, table
        if table != "Image":  # ULID ids: their time is the creation time
            rows = query(seeded, f'SELECT id, "{created}" FROM "{table}"')
            assert all(ulid_time(i) == parse_datetime(c) for i, c in rows), table
    checks = {
        "usage outside the user's life": 'SELECT count(*) FROM "AIUsage" a JOIN "User" u ON u.id = a."userId" '
                                         'WHERE a."createdAt" < u."createdAt" OR a."createdAt" > u."lastSeenAt"',
        "usageMonth": 'SELECT count(*) FROM "AIUsage" WHERE "usageMonth" != substr("createdAt", 1, 7)',
        "user seen before sign-up": 'SELECT count(*) FROM "User" WHERE "lastSeenAt" < "createdAt" '
                                    'OR "updatedAt" < "lastSeenAt"',
        "session before sign-up": 'SELECT count(*) FROM "Session" s JOIN "User" u ON u.id = s."userId" '
                                  'WHERE s."createdAt" < u."createdAt" OR s."expirationDate" <= s."createdAt"',
        "joined before the team": 'SELECT count(*) FROM "TeamMember" m JOIN "Team" t ON t.id = m."teamId" '
                                  'JOIN "User" u ON u.id = m."userId" '
                                  'WHERE m."joinedAt" < t."createdAt" OR m."joinedAt" < u."createdAt"',
        "play outside the challenge": 'SELECT count(*) FROM "UserChallenge" uc JOIN "Challenge" c '
                                      'ON c.id = uc."challengeId" WHERE uc."createdAt" < c."startDate" '
                                      'OR uc."updatedAt" > c."endDate" OR uc."completedAt" > c."endDate" '
                                      'OR uc."completedAt" < uc."createdAt"',
        "billing period": 'SELECT count(*) FROM "Subscription" WHERE "currentPeriodEnd" <= "currentPeriodStart" '
                          'OR "currentPeriodStart" < "createdAt" OR "canceledAt" < "createdAt"',
        "rag query at its AI call": 'SELECT count(*) FROM "RagQuery" r JOIN "AIUsage" a ON a.id = r."aiUsageId" '
                                    'WHERE r."createdAt" != a."createdAt"',
        "challenge dates": 'SELECT count(*) FROM "Challenge" WHERE "endDate" <= "startDate" '
                           'OR "isActive" != ("endDate" > ?)',
    }
    for name, sql in checks.items():
        params = (UNTIL,) if "?" in sql else ()
        assert one(seeded, sql, params) == 0, name


def test_values_are_stored_as_prisma_stores_them(seeded):
    for table, col in (("User", "isSubscribed"), ("AIUsage", "success"), ("Challenge", "isActive"),
                       ("TeamSettings", "allowMemberInvites")):
        assert query(seeded, f'SELECT DISTINCT typeof("{col}"), "{col}" IN (0, 1) FROM "{table}"') == \
            [("integer", 1)], (table, col)
    for table, col in (("RagQuery", "latencyMs"), ("RagQueryResult", "score"), ("QueryStat", "totalMs"),
                       ("QueryStat", "p95Ms"), ("SlowQuery", "durationMs")):
        assert query(seeded, f'SELECT DISTINCT typeof("{col}") FROM "{table}"') == [("real",)], (table, col)
    enums = {("User", "plan"): {"basic", "premium", "pro"}, ("AIUsage", "type"): {
        "learning_assistant", "code_review", "quiz_generation", "content_summary", "rag_query"},
        ("Subscription", "status"): {"incomplete", "incomplete_expired", "trialing", "active", "past_due",
                                     "canceled", "unpaid"},
        ("TeamMember", "role"): {"owner", "admin", "member"}, ("DocumentChunk", "chunkType"): {
            "TEXT", "CODE", "TABLE", "HEADING"}, ("Image", "filePath"): {"users", "teams", "certificates"}}
    for (table, col), allowed in enums.items():
        assert {v for (v,) in query(seeded, f'SELECT DISTINCT "{col}" FROM "{table}"')} <= allowed
    plans = dict(query(seeded, 'SELECT plan, count(*) FROM "User" GROUP BY plan'))
    assert plans["basic"] > plans.get("premium", 0) > 0 and plans.get("pro", 0) > 0
    from learnlab.db.encoding import decode_json, encode_json

    for meta, blob in query(seeded, 'SELECT metadata, embedding FROM "DocumentChunk"'):
        value = decode_json(meta)
        assert encode_json(value) == meta and value["dim"] == 384 and value["model"]
        assert isinstance(blob, bytes) and len(blob) == 4 * value["dim"]
    assert query(seeded, 'SELECT count(*) FROM "Image" WHERE length(id) != 25 OR substr(id, 1, 1) != \'c\'') == [(0,)]
    # Failures carry a message and no response; successes the opposite.
    assert one(seeded, 'SELECT count(*) FROM "AIUsage" WHERE "success" = 0') > 0
    assert one(seeded, 'SELECT count(*) FROM "AIUsage" WHERE ("success" = 0) != ("errorMessage" IS NOT NULL) '
                       'OR ("success" = 1) != ("response" IS NOT NULL)') == 0


def test_unixepoch_ms_timestamps_and_the_orm_reads_them(tmp_path):
    database = connect(Settings(database_url=f"file:{tmp_path / 'ms.db'}", timestamp_format="unixepoch-ms"))
    try:
        upgrade(database)
        seed(database, users=120)
        for table in TABLES:
            for col in datetime_columns(database, table):
                types = {t for (t,) in query(database, f'SELECT DISTINCT typeof("{col}") FROM "{table}"')}
                assert types <= {"integer", "null"}, (table, col, types)
            if table not in ("Password", "Image") and "updatedAt" in datetime_columns(database, table):
                created = CREATED.get(table, "createdAt")
                assert one(database, f'SELECT count(*) FROM "{table}" WHERE "updatedAt" < "{created}"') == 0
        assert query(database, "PRAGMA foreign_key_check") == []
        from sqlalchemy import select

        from learnlab.models import AIUsage, User

        with database.session() as s:
            user = s.scalars(select(User).order_by(User.id).limit(1)).one()
            usage = s.scalars(select(AIUsage).where(AIUsage.userId == user.id).limit(1)).first()
        assert user.createdAt == ulid_time(user.id) and user.createdAt.tzinfo is not None
        assert usage is None or usage.createdAt >= user.createdAt
    finally:
        database.close()


def test_until_moves_the_timeline(db):
    seed(db, users=50, until="2025-06-01")
    assert one(db, 'SELECT max("updatedAt") FROM "AIUsage"') <= "2025-06-01T00:00:00.000+00:00"
    assert one(db, 'SELECT max("createdAt") FROM "User"') > "2025-01-01"


# -- the platform's rules ---------------------------------------------------------------------

def test_images_and_subscriptions_have_exactly_one_owner(seeded):
    for table in ("Image", "Subscription"):
        assert one(seeded, f'SELECT count(*) FROM "{table}" WHERE ("userId" IS NULL) = ("teamId" IS NULL)') == 0
    assert one(seeded, 'SELECT count(*) FROM "Subscription" WHERE ("type" = \'team\') != ("teamId" IS NOT NULL)') == 0
    assert one(seeded, 'SELECT count(*) FROM "Image" WHERE "teamId" IS NOT NULL') > 0


def test_subscription_lifecycles_and_user_plans(seeded):
    rows = query(seeded, 'SELECT status, "canceledAt" IS NOT NULL, plan, type, amount FROM "Subscription"')
    assert {r[0] for r in rows} >= {"active", "canceled", "trialing", "past_due"}
    assert all((status == "canceled") == canceled for status, canceled, *_ in rows)
    for _, _, plan, kind, amount in rows:
        price = {"premium": 900, "pro": 1900}[plan]
        assert amount == price if kind == "individual" else amount % price == 0
    # A user's plan is that of their live subscription (their own, or their team's).
    assert one(seeded, 'SELECT count(*) FROM "User" WHERE ("plan" != \'basic\') != ("isSubscribed" = 1)') == 0
    latest = query(seeded, 'SELECT u.plan, s.plan, s.status FROM "User" u JOIN "Subscription" s ON s.id = '
                           '(SELECT id FROM "Subscription" WHERE "userId" = u.id ORDER BY id DESC LIMIT 1)')
    live = [(u, s) for u, s, status in latest if status in ("trialing", "active", "past_due")]
    assert live and all(u == s for u, s in live)


def test_teams_members_and_certificates(seeded):
    assert one(seeded, 'SELECT count(*) FROM (SELECT "teamId" FROM "TeamMember" GROUP BY "teamId" '
                       'HAVING sum("role" = \'owner\') != 1)') == 0
    assert one(seeded, 'SELECT count(*) FROM "Team" t LEFT JOIN "TeamSettings" s ON s."teamId" = t.id '
                       'WHERE s.id IS NULL') == 0
    assert one(seeded, 'SELECT count(*) FROM "TeamCertificate" c LEFT JOIN "TeamMember" m '
                       'ON m."teamId" = c."teamId" AND m."userId" = c."userId" WHERE m.id IS NULL') == 0
    assert one(seeded, 'SELECT count(*) FROM "TeamCertificate" c JOIN "UserChallenge" uc ON uc."userId" = c."userId"'
                       ' AND uc."challengeId" = c."challengeId" WHERE uc."completedAt" IS NULL '
                       'OR c."issuedAt" < uc."completedAt"') == 0


def test_leaderboard_ranks_follow_scores(seeded):
    assert one(seeded, 'SELECT count(*) FROM "LeaderboardEntry" l LEFT JOIN "UserChallenge" uc '
                       'ON uc."userId" = l."userId" AND uc."challengeId" = l."challengeId" '
                       'WHERE uc.id IS NULL OR uc.score != l.score') == 0
    assert one(seeded, 'SELECT count(*) FROM "LeaderboardEntry"') == one(seeded, 'SELECT count(*) FROM "UserChallenge"')
    by_challenge: dict[str, list[tuple[int, int]]] = {}
    for challenge, score, rank in query(seeded, 'SELECT "challengeId", score, rank FROM "LeaderboardEntry"'):
        by_challenge.setdefault(challenge, []).append((score, rank))
    ties = 0
    for entries in by_challenge.values():
        scores = sorted((s for s, _ in entries), reverse=True)
        for score, rank in entries:  # standard competition ranking: 1, 2, 2, 4
            assert rank == 1 + sum(1 for s in scores if s > score)
        ties += len(scores) - len(set(scores))
    assert ties > 0


def test_badges_are_awarded_exactly_when_scores_reach_them(seeded):
    assert one(seeded, 'SELECT count(*) FROM "UserChallenge" uc JOIN "Badge" b ON b."challengeId" = uc."challengeId" '
                       'LEFT JOIN "UserChallengeBadge" x ON x."badgeId" = b.id AND x."userId" = uc."userId" '
                       'WHERE (uc.score >= b."minScore") != (x.id IS NOT NULL)') == 0
    assert one(seeded, 'SELECT count(*) FROM "UserChallengeBadge" x JOIN "Badge" b ON b.id = x."badgeId" '
                       'WHERE b."challengeId" IS NULL') > 0


def test_rag_results_are_ranked_and_semantically_coherent(seeded):
    assert one(seeded, 'SELECT count(*) FROM (SELECT "queryId", count(*) n, count(DISTINCT rank) d, min(rank) lo, '
                       'max(rank) hi, count(DISTINCT "chunkId") c FROM "RagQueryResult" GROUP BY "queryId") g '
                       'JOIN "RagQuery" q ON q.id = g."queryId" WHERE n != q.k OR d != n OR lo != 1 OR hi != q.k '
                       'OR c != n') == 0
    assert one(seeded, 'SELECT count(*) FROM "RagQueryResult" a JOIN "RagQueryResult" b ON b."queryId" = a."queryId" '
                       'AND b.rank = a.rank + 1 WHERE b.score > a.score') == 0
    assert one(seeded, 'SELECT count(*) FROM "RagQuery" q JOIN "AIUsage" a ON a.id = q."aiUsageId" '
                       'WHERE a.type != \'rag_query\' OR a."userId" != q."userId" OR a.prompt != q.query') == 0
    assert {v for (v,) in query(seeded, 'SELECT DISTINCT feedback FROM "RagQuery"')} == {1, -1, None}
    # Embeddings: chunks of one topic are closer to each other than to other topics' chunks,
    # and each query's results come from one topic.
    from learnlab.db.encoding import decode_json

    rows = query(seeded, 'SELECT id, embedding, metadata FROM "DocumentChunk"')
    vectors = np.stack([np.frombuffer(blob, dtype="<f4") for _, blob, _ in rows])
    topics = np.array([decode_json(m)["topic"] for _, _, m in rows])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    sims = vectors @ vectors.T
    same = topics[:, None] == topics[None, :]
    np.fill_diagonal(same, False)
    other = topics[:, None] != topics[None, :]
    assert sims[same].mean() > sims[other].mean() + 0.4
    topic_of = dict(zip((r[0] for r in rows), topics))
    per_query: dict[str, set] = {}
    for q, chunk in query(seeded, 'SELECT "queryId", "chunkId" FROM "RagQueryResult"'):
        per_query.setdefault(q, set()).add(topic_of[chunk])
    assert all(len(t) == 1 for t in per_query.values())


def test_query_monitoring_rows(seeded):
    from learnlab.monitoring import fingerprint

    assert one(seeded, 'SELECT count(*) FROM "QueryStat" WHERE "p95Ms" > "maxMs" OR "totalMs" / calls > "maxMs" + 1e-6 '
                       'OR calls < 1') == 0
    for fp, statement in query(seeded, 'SELECT DISTINCT fingerprint, statement FROM "QueryStat"'):
        assert fingerprint(statement) == fp
    assert one(seeded, 'SELECT count(*) FROM "SlowQuery" WHERE "durationMs" <= 20') == 0
    assert one(seeded, 'SELECT count(*) FROM "SlowQuery" s WHERE NOT EXISTS (SELECT 1 FROM "QueryStat" q WHERE '
                       'q.fingerprint = s.fingerprint AND q."bucketStart" <= s."occurredAt")') == 0


def test_seeded_passwords_verify():
    from argon2 import PasswordHasher

    from seeds.generate import password_hashes
    from seeds.vocabulary import DEV_PASSWORD

    hashes = password_hashes(42)
    assert len(set(hashes)) == len(hashes) and all(h.startswith("$argon2id$") for h in hashes)
    assert PasswordHasher().verify(hashes[0], DEV_PASSWORD)


# -- the database must be ready; bad input; progress --------------------------------------------

def test_an_unmigrated_database_is_refused_clearly(settings):
    database = connect(settings)
    try:
        with pytest.raises(SeedError, match="learnlab migrate"):
            seed(database, users=10)
    finally:
        database.close()


def test_a_database_with_data_is_refused_unless_if_empty(db):
    seed(db, users=30)
    before = digest(db)
    report = seed(db, users=30, if_empty=True)
    assert report.skipped and report.existing_users == 30 and "nothing seeded" in report.summary()
    with pytest.raises(SeedError, match="not empty"):
        seed(db, users=30)
    assert digest(db) == before


@pytest.mark.parametrize("kwargs, field", [
    ({"users": -5}, "--users"), ({"users": 0}, "--users"), ({"scale": "huge"}, "--scale"),
    ({"users": 5, "scale": "small"}, "--users/--scale"), ({"seed": -1}, "--seed"), ({"until": "soon"}, "--until"),
])
def test_bad_input_names_the_option(db, kwargs, field):
    with pytest.raises(ValidationError) as info:
        seed(db, **kwargs)
    assert info.value.field == field
    assert one(db, 'SELECT count(*) FROM "User"') == 0


def test_progress_is_reported(db):
    calls = []
    report = seed(db, users=80, progress=lambda table, done, total: calls.append((table, done, total)))
    dones = [d for _, d, _ in calls]
    assert dones == sorted(dones) and dones[-1] == report.total_rows
    assert {t for t, _, _ in calls} >= {"User", "AIUsage"}
    assert all(total >= done for _, done, total in calls)


@pytest.mark.parametrize("driver", ["turso", "libsql"])
def test_other_drivers_write_the_same_rows(tmp_path, driver):
    reference = connect(Settings(database_url=f"file:{tmp_path / 'sqlite.db'}"))
    other = connect(Settings(database_url=f"file:{tmp_path / f'{driver}.db'}", driver=driver))
    try:
        for database in (reference, other):
            upgrade(database)
            seed(database, users=60)
        assert query(other, "PRAGMA foreign_key_check") == []
        assert digest(other) == digest(reference)
    finally:
        reference.close()
        other.close()


# -- the command ------------------------------------------------------------------------------

def test_cli_seed(tmp_path):
    from learnlab.cli import app

    runner = CliRunner()
    env = {"DATABASE_URL": f"file:{tmp_path / 'cli.db'}"}
    result = runner.invoke(app, ["seed", "--users", "50"], env=env)
    assert result.exit_code == 1 and "learnlab migrate" in result.output
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    result = runner.invoke(app, ["seed", "--users", "50", "--seed", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert "seeded" in result.output and "50 users" in result.output
    result = runner.invoke(app, ["seed", "--scale", "small", "--if-empty"], env=env)
    assert result.exit_code == 0 and "nothing seeded" in result.output
    result = runner.invoke(app, ["seed", "--users", "50"], env=env)
    assert result.exit_code == 1 and "not empty" in result.output
    result = runner.invoke(app, ["seed", "--users", "50", "--quiet", "--if-empty"], env=env)
    assert result.exit_code == 0 and result.output == ""
    for args, option in ((["--users", "-5"], "--users"), (["--scale", "huge"], "--scale"),
                         (["--until", "2026-13-01"], "--until")):
        result = runner.invoke(app, ["seed", *args], env=env)
        assert result.exit_code == 2 and option in result.output, result.output


@pytest.mark.slow
def test_benchmark_runs(tmp_path):
    from seeds.bench import format_result, run

    users = int(os.environ.get("LEARNLAB_BENCH_USERS", "300"))
    result = run(users, baseline_rows=300, folder=tmp_path)
    assert result.total_rows > users * 20 and result.tables["AIUsage"]["rows"] > 0
    assert result.orm_rows == 300 and result.orm_rows_per_second > 0 and result.peak_rss_mb > 0
    assert "overall" in format_result(result)


def test_a_database_missing_indexes_is_refused(db):
    """What a killed seed (indexes dropped for the load, never re-created) would leave behind."""
    conn, raw = raw_of(db)
    try:
        raw.execute('DROP INDEX "AIUsage_userId_idx"')
    finally:
        conn.close()
    for kwargs in ({}, {"if_empty": True}):
        with pytest.raises(SeedError, match="AIUsage_userId_idx"):
            seed(db, users=10, **kwargs)
