"""The fast paths: the first copy of big tables on every core (``bulk``: same result as the copy
read in the snapshot, and writes committed between the parallel copy and the snapshot still
arrive), and a generation's catch-up from the published refresh's tail (``catchup``)."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys

import duckdb
import pytest

from learnlab import mirror
from learnlab.db.encoding import new_ulid
from learnlab.mirror import apply, catchup
from learnlab.mirror.plan import MirrorOptions
from learnlab.mirror.target import DuckDBTarget
from learnlab.mirror.verify import compare
from tests.test_mirror import T0, duck, populate, query

BULK = MirrorOptions(bulk_rows=0)       # every eligible table takes the parallel path
SNAPSHOT = MirrorOptions(bulk_rows=10**12)  # none does


def test_parallel_first_copy_equals_the_copy_read_in_the_snapshot(db, settings, tmp_path):
    populate(db, users=40)
    a, b = tmp_path / "bulk" / "a.duckdb", tmp_path / "snap" / "b.duckdb"
    seen = []
    report = mirror.refresh(settings, a, options=BULK, tracer=lambda sql, _: seen.append(sql))
    mirror.refresh(settings, b, options=SNAPSHOT)
    assert any("sqlite_scan(" in s for s in seen)
    assert report["AIUsage"].mode == "full" and report["AIUsage"].inserted == report["AIUsage"].rows == 120
    assert compare(settings.database_path, a) == [] and compare(settings.database_path, b) == []
    con_a, con_b = mirror.open_reader(a), mirror.open_reader(b)
    try:
        for table in ("AIUsage", "User", "Session", "TeamMember"):
            describe = f'DESCRIBE "{table}"'
            assert con_a.execute(describe).fetchall() == con_b.execute(describe).fetchall(), table
        state = 'SELECT table_name, rows, watermark FROM _mirror_state ORDER BY 1'
        assert con_a.execute(state).fetchall() == con_b.execute(state).fetchall()
    finally:
        con_a.close()
        con_b.close()
    # The next refresh is an ordinary incremental one with nothing to do.
    again = mirror.refresh(settings, a, options=BULK)
    assert again["AIUsage"].mode == "incremental" and again["AIUsage"].changed == 0


WRITER = r"""
import sqlite3, sys
from datetime import datetime, timedelta, timezone
now = datetime.now(timezone.utc)
iso = lambda t: t.isoformat(timespec="milliseconds")
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA busy_timeout = 5000")
conn.execute("BEGIN IMMEDIATE")
ids = [r[0] for r in conn.execute('SELECT id FROM "AIUsage" ORDER BY id')]
conn.execute('UPDATE "AIUsage" SET "tokensUsed" = 777, "updatedAt" = ? WHERE id = ?', (iso(now), ids[0]))
conn.execute('DELETE FROM "AIUsage" WHERE id IN (?, ?)', (ids[5], ids[-1]))
user = conn.execute('SELECT id FROM "User" LIMIT 1').fetchone()[0]
# A writer that committed late: its row carries a cursor two hours old.
old = now - timedelta(hours=2)
conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "tokensUsed", success, "usageMonth", "createdAt", '
             '"updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)', (sys.argv[2], user, "late", 5, 1, "2024-05",
                                                             iso(old), iso(old)))
conn.execute("COMMIT")
"""


def test_writes_between_the_parallel_copy_and_the_snapshot_reach_the_mirror(db, settings, tmp_path, monkeypatch):
    """Another process updates, deletes and inserts (with an old cursor) right after the
    parallel copy read the table: the refresh's result is still the snapshot's state."""
    populate(db, users=10)
    late_id = new_ulid(T0)
    original = apply.copy_rows

    def copy_then_write(ctx, plan, state, mode, frag=None):
        out = original(ctx, plan, state, mode, frag)
        if frag is not None and plan.name == "AIUsage":
            subprocess.run([sys.executable, "-c", WRITER, str(settings.database_path), late_id], check=True)
        return out

    monkeypatch.setattr(apply, "copy_rows", copy_then_write)
    report = mirror.refresh(settings, duck(tmp_path), options=BULK, in_process=True)
    assert compare(settings.database_path, duck(tmp_path)) == []
    conn = sqlite3.connect(settings.database_path)
    count = conn.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
    conn.close()
    assert report["AIUsage"].rows == report["AIUsage"].inserted == count == 30 - 2 + 1
    assert query(tmp_path, 'SELECT prompt FROM "AIUsage" WHERE id = ?', [late_id]) == [("late",)]
    assert query(tmp_path, 'SELECT count(*) FROM "AIUsage" WHERE "tokensUsed" = 777') == [(1,)]


def test_small_tables_and_tables_with_reals_or_blobs_are_copied_in_the_snapshot(db, settings, tmp_path):
    populate(db, users=4)  # 12 AIUsage rows, 4 users, 3 chunks with embeddings
    conn = sqlite3.connect(settings.database_path, isolation_level=None)
    at = T0.isoformat(timespec="milliseconds")
    for i in range(12):  # REALs whose text needs 17 digits: sqlite_scan's text would round them
        conn.execute('INSERT INTO "SlowQuery" (id, fingerprint, statement, source, "durationMs", "occurredAt", '
                     '"createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                     (new_ulid(), "f", "SELECT 1", "app", 0.1 + 0.2 + i, at, at, at))
    conn.close()
    seen: list[str] = []
    mirror.refresh(settings, duck(tmp_path), options=MirrorOptions(bulk_rows=10), tracer=lambda s, _: seen.append(s))
    scanned = {m.group(1) for s in seen for m in re.finditer(r"sqlite_scan\('[^']*', '([^']*)'\)", s)}
    assert scanned == {"AIUsage"}
    assert compare(settings.database_path, duck(tmp_path)) == []
    assert query(tmp_path, 'SELECT min("durationMs") FROM "SlowQuery"') == [(0.30000000000000004,)]


def _change_three(settings) -> list[str]:
    conn = sqlite3.connect(settings.database_path, isolation_level=None)
    now = T0.replace(year=2030).isoformat(timespec="milliseconds")
    ids = [r[0] for r in conn.execute('SELECT id FROM "AIUsage" ORDER BY id LIMIT 3')]
    conn.execute('UPDATE "AIUsage" SET "tokensUsed" = 4242, "updatedAt" = ? WHERE id IN (?, ?)', (now, *ids[:2]))
    conn.execute('DELETE FROM "AIUsage" WHERE id = ?', (ids[2],))
    conn.close()
    return ids


def test_a_generation_one_refresh_behind_catches_up_from_the_published_tail(db, settings, tmp_path, monkeypatch):
    """A refresh notes how many rows it appended to each table (and a hash of their keys); the
    next refresh, writing the other generation, replays them from the published table's tail
    (not by key from the whole table) and the deleted keys from ``_mirror_changes``."""
    populate(db, users=5)
    target = duck(tmp_path)
    mirror.refresh(settings, target)
    mirror.refresh(settings, target)  # both generations exist now
    ids = _change_three(settings)
    first = mirror.refresh(settings, target)
    assert (first["AIUsage"].updated, first["AIUsage"].deleted) == (2, 1)
    tail = json.loads(query(tmp_path, "SELECT value FROM _mirror_meta WHERE key = 'tail'")[0][0])
    assert tail["refresh"] == first.refresh_id and tail["groups"] == ["AIUsage"]
    assert set(tail["tables"]) == {"AIUsage"} and tail["tables"]["AIUsage"]["rows"] == 2
    assert query(tmp_path, "SELECT table_name, row_key FROM _mirror_changes") == [("AIUsage", ids[2])]
    read: list[str] = []
    real = catchup._read_tail
    monkeypatch.setattr(catchup, "_read_tail", lambda con, table, *a: read.append(table) or real(con, table, *a))
    second = mirror.refresh(settings, target, in_process=True)  # writes the other generation: it replays the first
    assert second.replayed == 3 and second["AIUsage"].changed == 0 and read == ["AIUsage"]
    assert compare(settings.database_path, target) == []
    assert query(tmp_path, 'SELECT count(*) FROM "AIUsage" WHERE "tokensUsed" = 4242') == [(2,)]
    # The key-group counts travel too (copied for the tables the replayed refresh noted).
    replayed_tables: list[str] = []
    real_tables = catchup._replay_tables
    monkeypatch.setattr(catchup, "_replay_tables", lambda con, rid, *a: replayed_tables.append(rid) or real_tables(
        con, rid, *a))
    third = mirror.refresh(settings, target, in_process=True)  # replays the second, which changed nothing
    assert third.generation != second.generation and third.replayed == 0
    assert replayed_tables == []  # only its log was copied: no table was even looked at
    for _ in range(2):
        kept = query(tmp_path, "SELECT g, n FROM _mirror_groups WHERE table_name = 'AIUsage' AND n > 0 ORDER BY g")
        p = query(tmp_path, "SELECT any_value(p) FROM _mirror_groups WHERE table_name = 'AIUsage'")[0][0]
        assert kept and kept == query(tmp_path, f'SELECT substr(id, 1, {p}) AS g, count(*) FROM "AIUsage" '
                                                "GROUP BY g ORDER BY g")
        mirror.refresh(settings, target, in_process=True)


@pytest.mark.parametrize("wrong", [{"rows": 3}, {"hash": 12345}, None])
def test_a_tail_that_is_not_the_refreshs_rows_makes_the_refresh_start_from_a_copy(db, settings, tmp_path, wrong):
    """The tail is only replayed when its count and key hash are what the refresh noted (rows
    moved by DuckDB would fail that); otherwise that generation is dropped and the refresh
    starts from a copy of the published file, with the same result. A published file with no
    note (written before notes existed) is copied too."""
    populate(db, users=5)
    target = duck(tmp_path)
    mirror.refresh(settings, target)
    mirror.refresh(settings, target)
    _change_three(settings)
    first = mirror.refresh(settings, target)
    tail = json.loads(query(tmp_path, "SELECT value FROM _mirror_meta WHERE key = 'tail'")[0][0])
    con = duckdb.connect(str(first.generation))  # no reader holds it: make its note wrong
    if wrong is None:
        con.execute("DELETE FROM _mirror_meta WHERE key = 'tail'")
    else:
        tail["tables"]["AIUsage"].update(wrong)
        con.execute("UPDATE _mirror_meta SET value = ? WHERE key = 'tail'", [json.dumps(tail)])
    con.close()
    second = mirror.refresh(settings, target, in_process=True)
    assert second.replayed == 0  # (a replay would count the 3 rows)
    assert compare(settings.database_path, target) == []
    assert query(tmp_path, 'SELECT count(*) FROM "AIUsage" WHERE "tokensUsed" = 4242') == [(2,)]
    total = query(tmp_path, 'SELECT count(*) FROM "AIUsage"')[0][0]
    assert total == sqlite3.connect(settings.database_path).execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]


def test_text_key_columns_are_stored_uncompressed_in_every_generation(db, settings, tmp_path):
    """Every incremental pass, deletion search and catch-up reads a table's whole key column:
    text keys are declared uncompressed (3-4x faster to scan than FSST), by the first copy and
    by a catch-up that rebuilds a table in the other generation; other columns keep DuckDB's
    choice, and the rebuilt tables keep their types (arrays, JSON)."""
    populate(db, users=5)
    target = duck(tmp_path)
    mirror.refresh(settings, target)
    mirror.refresh(settings, target)
    mirror.refresh(settings, target, full=True, in_process=True)  # rebuilds every table
    mirror.refresh(settings, target, in_process=True)  # the other generation copies them in its replay
    gens = DuckDBTarget(target).generations()
    assert len(gens) == 2
    for gen in gens:
        con = duckdb.connect(str(gen), read_only=True)
        try:
            def kinds(table: str, column: str) -> set[str]:
                return {r[0] for r in con.execute(
                    "SELECT DISTINCT compression FROM pragma_storage_info(?) WHERE column_name = ? "
                    "AND segment_type = 'VARCHAR'", [table, column]).fetchall()}

            assert kinds("AIUsage", "id") == {"Uncompressed"}
            assert kinds("Session", "id") == {"Uncompressed"}  # (a hashed key, by default)
            assert kinds("AIUsage", "type") != {"Uncompressed"}
            types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                     "WHERE table_name = 'DocumentChunk'").fetchall())
            assert types["embedding"] == "FLOAT[4]"
        finally:
            con.close()
    assert compare(settings.database_path, target) == []


def test_small_writes_run_on_one_thread_and_the_setting_comes_back():
    """Staging and applying a few thousand changed rows runs on one thread (DuckDB's parallel
    insert merges per-thread rows afterwards, which costs more than it saves); a row group's
    worth or more keeps every thread; the session's setting is restored, also after an error."""
    con = duckdb.connect()
    con.execute("SET threads = 3")

    def threads() -> int:
        return int(con.execute("SELECT current_setting('threads')").fetchone()[0])

    with apply.one_thread(con, 20_000):
        assert threads() == 1
    assert threads() == 3
    with apply.one_thread(con, apply.ROW_GROUP_ROWS):
        assert threads() == 3
    with pytest.raises(duckdb.Error):
        with apply.one_thread(con):
            con.execute("SELECT * FROM no_such_table")
    assert threads() == 3


def test_warming_reads_a_big_tables_keys_meanwhile_and_never_outlives_the_body(tmp_path):
    """While SQLite reads a big table's changed rows, a second connection reads the mirrored keys
    and cursor into DuckDB's buffer pool (the pass over them that follows is then warm), not the
    other columns; small tables are left alone; a read naming a table wrongly is a bug, raised;
    the reading thread is stopped and joined when the body ends, however early. The connection
    is the writer's (an in-memory DuckDB with the generation ATTACHed): the second connection
    must read the generation's table, not look for it in the in-memory database."""
    import threading
    import time

    from learnlab.db.encoding import utcnow
    from learnlab.mirror.plan import TablePlan
    from learnlab.mirror.source import SqliteSource
    from learnlab.mirror.target import _open_writable

    path = tmp_path / "m.duckdb"
    rows = apply.ROW_GROUP_ROWS * 2
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE t AS SELECT uuid()::VARCHAR AS id, TIMESTAMP '2024-01-01' + to_seconds(i) "
                    f"AS updatedAt, 'src' AS _source, repeat(i::VARCHAR, 40) AS body FROM range({rows}) r(i)")
    con = _open_writable(path)
    ctx = apply.Context(con, SqliteSource("src", tmp_path / "op.db"), MirrorOptions(), b"k", "fp", "r", utcnow())
    plan = TablePlan("t", (), ("id",), "updatedAt")

    def cached() -> int:
        return int(con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
                               "WHERE tag = 'BASE_TABLE'").fetchone()[0])

    before = cached()
    with apply.warming(ctx, plan, apply.ROW_GROUP_ROWS - 1):
        pass
    assert cached() == before  # a small table: its pass is cheap anyway
    with apply.warming(ctx, plan, rows):
        time.sleep(1)  # SQLite reading changed rows
    assert not [t for t in threading.enumerate() if t.name == "learnlab-warm-keys"]
    warmed = cached() - before
    assert warmed >= rows * 16  # the keys (random 128-bit uuids, however compressed) are in memory...
    con.execute("SELECT max(body) FROM t").fetchall()
    assert cached() - before - warmed >= rows * 80  # ...the bodies were not
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        with apply.warming(ctx, TablePlan("no_such_table", (), ("id",), "updatedAt"), rows):
            time.sleep(0.1)
    with apply.warming(ctx, plan, rows):
        pass  # SQLite done at once: the reading is stopped, not waited for
    assert not [t for t in threading.enumerate() if t.name == "learnlab-warm-keys"]
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == rows
