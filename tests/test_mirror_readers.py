"""Readers and the writer never fight: while `learnlab mirror --watch` refreshes, another process
keeps querying the mirror (holding a connection across refreshes, and opening new ones), the
app keeps writing to the source without waiting, and Ctrl-C stops the watch cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from learnlab.db.encoding import format_datetime, new_ulid
from learnlab.mirror.status import status

ROOT = Path(__file__).resolve().parents[1]
READER = """
import json, sys, time
import duckdb
from learnlab.mirror import open_reader
path, seconds = sys.argv[1], float(sys.argv[2])
held = open_reader(path)                     # kept open across refreshes: a consistent snapshot
first = held.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
queries, errors, counts, consistent = 0, [], [], True
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        con = duckdb.connect(path, read_only=True) if queries % 2 else open_reader(path)
        n = con.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
        rows = con.execute("SELECT rows FROM _mirror_state WHERE table_name = 'AIUsage'").fetchone()[0]
        consistent &= n == rows               # data and watermarks from the same refresh
        counts.append(n)
        con.close()
        assert held.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0] == first
        queries += 1
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.01)
print(json.dumps({"queries": queries, "errors": errors[:5], "counts": sorted(set(counts)), "consistent": consistent}))
"""


def _env(db: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"file:{db}", "LEARNLAB_SYNC_INTERVAL": "0.2"}


def test_readers_keep_querying_while_the_watch_loop_refreshes(db, settings, tmp_path):
    path = settings.database_path
    target = tmp_path / "analytics.duckdb"
    with db.engine.begin() as c:
        user = new_ulid()
        now = format_datetime(datetime.now(timezone.utc))
        c.exec_driver_sql('INSERT INTO "User" (id, email, "updatedAt") VALUES (?, ?, ?)', (user, "a@example.com", now))
    env = _env(path)
    learnlab = [sys.executable, "-c", "from learnlab.cli import main; main()"]
    subprocess.run([*learnlab, "mirror", "--duckdb", str(target), "--quiet"], env=env, check=True, timeout=60)
    watch = subprocess.Popen([*learnlab, "mirror", "--watch", "--duckdb", str(target)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(target), "5"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slowest = 0.0
    written = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the app writes all along, and is never kept waiting
        t = time.perf_counter()
        with db.engine.begin() as c:
            stamp = format_datetime(datetime.now(timezone.utc))
            c.exec_driver_sql('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") '
                              "VALUES (?, ?, 'p', '2024-05', ?)", (new_ulid(), user, stamp))
        slowest = max(slowest, time.perf_counter() - t)
        written += 1
        time.sleep(0.02)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    seen = json.loads(out)
    time.sleep(0.5)
    watch.send_signal(signal.SIGINT)  # Ctrl-C: stops between refreshes
    wout, werr = watch.communicate(timeout=60)
    assert watch.returncode == 0, werr
    assert "stopped after" in wout and wout.count("refreshed") >= 3
    assert seen["errors"] == [] and seen["queries"] > 50 and seen["consistent"]
    assert len(seen["counts"]) >= 2  # new connections saw newer refreshes
    assert slowest < 2.0, slowest  # never kept waiting (busy timeout would be 5 s)
    # After the watch stopped, one more refresh has everything the app wrote.
    subprocess.run([*learnlab, "mirror", "--duckdb", str(target), "--quiet"], env=env, check=True, timeout=60)
    assert status(target).table("AIUsage").rows == written


def test_a_reader_that_read_the_link_just_before_a_refresh_was_published_reads_it_again(db, settings, tmp_path,
                                                                                          monkeypatch):
    """``open_reader`` reads the link, then opens the file: if a refresh was published in between
    and the next one already writes the file the link left, it reads the link again (and opens
    the newer file); if the link did not move, the error is the caller's."""
    import duckdb
    import pytest

    from learnlab import mirror
    from learnlab.mirror.target import DuckDBTarget

    target = DuckDBTarget(tmp_path / "analytics.duckdb")
    mirror.refresh(settings, target.path)
    newest = mirror.refresh(settings, target.path)
    (left,) = [g for g in target.generations() if g != newest.generation]
    writer = duckdb.connect(str(left))  # the next refresh writing the generation the link left
    try:
        real, reads = DuckDBTarget.published, []

        def stale_first(self):
            reads.append(1)
            return left if len(reads) == 1 else real(self)

        monkeypatch.setattr(DuckDBTarget, "published", stale_first)
        con = target.open_reader()
        assert con.execute("SELECT max(refresh_id) FROM _mirror_refresh").fetchone()[0] == newest.refresh_id
        con.close()
        assert len(reads) >= 3  # the stale read, the check that the link moved, the new read
        monkeypatch.setattr(DuckDBTarget, "published", lambda self: left)  # the link never moved
        with pytest.raises(duckdb.Error):
            target.open_reader()
    finally:
        writer.close()


def test_prepare_next_leaves_the_file_the_link_just_left_to_late_readers(db, settings, tmp_path, monkeypatch):
    """``watch`` prepares the next generation right after a refresh; it first waits
    ``READER_GRACE`` after the swap, so a reader that read the link just before still finds the
    file the link left unlocked."""
    import os

    from learnlab import mirror
    from learnlab.mirror import target as target_mod
    from learnlab.mirror.target import READER_GRACE, DuckDBTarget

    target = DuckDBTarget(tmp_path / "analytics.duckdb")
    mirror.refresh(settings, target.path)
    mirror.refresh(settings, target.path)
    opened: list[float] = []
    real = target_mod._open_writable
    monkeypatch.setattr(target_mod, "_open_writable", lambda gen: opened.append(time.time()) or real(gen))
    swapped = os.lstat(target.path).st_mtime
    assert target.prepare_next() == 0
    assert opened and opened[0] - swapped >= READER_GRACE


def test_the_writer_takes_a_generation_no_one_holds_and_lets_go_of_it_before_its_instance_closes(tmp_path):
    """The writer's connection is an in-memory DuckDB with the generation ATTACHed: it refuses a
    file another process or a connection of this one has open (the refresh then takes another
    generation), spills beside the file, and once the file is closed readers can open it while
    the instance (and the refresh's memory) is still being given back."""
    import threading

    import duckdb

    from learnlab.mirror.target import Writer, _open_writable

    gen = tmp_path / "gen-000001.duckdb"
    with duckdb.connect(str(gen)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
    reader = duckdb.connect(str(gen), read_only=True)
    assert _open_writable(gen) is None  # held in this process
    reader.close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
                               "read_only=True); print('held', flush=True); time.sleep(60)", str(gen)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert _open_writable(gen) is None  # held by another process
    finally:
        holder.kill()
        holder.wait()
    con = _open_writable(gen)
    assert con is not None
    assert con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == f"{gen}.tmp"
    con.execute("INSERT INTO t VALUES (2)")  # (the generation is the connection's database)
    writer = Writer(con, gen, [])
    writer.close_file()
    with duckdb.connect(str(gen), read_only=True) as after:
        assert after.execute("SELECT sum(a) FROM t").fetchone()[0] == 3
    writer.close(later=True)
    for thread in [t for t in threading.enumerate() if t.name == "learnlab-close-writer"]:
        thread.join()
