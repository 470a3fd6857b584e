"""The mirror of a Turso replica, against the real `tursodb --sync-server`: writes on one replica
through learnlab, pushed; the mirrored replica pulls before each refresh (what the pull brought is
reported); the replica is read through the Turso driver, under the replica's lock, while a
background puller runs; DuckDB readers keep reading meanwhile."""

from __future__ import annotations

import threading
import time

import pytest

import learnlab.models as m
from learnlab import mirror
from learnlab.db.engine import connect
from learnlab.migrate import upgrade
from learnlab.mirror.status import status
from learnlab.mirror.verify import compare
from tests.conftest import replica_settings
from tests.test_mirror import populate

pytestmark = pytest.mark.turso


def _equal(db, target, name) -> None:
    with db.replica.lock:
        assert compare(db.replica.raw, target, source_name=name) == []


def test_mirror_follows_a_turso_replica_and_reports_each_pull(tmp_path, sync_server):
    a = connect(replica_settings(tmp_path, sync_server, "a.db"))
    upgrade(a)
    ids = populate(a, users=4)
    target = tmp_path / "analytics.duckdb"
    mirrored = replica_settings(tmp_path, sync_server, "b.db")
    first = mirror.refresh(mirrored, target)  # opens (bootstraps) the replica, pulls, reads
    assert first.sources[0].pull is not None
    assert first["User"].rows == 4 and first["DocumentChunk"].rows == 3
    with a.transaction() as s:
        s.get(m.User, ids[0]).plan = m.Plan.premium
        s.delete(s.get(m.User, ids[1]))
        s.add(m.User(email="new@example.com"))
    second = mirror.refresh(mirrored, target)
    pull = second.sources[0].pull
    assert pull.changed and pull.bytes_received > 0 and pull.seconds >= 0
    assert (second["User"].inserted, second["User"].updated, second["User"].deleted) == (1, 1, 1)
    assert second["AIUsage"].deleted == 3
    last = status(target).refreshes[0]
    assert last.pull_bytes == pull.bytes_received and last.pull_seconds == pytest.approx(pull.seconds)
    b = connect(mirrored)
    _equal(b, target, "b")
    b.close()
    a.close()


def test_refreshes_while_the_replica_syncs_in_the_background_and_readers_read(tmp_path, sync_server):
    a = connect(replica_settings(tmp_path, sync_server, "a.db"))
    upgrade(a)
    populate(a, users=2)
    target = tmp_path / "analytics.duckdb"
    b = connect(replica_settings(tmp_path, sync_server, "b.db", sync_interval=0.05), background_sync=True)
    mirror.refresh(b, target)
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:  # a DuckDB reader is never blocked by pulls or refreshes
        while not stop.is_set():
            try:
                con = mirror.open_reader(target)
                con.execute('SELECT count(*) FROM "AIUsage"').fetchone()
                con.close()
            except Exception as exc:
                errors.append(repr(exc))
            time.sleep(0.01)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(5):
        with a.transaction() as s:
            user = m.User(email=f"bg{i}@example.com")
            s.add(user)
            s.flush()
            s.add(m.AIUsage(userId=user.id, prompt="p", usageMonth="2024-05"))
        report = mirror.refresh(b, target)  # reads under the replica's lock: no pull can interleave
        assert report.sources[0].pull is not None
    stop.set()
    reader.join()
    assert errors == []
    b.replica.stop()
    b.pull()
    mirror.refresh(b, target)
    _equal(b, target, "b")
    assert status(target).table("User").rows == 7
    b.close()
    a.close()
