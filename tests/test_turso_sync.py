"""Turso replicas against the real ``tursodb --sync-server``: push, pull, failures, background sync."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.db.engine import connect
from learnlab.errors import DatabaseUnavailable, SyncError
from learnlab.migrate import upgrade
from tests.conftest import free_port, replica_settings

pytestmark = pytest.mark.turso
T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
TOKEN = "tok-SECRET-123"


def test_write_push_on_one_replica_pull_on_another(tmp_path, sync_server):
    a = connect(replica_settings(tmp_path, sync_server, "a.db", turso_auth_token=TOKEN))
    upgrade(a)  # migrations applied locally reach the remote by push
    b = connect(replica_settings(tmp_path, sync_server, "b.db"))
    with a.transaction() as s:
        s.add(m.User(id="U1", email="ada@example.com", name="Ada", plan=m.Plan.pro, isSubscribed=True,
                     createdAt=T0, updatedAt=T0, lastSeenAt=T0))
        s.add(m.Document(id="D1", title="t", content="c", createdAt=T0, updatedAt=T0))
        s.add(m.DocumentChunk(id="C1", chunkIndex=0, embedding=b"\x01\x02", metadata_={"dim": 2}, documentId="D1",
                              content="x", createdAt=T0, updatedAt=T0))
    report = b.pull()
    assert report.changed and report.bytes_received > 0
    with b.session() as s:
        user = s.get(m.User, "U1")
        chunk = s.get(m.DocumentChunk, "C1")
    assert (user.email, user.plan, user.isSubscribed, user.createdAt) == ("ada@example.com", m.Plan.pro, True, T0)
    assert (chunk.embedding, chunk.metadata_) == (b"\x01\x02", {"dim": 2})
    # and back: an update on b reaches a
    with b.transaction() as s:
        s.get(m.User, "U1").name = "Ada L."
    a.pull()
    with a.session() as s:
        assert s.get(m.User, "U1").name == "Ada L."
    a.close()
    b.close()


def test_push_while_the_server_is_down_keeps_the_write_and_delivers_it_later(tmp_path, sync_server, caplog):
    a = connect(replica_settings(tmp_path, sync_server, "a.db", turso_auth_token=TOKEN))
    upgrade(a)
    b = connect(replica_settings(tmp_path, sync_server, "b.db"))
    sync_server.stop()
    with caplog.at_level(logging.WARNING, logger="learnlab.turso"):
        with a.transaction() as s:  # the local commit succeeds; its automatic push fails
            s.add(m.User(id="U2", email="late@example.com"))
    assert any(sync_server.url in r.getMessage() for r in caplog.records)
    with pytest.raises(SyncError) as err:
        a.push()
    message = str(err.value)
    assert sync_server.url in message and "kept" in message and TOKEN not in message
    with a.session() as s:
        assert s.get(m.User, "U2").email == "late@example.com"
    sync_server.start()
    a.push()
    b.pull()
    with b.session() as s:
        assert s.get(m.User, "U2").email == "late@example.com"
    a.close()
    b.close()


def test_background_sync_pulls_on_the_interval(tmp_path, sync_server):
    a = connect(replica_settings(tmp_path, sync_server, "a.db"))
    upgrade(a)
    b = connect(replica_settings(tmp_path, sync_server, "b.db", sync_interval=0.2), background_sync=True)
    with a.transaction() as s:
        s.add(m.User(id="U3", email="bg@example.com"))
    deadline = time.monotonic() + 10
    found = None
    while time.monotonic() < deadline and found is None:
        with b.session() as s:
            found = s.scalar(sa.select(m.User.email).where(m.User.id == "U3"))
        time.sleep(0.1)
    assert found == "bg@example.com"
    a.close()
    b.close()


def test_unreachable_remote_names_the_url_never_the_token(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    from learnlab.config import Settings

    settings = Settings(turso_url=url, turso_auth_token=TOKEN, local_db_url=f"file:{tmp_path / 'r.db'}")
    with pytest.raises(DatabaseUnavailable) as err:
        connect(settings)
    assert url in str(err.value) and TOKEN not in str(err.value)
