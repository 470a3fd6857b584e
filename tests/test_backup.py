"""Backups: consistent online copy, verification, encryption, retention, atomic restore."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.backup import BackupError, backup, new_key, prune, restore, verify_backup
from learnlab.db.engine import connect
from learnlab.errors import ConfigError


def add_users(db, n, prefix="u"):
    with db.transaction() as s:
        s.add_all([m.User(email=f"{prefix}{i}@x") for i in range(n)])


def test_backup_verifies_and_restores(db, tmp_path):
    add_users(db, 30)
    report = backup(db, tmp_path / "backups")
    assert report.ok and report.counts["User"] == 30 and report.path.suffix == ".db"
    add_users(db, 5, prefix="later")
    db.close()
    restored = restore(report.path, db.path)
    assert restored.counts["User"] == 30
    with connect(db.settings) as again, again.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.User)) == 30


def test_encrypted_backups_need_their_key(db, tmp_path):
    add_users(db, 3)
    key = new_key()
    report = backup(db, tmp_path / "b", key=key)
    assert report.path.name.endswith(".db.enc") and b"SQLite format" not in report.path.read_bytes()[:100]
    assert verify_backup(report.path, key=key).counts["User"] == 3
    with pytest.raises(ConfigError, match="LEARNLAB_BACKUP_KEY"):
        verify_backup(report.path)
    with pytest.raises(BackupError, match="cannot be decrypted"):
        verify_backup(report.path, key=new_key())


def test_a_damaged_backup_is_refused_and_nothing_is_replaced(db, tmp_path):
    add_users(db, 3)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    assert not verify_backup(bad).ok
    with pytest.raises(BackupError, match="not restoring"):
        restore(bad, db.path)
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.User)) == 3


def test_retention_prunes_old_backups(db, tmp_path):
    folder = tmp_path / "b"
    old = backup(db, folder).path
    past = time.time() - timedelta(days=31).total_seconds()
    os.utime(old, (past, past))
    fresh = backup(db, folder).path
    assert not old.exists() and fresh.exists()
    assert prune(folder) == []
