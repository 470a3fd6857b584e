"""Property: after any sequence of inserts, updates and deletes (in any stored DateTime form, some
committed late, some with bad values), every mirrored table equals the source after each refresh."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnlab import mirror
from learnlab.config import Settings
from learnlab.db.encoding import new_ulid, to_epoch_ms
from learnlab.db.engine import connect
from learnlab.migrate import upgrade
from learnlab.mirror.plan import MirrorOptions
from learnlab.mirror.verify import compare

UTC = timezone.utc
FORMS = ("iso", "z", "space", "ms", "offset")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated database, copied for each example (migrating costs more than the test)."""
    path = tmp_path_factory.mktemp("template") / "dev.db"
    db = connect(Settings(database_url=f"file:{path}"))
    upgrade(db)
    db.close()
    return path


def stamp(at: datetime, form: str):
    if form == "iso":
        return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}+00:00"
    if form == "z":
        return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"
    if form == "space":
        return f"{at:%Y-%m-%d %H:%M:%S}"
    if form == "ms":
        return to_epoch_ms(at)
    return at.astimezone(timezone(timedelta(hours=-3))).isoformat(timespec="milliseconds")


# seconds before now: most fresh, some committed late (inside the window), some very late
age = st.sampled_from([0, 0, 0, 20, 7200])
op = st.one_of(
    st.tuples(st.just("user"), st.sampled_from(FORMS), age),
    st.tuples(st.just("usage"), st.sampled_from(FORMS), age, st.integers(0, 50)),
    st.tuples(st.just("update"), st.sampled_from(FORMS), st.integers(0, 50), st.integers(-5, 10_000)),
    st.tuples(st.just("delete_usage"), st.integers(0, 50)),
    st.tuples(st.just("delete_user"), st.integers(0, 50)),
    st.tuples(st.just("bad"), st.integers(0, 50)),
)


def apply(conn: sqlite3.Connection, action: tuple) -> None:
    now = datetime.now(UTC)
    users = [r[0] for r in conn.execute('SELECT id FROM "User" ORDER BY id')]
    usage = [r[0] for r in conn.execute('SELECT id FROM "AIUsage" ORDER BY id')]
    kind = action[0]
    if kind == "user":
        at = now - timedelta(seconds=action[2])
        conn.execute('INSERT INTO "User" (id, email, name, "isSubscribed", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                     (new_ulid(at), f"{new_ulid()}@example.com", "n", 1, stamp(at, action[1])))
    elif kind == "usage" and users:
        at = now - timedelta(seconds=action[2])
        conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "tokensUsed", success, "usageMonth", "createdAt", '
                     '"updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                     (new_ulid(at), users[action[3] % len(users)], "p", action[3], action[3] % 2, "2024-05",
                      stamp(at, "iso"), stamp(at, action[1])))
    elif kind == "update" and usage:
        conn.execute('UPDATE "AIUsage" SET "tokensUsed" = ?, "updatedAt" = ? WHERE id = ?',
                     (action[3], stamp(now, action[1]), usage[action[2] % len(usage)]))
    elif kind == "delete_usage" and usage:
        conn.execute('DELETE FROM "AIUsage" WHERE id = ?', (usage[action[1] % len(usage)],))
    elif kind == "delete_user" and users:
        conn.execute('DELETE FROM "User" WHERE id = ?', (users[action[1] % len(users)],))  # cascades
    elif kind == "bad" and usage:
        conn.execute("UPDATE \"AIUsage\" SET \"costInCents\" = 'n/a', \"updatedAt\" = ? WHERE id = ?",
                     (stamp(now, "iso"), usage[action[1] % len(usage)]))


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batches=st.lists(st.lists(op, min_size=1, max_size=10), min_size=1, max_size=3))
@pytest.mark.parametrize("bulk_rows", [50_000, 0], ids=["snapshot-copy", "parallel-copy"])
def test_mirror_equals_the_source_after_every_refresh(template, tmp_path_factory, batches, bulk_rows):
    folder = tmp_path_factory.mktemp("example")
    source = folder / "dev.db"
    shutil.copyfile(template, source)
    conn = sqlite3.connect(source, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    for i in range(3):
        apply(conn, ("user", "iso", 0))
        apply(conn, ("usage", "iso", 0, i))
    target = folder / "analytics.duckdb"
    options = MirrorOptions(bulk_rows=bulk_rows)
    mirror.refresh(source, target, options=options)
    assert compare(source, target) == []
    for batch in batches:
        for action in batch:
            apply(conn, action)
        report = mirror.refresh(source, target, options=options, full=len(batch) % 4 == 0)
        assert compare(source, target) == [], batch
        count = conn.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
        assert report["AIUsage"].rows == count
    conn.close()
