"""A Turso local replica through ``pyturso`` (``turso.sync``): pull on an interval, push after writes.

One ``ConnectionSync`` per replica file (the sync engine keeps its own metadata beside
the file, so two in one process would fight). SQLAlchemy reaches it through a pool of
one, which also serialises the background puller with the application's statements.
Errors name the remote URL, never the token.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from learnlab.errors import DatabaseUnavailable, SyncError

log = logging.getLogger("learnlab.turso")


def http_url(remote_url: str) -> str:
    """``libsql://`` and ``turso://`` speak HTTPS; the local sync server plain HTTP."""
    for scheme in ("libsql://", "turso://", "wss://"):
        if remote_url.startswith(scheme):
            return "https://" + remote_url[len(scheme):]
    if remote_url.startswith("ws://"):
        return "http://" + remote_url[len("ws://"):]
    return remote_url


def _reason(exc: BaseException, token: str | None) -> str:
    text = str(exc) or type(exc).__name__
    if token:
        text = text.replace(token, "***")
    return text


@dataclass
class PullReport:
    """What one pull brought: whether anything changed, bytes received, time taken."""

    changed: bool
    bytes_received: int
    seconds: float


class TursoReplica:
    """A local replica file kept in step with a Turso remote."""

    def __init__(self, path: Path, remote_url: str, auth_token: str | None, *, push_after_commit: bool = True):
        self.path = Path(path)
        self.remote_url = remote_url
        self._token = auth_token
        self.push_after_commit = push_after_commit
        self.lock = threading.RLock()
        self._conn: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: SyncError | None = None
        self.last_pull: PullReport | None = None

    def __repr__(self) -> str:
        return f"TursoReplica({str(self.path)!r}, {self.remote_url!r})"

    # -- the connection -------------------------------------------------------------------
    def connection(self) -> Any:
        """The one DB-API connection of this replica (opened, and bootstrapped, on first use)."""
        with self.lock:
            if self._conn is None:
                import turso.sync

                if not self.path.parent.exists():
                    raise DatabaseUnavailable(f"the replica's folder {self.path.parent} does not exist")
                try:
                    raw = turso.sync.connect(
                        str(self.path), http_url(self.remote_url), auth_token=self._token, client_name="learnlab"
                    )
                except Exception as exc:  # pyturso raises its own DatabaseError/OperationalError kinds
                    raise DatabaseUnavailable(
                        f"cannot open the Turso replica {self.path} of {self.remote_url}: "
                        f"{_reason(exc, self._token)}; check TURSO_DATABASE_URL and that the remote is reachable"
                    ) from None
                raw.execute("PRAGMA foreign_keys = ON")
                self._conn = _ReplicaConnection(raw, self)
            return self._conn

    @property
    def raw(self) -> Any:
        return self.connection()._conn

    # -- sync -----------------------------------------------------------------------------
    def pull(self) -> PullReport:
        """Bring the remote's changes into the local file; ``SyncError`` if the remote fails."""
        with self.lock:
            raw = self.raw
            before = self._received()
            start = time.perf_counter()
            try:
                changed = bool(raw.pull())
            except Exception as exc:
                raise self._error("pulling from", exc) from None
            report = PullReport(changed, max(0, self._received() - before), time.perf_counter() - start)
            self.last_pull = report
            return report

    def push(self) -> None:
        """Send local commits to the remote; on failure they stay local and a later push sends them."""
        with self.lock:
            try:
                self.raw.push()
            except Exception as exc:
                err = self._error("pushing local changes to", exc)
                self.last_error = err
                raise err from None
            self.last_error = None

    def sync(self) -> PullReport:
        """Push what is pending, then pull."""
        self.push()
        return self.pull()

    def stats(self) -> Any:
        with self.lock:
            return self.raw.stats()

    def pending_operations(self) -> int:
        """Local changes not yet pushed (CDC operations)."""
        return int(self.stats().cdc_operations)

    def _received(self) -> int:
        try:
            return int(self.raw.stats().network_received_bytes)
        except Exception:
            return 0

    def _error(self, what: str, exc: BaseException) -> SyncError:
        return SyncError(
            f"{what} {self.remote_url} failed: {_reason(exc, self._token)}. Local writes are kept in "
            f"{self.path} and go out with the next successful push"
        )

    def after_commit(self) -> None:
        if not self.push_after_commit:
            return
        try:
            self.push()
        except SyncError as exc:
            # The commit itself succeeded locally: report, keep the data, retry on the next sync.
            log.warning("%s", exc)

    # -- background -----------------------------------------------------------------------
    def start(self, interval: float, on_error: Callable[[SyncError], None] | None = None) -> None:
        """Sync (push pending, pull) every ``interval`` seconds in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sync()
                except SyncError as exc:
                    log.warning("%s", exc)
                    if on_error:
                        on_error(exc)

        self._thread = threading.Thread(target=loop, name=f"learnlab-sync-{self.path.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def close(self) -> None:
        self.stop()
        with self.lock:
            if self._conn is not None:
                try:
                    self._conn._conn.close()
                finally:
                    self._conn = None


class _ReplicaConnection:
    """The DB-API connection handed to SQLAlchemy: commits push to the remote afterwards."""

    def __init__(self, conn: Any, replica: TursoReplica):
        self._conn = conn
        self._replica = replica

    def commit(self) -> None:
        with self._replica.lock:
            self._conn.commit()
        self._replica.after_commit()

    def close(self) -> None:
        # The pool "closes" connections it discards; the replica owns this one.
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
