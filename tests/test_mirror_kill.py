"""Crash safety: a process refreshing in a loop is killed with SIGKILL at random moments, many times.

After every kill the published mirror opens and equals the source as it was at some refresh
(never a mixture); after the last kill one more refresh converges to the source exactly.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from learnlab.config import Settings
from learnlab.db.encoding import format_datetime, new_ulid
from learnlab.db.engine import connect
from learnlab.migrate import upgrade
from learnlab.mirror import refresh
from learnlab.mirror.verify import compare

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from learnlab import mirror
source, target = sys.argv[1], sys.argv[2]
n = 0
while True:
    print("start", flush=True)
    mirror.refresh({"dev": source}, target, full=(n % 3 == 2), in_process=True)
    n += 1
    print("done", flush=True)
"""
KILLS = int(os.environ.get("LEARNLAB_TEST_KILLS", "12"))


def _change(conn: sqlite3.Connection, rnd: random.Random, version: int) -> None:
    """One new version of the source: updates, deletes and inserts spread over the table."""
    now = datetime.now(timezone.utc)
    ids = [r[0] for r in conn.execute('SELECT id FROM "AIUsage"')]
    users = [r[0] for r in conn.execute('SELECT id FROM "User"')]
    conn.execute("BEGIN")
    for i in rnd.sample(ids, 200):
        conn.execute('UPDATE "AIUsage" SET "tokensUsed" = ?, "updatedAt" = ? WHERE id = ?',
                     (version, format_datetime(now), i))
    conn.executemany('DELETE FROM "AIUsage" WHERE id = ?', [(i,) for i in rnd.sample(ids, 50)])
    conn.executemany('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                     [(new_ulid(now), rnd.choice(users), f"v{version}", "2024-05", format_datetime(now))
                      for _ in range(60)])
    conn.execute('UPDATE "User" SET "isSubscribed" = 1 - "isSubscribed", "updatedAt" = ? WHERE id = ?',
                 (format_datetime(now), rnd.choice(users)))
    conn.execute("COMMIT")


def _snapshot(conn: sqlite3.Connection, path: Path) -> Path:
    """A copy of the source as it is now (the backup API includes what is still in the WAL)."""
    out = sqlite3.connect(path)
    conn.backup(out)
    out.close()
    return path


def test_sigkill_at_random_moments_leaves_the_previous_or_the_next_refresh(tmp_path):
    rnd = random.Random(7)
    source = tmp_path / "dev.db"
    db = connect(Settings(database_url=f"file:{source}"))
    upgrade(db)
    db.close()
    conn = sqlite3.connect(source, isolation_level=None)
    t0 = datetime(2024, 5, 6, tzinfo=timezone.utc)
    users = [new_ulid(t0) for _ in range(50)]
    conn.executemany('INSERT INTO "User" (id, email, "updatedAt") VALUES (?, ?, ?)',
                     [(u, f"{u}@example.com", format_datetime(t0)) for u in users])
    conn.executemany('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                     [(new_ulid(t0 + timedelta(seconds=i)), users[i % 50], "p" * 200, "2024-05",
                       format_datetime(t0 + timedelta(seconds=i))) for i in range(6_000)])
    target = tmp_path / "analytics.duckdb"
    refresh({"dev": source}, target)
    versions = [_snapshot(conn, tmp_path / "v0.db")]
    # Full refreshes copy AIUsage on every core before the snapshot (see bulk): kills land there too.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEARNLAB_MIRROR_BULK_ROWS": "1000"}
    inside, matched = 0, 0
    for k in range(1, KILLS + 1):
        _change(conn, rnd, k)
        versions.append(_snapshot(conn, tmp_path / f"v{k}.db"))
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(target)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        time.sleep(rnd.uniform(0.5, 2.0))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
        inside += out.split()[-1:] == [b"start"]  # killed in the middle of a refresh
        # The published file opens and is exactly one version of the source, never a mixture.
        con = duckdb.connect(str(target), read_only=True)
        assert con.execute("SELECT count(*) FROM _mirror_state").fetchone()[0] > 0
        con.close()
        # (a version no older than the one seen after the previous kill: refreshes never go back)
        now_at = next((i for i in range(len(versions) - 1, matched - 1, -1)
                       if compare(versions[i], target, source_name="dev") == []), None)
        assert now_at is not None, f"kill {k}: the mirror is no version from v{matched} to v{k}"
        matched = now_at
    # One more refresh converges: nothing lost, nothing duplicated.
    report = refresh({"dev": source}, target)
    assert compare(source, target, source_name="dev") == []
    assert report["AIUsage"].rows == conn.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute('SELECT count(*) - count(DISTINCT id) FROM "AIUsage"').fetchone() == (0,)
    con.close()
    assert inside >= 3, inside  # several kills landed in the middle of a refresh
    conn.close()
