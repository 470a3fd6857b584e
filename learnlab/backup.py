"""Backups of the operational database: online copy, verification, encrypted at rest, retention, restore.

The seed's policy: daily, kept 30 days, encrypted. ``backup`` takes a consistent online
copy (``VACUUM INTO``: readers and the app keep working), ``verify_backup`` proves it
restores (integrity and foreign-key checks, Prisma's schema, row counts), and
``restore`` swaps a verified copy in atomically. With ``LEARNLAB_BACKUP_KEY`` set (a
Fernet key), backups are encrypted (``.db.enc``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from learnlab.db.encoding import utcnow
from learnlab.errors import ConfigError, LearnlabError

RETENTION = timedelta(days=30)


class BackupError(LearnlabError):
    """A backup could not be made, verified or restored."""


@dataclass
class BackupReport:
    path: Path
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _fernet(key: str | None):
    key = key or os.environ.get("LEARNLAB_BACKUP_KEY")
    if not key:
        return None
    from cryptography.fernet import Fernet

    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise ConfigError("LEARNLAB_BACKUP_KEY is not a Fernet key (make one with `learnlab backup --new-key`)") from None


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def backup(db: Any, folder: Path, *, key: str | None = None, retention: timedelta = RETENTION) -> BackupReport:
    """Copy the database into ``folder`` (encrypted when a key is set), verify it, prune old ones."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    plain = folder / f"{db.path.stem}-{stamp}.db"
    with db.engine.connect() as c:
        raw = c.connection.dbapi_connection  # VACUUM cannot run inside SQLAlchemy's transaction
        try:
            raw.execute("VACUUM INTO ?", (str(plain),))
        except Exception:
            # Drivers without VACUUM INTO (pyturso): SQLite's online backup API on the same file.
            src = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
            dst = sqlite3.connect(plain)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
    report = verify_backup(plain)
    if not report.ok:
        plain.unlink(missing_ok=True)
        raise BackupError(f"the backup of {db.path} failed verification: {'; '.join(report.problems)}")
    fernet = _fernet(key)
    if fernet is not None:
        encrypted = plain.with_suffix(".db.enc")
        encrypted.write_bytes(fernet.encrypt(plain.read_bytes()))
        plain.unlink()
        report.path = encrypted
    prune(folder, retention)
    return report


def prune(folder: Path, retention: timedelta = RETENTION) -> list[Path]:
    """Delete backups older than ``retention``; returns what was deleted."""
    cutoff = time.time() - retention.total_seconds()
    gone = []
    for path in Path(folder).glob("*.db*"):
        if path.suffix in (".db", ".enc") and path.stat().st_mtime < cutoff:
            path.unlink()
            gone.append(path)
    return gone


def _plain_copy(path: Path, key: str | None, into: Path) -> Path:
    if path.suffix != ".enc":
        return path
    fernet = _fernet(key)
    if fernet is None:
        raise ConfigError(f"{path} is encrypted: set LEARNLAB_BACKUP_KEY to the key it was made with")
    from cryptography.fernet import InvalidToken

    try:
        into.write_bytes(fernet.decrypt(path.read_bytes()))
    except InvalidToken:
        raise BackupError(f"{path} cannot be decrypted with this LEARNLAB_BACKUP_KEY") from None
    return into


def verify_backup(path: Path, *, key: str | None = None) -> BackupReport:
    """Integrity, foreign keys, the schema learnlab expects, and row counts of a backup file."""
    from learnlab.db.introspect import describe_schema
    from learnlab.migrate import prisma_reference_schema

    path = Path(path)
    report = BackupReport(path, ok=False)
    if not path.exists():
        report.problems.append(f"{path} does not exist")
        return report
    with tempfile.TemporaryDirectory() as tmp:
        try:
            plain = _plain_copy(path, key, Path(tmp) / "plain.db")
            conn = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
            try:
                if (result := conn.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
                    report.problems.append(f"integrity_check: {result}")
                if fk := conn.execute("PRAGMA foreign_key_check").fetchall():
                    report.problems.append(f"{len(fk)} rows break foreign keys")
                missing = set(prisma_reference_schema()) - set(schema := describe_schema(conn))
                if missing:
                    report.problems.append(f"tables missing: {', '.join(sorted(missing))}")
                for table in schema:
                    report.counts[table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            report.problems.append(f"not a readable SQLite database: {exc}")
    report.ok = not report.problems
    return report


def restore(path: Path, target: Path, *, key: str | None = None) -> BackupReport:
    """Verify a backup, then put it in place of ``target`` atomically (the app should be stopped)."""
    report = verify_backup(path, key=key)
    if not report.ok:
        raise BackupError(f"not restoring {path}: {'; '.join(report.problems)}")
    target = Path(target)
    staging = target.with_name(f".{target.name}.restoring")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(_plain_copy(Path(path), key, Path(tmp) / "plain.db"), staging)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staging, target)
    return report
