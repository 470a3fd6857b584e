"""Shared fixtures: real databases in temporary folders, a real tursodb sync server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from learnlab.config import Settings
from learnlab.db.engine import Database, connect
from learnlab.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "tests" / "node"
TURSODB = NODE_DIR / "node_modules" / "@tursodatabase" / "cli-linux-x64-gnu" / "tursodb"

os.environ.pop("DATABASE_URL", None)
os.environ.pop("TURSO_DATABASE_URL", None)
os.environ.pop("TURSO_AUTH_TOKEN", None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"file:{tmp_path / 'dev.db'}")


@pytest.fixture
def db(settings: Settings) -> Database:
    """A migrated stdlib-SQLite database in a temporary folder."""
    database = connect(settings)
    upgrade(database)
    yield database
    database.close()


class SyncServer:
    """``tursodb --sync-server 127.0.0.1:<port> <file>``: Turso's own sync server, started for real."""

    def __init__(self, folder: Path):
        if not TURSODB.exists():
            pytest.fail(f"{TURSODB} is missing: run ./dev setup --test")
        self.folder = folder
        self.file = folder / "server.db"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SyncServer":
        log = open(self.folder / "server.log", "ab")
        self.proc = subprocess.Popen(
            [str(TURSODB), "--sync-server", f"127.0.0.1:{self.port}", str(self.file)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tursodb exited with {self.proc.returncode}; see {self.folder / 'server.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("tursodb sync server did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def sync_server(tmp_path: Path):
    folder = tmp_path / "server"
    folder.mkdir()
    server = SyncServer(folder).start()
    yield server
    server.stop()


def replica_settings(folder: Path, server: SyncServer, name: str, **kw) -> Settings:
    return Settings(turso_url=server.url, local_db_url=f"file:{folder / name}", **kw)


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    if not path:
        pytest.fail("node is not installed; the Prisma interop tests need Node.js 20+")
    if not (NODE_DIR / "node_modules" / "@prisma" / "client").exists():
        pytest.fail("Prisma Client is missing: run ./dev setup --test")
    return path


@pytest.fixture(scope="session")
def seeded_mirror(tmp_path_factory) -> Path:
    """A folder with ``dev.db`` (migrated, 300 seeded users) and its ``analytics.duckdb`` mirror."""
    from learnlab.mirror import refresh
    from seeds.run import seed

    folder = tmp_path_factory.mktemp("seeded")
    settings = Settings(database_url=f"file:{folder / 'dev.db'}")
    with connect(settings) as database:
        upgrade(database)
        seed(database, users=300, seed=7)
    refresh(settings, folder / "analytics.duckdb")
    return folder
