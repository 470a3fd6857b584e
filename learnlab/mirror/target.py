"""The DuckDB side: generation files, atomic publication, and the read-only reader API.

DuckDB lets one process write a file and no other process open it meanwhile, and a
read-only process keeps a shared lock for as long as it has the file open. So readers and
the writer never share a file:

- ``analytics.duckdb`` is a symbolic link to the *published* generation,
  ``analytics.duckdb.d/gen-NNNNNN.duckdb``. Readers (``open_reader``, notebooks,
  ``duckdb.connect("analytics.duckdb", read_only=True)``) open whatever it points to and keep
  that consistent file for as long as they hold it.
- A refresh writes another generation: the one published before the current one when no
  reader holds it (it first replays the published refresh onto itself, see ``catchup``, so
  each refresh still costs what changed; ``watch`` does that replay between ticks and
  ``learnlab mirror`` once its refresh is published: ``prepare_next``), else a
  copy of the published one. It commits, checkpoints, closes the file, and only then is the
  link swapped (``rename``, atomic). A crash at any point leaves the published file untouched
  and the written one at its previous or its new commit. The writer's DuckDB instance, which
  had the file ATTACHed, is closed after that, on a thread (``Writer.close``).
- Generations no longer published and no longer open are deleted; one writer at a time
  (a lock file in the folder).

``Target`` is the small interface a later open-table-format target implements too.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol

from learnlab.errors import MirrorError
from learnlab.mirror import book
from learnlab.mirror.convert import sql_text
from learnlab.mirror.source import WRITER_CONFIG

GEN = re.compile(r"^gen-(\d{6,})\.duckdb$")
# A reader reads the link, then opens and locks the file it points to. ``prepare_next`` (run
# right after a refresh is published) waits this long after the link moved before it opens the
# generation the link just left, so a reader that read the link a moment before the swap still
# finds that file free; ``open_reader`` also reads the link again if that file was taken meanwhile.
READER_GRACE = 0.1
# The name the writer's connection gives the generation it writes (``_open_writable``).
WRITING = "_learnlab_writing"
# Which refresh the published generation holds (``_note_published``), beside the generations.
NOTE = "published.json"
# The storage format generations are written in: the newest the installed DuckDB writes. DuckDB's
# default is still v1.0.0's, for older readers; 1.5's is smaller and cheaper to write (2M AI-usage
# rows: 187 -> 103 MiB, the copy 2.5 -> 1.7 s, a commit of 20k changed rows 134 -> 85 ms). A file
# written in an older format is upgraded by its next refresh (its new row groups). Read the mirror
# with the DuckDB learnlab installs (or any >= 1.5).
STORAGE_VERSION = "latest"
INTERNAL_DDL = (
    """CREATE TABLE IF NOT EXISTS _mirror_meta (key VARCHAR, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _mirror_quality (
        source VARCHAR, table_name VARCHAR, column_name VARCHAR, row_id VARCHAR, stored_type VARCHAR,
        stored_value VARCHAR, problem VARCHAR, refresh_id VARCHAR, seen_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS _mirror_drift (
        refresh_id VARCHAR, source VARCHAR, table_name VARCHAR, change VARCHAR, detail VARCHAR, seen_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS _mirror_changes (
        refresh_id VARCHAR, source VARCHAR, table_name VARCHAR, row_key VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _mirror_groups (
        source VARCHAR, table_name VARCHAR, p INTEGER, g VARCHAR, n BIGINT)""",
)
# (_mirror_state, _mirror_refresh and _mirror_table_log are views over _mirror_book: see ``book``)
INTERNAL_TABLES = ("_mirror_meta", "_mirror_book", "_mirror_state", "_mirror_refresh", "_mirror_table_log",
                   "_mirror_quality", "_mirror_drift", "_mirror_groups")


class MirrorBusy(MirrorError):
    """Another process is refreshing the same mirror."""


class Target(Protocol):
    """Where refreshed tables go: a transaction per refresh, published only once committed."""

    def writing(self) -> Any: ...
    def open_reader(self) -> Any: ...


def setup_connection(con: Any) -> None:
    """Settings of the writer's connection: timestamps are read and stored in UTC; the commit
    writes the refresh straight into the file (a checkpoint) instead of first into the WAL and
    then again into the file: 40 ms less for 21k changed rows. A checkpoint is atomic (new
    blocks, then the header), so a crash still leaves the previous or the new refresh."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET wal_autocheckpoint = '1KB'")
    con.execute("SET auto_checkpoint_skip_wal_threshold = 0")


def create_internal_tables(con: Any) -> None:
    """The bookkeeping tables, and the book in the current format. A file whose format note is
    current already has them all (the note is written last): then one query. (A new internal
    table therefore comes with a new ``book.FORMAT``.)"""
    import duckdb

    try:
        row = con.execute("SELECT value FROM _mirror_meta WHERE key = 'format'").fetchone()
    except duckdb.CatalogException:  # a new file
        row = None
    if row is not None and row[0] == book.FORMAT:
        return
    for ddl in INTERNAL_DDL:
        con.execute(ddl)
    con.execute("DROP SCHEMA IF EXISTS _learnlab_delta CASCADE")  # (where older refreshes kept changed rows)
    if row is None or row[0] != book.FORMAT:
        book.create(con)
        con.execute("DELETE FROM _mirror_meta WHERE key = 'format'")
        con.execute("INSERT INTO _mirror_meta VALUES ('format', ?)", [book.FORMAT])


@dataclass
class DuckDBTarget:
    """``path`` (the published link) and its generations folder ``<path>.d``."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path).expanduser().absolute()
        self.folder = self.path.with_name(self.path.name + ".d")

    # -- what is there --------------------------------------------------------------------
    def generations(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        gens = [p for p in self.folder.iterdir() if GEN.match(p.name)]
        return sorted(gens, key=lambda p: int(GEN.match(p.name).group(1)))

    def published(self) -> Path | None:
        """The generation the link points to (``None`` before the first refresh)."""
        if self.path.is_symlink():
            target = Path(os.readlink(self.path))
            target = target if target.is_absolute() else self.path.parent / target
            return target if target.exists() else None
        return None

    def exists(self) -> bool:
        return self.published() is not None

    def since_swap(self) -> float:
        """Seconds since the link last moved (a refresh was published); large when there is no link."""
        try:
            return time.time() - os.lstat(self.path).st_mtime
        except OSError:
            return float("inf")

    def _adopt_plain_file(self) -> None:
        """A regular DuckDB file at ``path`` (made by hand, or by an older layout): adopt it if it is a mirror."""
        if self.path.is_symlink() or not self.path.exists():
            return
        import duckdb

        try:
            con = duckdb.connect(str(self.path), read_only=True)
            try:
                is_mirror = bool(con.execute(
                    "SELECT 1 FROM information_schema.tables WHERE table_name = '_mirror_state'").fetchone())
            finally:
                con.close()
        except duckdb.Error as exc:
            raise MirrorError(f"{self.path} exists and is not a DuckDB file DuckDB can open ({exc}); "
                              "move it away or choose another --duckdb path") from None
        if not is_mirror:
            raise MirrorError(f"{self.path} exists and is not a learnlab mirror; move it away or choose another "
                              "--duckdb path (LEARNLAB_DUCKDB)")
        self.folder.mkdir(exist_ok=True)
        gen = self.folder / "gen-000001.duckdb"
        (self.folder / NOTE).unlink(missing_ok=True)  # (it may name the file being replaced)
        os.replace(self.path, gen)
        self._link(gen)

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def lock(self, wait: float = 300.0) -> Iterator[None]:
        """One writer at a time; waits up to ``wait`` seconds for another refresh to finish."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "writer.lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                        raise MirrorBusy(
                            f"another refresh of {self.path} is running (pid {holder}); wait for it, "
                            "or stop the other `learnlab mirror --watch`"
                        ) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock

    @contextmanager
    def writing(self) -> Iterator["Writer"]:
        """A read-write connection on a generation no reader has open; published on success.

        The generation is reused when it is one refresh behind the published file and that
        refresh can be replayed (``Writer.catch_up()``, to call inside the refresh's
        transaction), else it is a fresh copy of the published file.
        """
        from learnlab.mirror import catchup

        self.folder.mkdir(parents=True, exist_ok=True)
        self._adopt_plain_file()
        self._clean_temporaries()
        published = self.published()
        writer = self._reusable(published)
        if writer is None:
            gen = self._new_generation(published)
            con = _open_writable(gen)
            if con is None:
                raise MirrorError(f"{gen} is open in another process; stop it, or remove the file")
            setup_connection(con)
            create_internal_tables(con)
            writer = Writer(con, gen, [])
        try:
            yield writer
            writer.detach()
            writer.con.execute("CHECKPOINT")
            last = catchup.last_refresh(writer.con)
            writer.close_file()
        except BaseException:
            writer.con.close()
            raise
        self._note_published(writer.gen, last)
        self._link(writer.gen)
        writer.close(later=True)
        self.collect_garbage()

    def _reusable(self, published: Path | None) -> "Writer | None":
        """The newest unpublished generation no reader holds and the published refresh can bring
        up to date, opened for writing with the published file ATTACHed (``None``: none is).
        A generation already at the published refresh (``prepare_next`` replayed it) is taken
        without ATTACHing the published file (~8 ms at 2M rows), when the note written just
        before the link moved says which refresh the published file holds (``_note_published``)."""
        from learnlab.mirror import catchup

        noted = self._noted_refresh(published)
        for candidate in reversed(self.generations()):
            if candidate == published:
                continue
            con = _open_writable(candidate)
            if con is None:
                continue
            setup_connection(con)
            create_internal_tables(con)
            if noted is not None and catchup.last_refresh(con) == noted:
                return Writer(con, candidate, [])
            todo = None
            if published is not None:
                con.execute(f"ATTACH {sql_text(str(published))} AS {catchup.PUB} (READ_ONLY)")
                todo = catchup.pending(con)
                if todo is None:
                    con.execute(f"DETACH {catchup.PUB}")
            if published is None or todo is not None:
                return Writer(con, candidate, todo or [], attached=published is not None)
            con.close()
        return None

    def prepare_next(self) -> int | None:
        """Replay the published refresh onto the generation the next refresh will write, now
        (``watch`` calls it while it waits for the next tick): that refresh then starts with
        nothing to replay, and publishes sooner. Returns the rows replayed; ``None`` when
        nothing was prepared (another refresh running, or the generation is held by a reader or
        too far behind: the next refresh copies the published file, as it would have). After the
        first refresh, the copy is made now."""
        from learnlab.mirror import catchup

        try:
            with self.lock(wait=0):
                time.sleep(max(0.0, READER_GRACE - self.since_swap()))
                published = self.published()
                writer = self._reusable(published)
                if writer is None:
                    return self._copy_ahead(published)
                try:
                    writer.con.execute("BEGIN")
                    replayed = writer.catch_up()
                    writer.con.execute("COMMIT")
                except catchup.CatchUpFailed:
                    writer.con.close()
                    self.discard(writer.gen)
                    return None
                except BaseException:
                    writer.con.close()
                    raise
                writer.detach()
                writer.close_file()
                writer.close(later=True)
                return replayed
        except MirrorBusy:
            return None

    def _copy_ahead(self, published: Path | None) -> int | None:
        """After the first refresh the published file is the only one: copy it now (the next
        refresh would, before its changes: ~0.2 s for 2M rows); 0 rows replayed. ``None`` when
        another generation exists (held by a reader, or too far behind: the next refresh decides)."""
        if published is None or any(g != published for g in self.generations()):
            return None
        self._new_generation(published)
        return 0

    def _new_generation(self, published: Path | None) -> Path:
        gens = self.generations()
        number = int(GEN.match(gens[-1].name).group(1)) + 1 if gens else 1
        gen = self.folder / f"gen-{number:06d}.duckdb"
        if published is not None:
            # Published generations are immutable (readers open them read-only), so a plain
            # copy is a consistent copy; copy to a temporary name so a crash leaves no half file.
            tmp = gen.with_name(gen.name + ".tmp")
            shutil.copyfile(published, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, gen)
        return gen

    def _note_published(self, gen: Path, refresh_id: str | None) -> None:
        """Note which refresh ``gen`` holds, just before the link moves to it. The note is only
        trusted while it names the generation the link points to: the writer never writes the
        published generation, and every publication writes its note first, so a note naming it
        was written for it (a crash before the link moved leaves a note naming another file).
        Without the note (or with a stale one) the published file is ATTACHed and read instead,
        so a note that cannot be written (a full disk) costs the next refresh ~8 ms, nothing else."""
        note = self.folder / NOTE
        tmp = note.with_name(f"{NOTE}.{os.getpid()}.tmp")  # (a crash's is cleaned up: ``_clean_temporaries``)
        try:
            tmp.write_text(json.dumps({"generation": gen.name, "refresh": refresh_id, "format": book.FORMAT}))
            os.replace(tmp, note)
        except OSError:
            tmp.unlink(missing_ok=True)

    def _noted_refresh(self, published: Path | None) -> str | None:
        """The refresh the published generation holds, from the note, if the note is about it."""
        if published is None:
            return None
        try:
            note = json.loads((self.folder / NOTE).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(note, dict) or note.get("generation") != published.name or note.get("format") != book.FORMAT:
            return None
        refresh = note.get("refresh")
        return refresh if isinstance(refresh, str) else None

    def _link(self, gen: Path) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.link")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(os.path.relpath(gen, self.path.parent), tmp)
        os.replace(tmp, self.path)
        dirfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)

    def discard(self, gen: Path | None) -> None:
        """Delete an unpublished generation (a refresh could not bring it up to date)."""
        if gen is not None and gen != self.published():
            _remove(gen)

    def _clean_temporaries(self) -> None:
        # Half-copied generations, and DuckDB's spill folders (<file>.tmp/) of a killed writer.
        for p in self.folder.glob("*.tmp"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        for p in self.path.parent.glob(f".{self.path.name}.*.link"):
            p.unlink(missing_ok=True)

    def collect_garbage(self) -> list[Path]:
        """Delete generations neither published, nor the one before (reused next), nor open anywhere."""
        gens = self.generations()
        published = self.published()
        keep = {published, *gens[-2:]}
        removed = []
        for gen in gens:
            # A reader in this process does not show in the lock test; unlinking its file is
            # still safe (it keeps reading the open inode, and no one can open the name again).
            if gen in keep or _locked_elsewhere(gen):
                continue
            _remove(gen)
            removed.append(gen)
        return removed

    # -- reading --------------------------------------------------------------------------
    def open_reader(self) -> Any:
        """A read-only DuckDB connection on the published generation (a consistent refresh)."""
        import duckdb

        for attempt in range(10):
            gen = self.published()
            if gen is None:
                self._adopt_plain_file()
                gen = self.published()
            if gen is None:
                raise MirrorError(f"{self.path} has no mirror yet; run `learnlab mirror` first")
            try:
                return duckdb.connect(str(gen), read_only=True)
            except (duckdb.IOException, duckdb.ConnectionException):
                # A refresh was published between reading the link and opening its file, and the
                # next one already writes that file: read the link again. Otherwise it is an error.
                if self.published() == gen or attempt == 9:
                    raise
        raise AssertionError("unreachable")


@dataclass
class Writer:
    """The connection a refresh writes through, the generation it writes, what it must replay."""

    con: Any
    gen: Path
    pending: list[str]
    attached: bool = False

    def catch_up(self) -> int:
        """Replay the published refresh this generation lacks (inside the refresh's transaction)."""
        from learnlab.mirror import catchup

        try:
            return catchup.replay(self.con, self.pending) if self.pending else 0
        except catchup.CatchUpFailed as exc:
            exc.generation = self.gen
            raise

    def detach(self) -> None:
        """Let go of the published file (ATTACHed read-only for the catch-up)."""
        from learnlab.mirror import catchup

        if self.attached:
            self.con.execute(f"DETACH {catchup.PUB}")
            self.attached = False

    def close_file(self) -> None:
        """Close the generation (committed): DuckDB's lock on it goes, readers can open it. The
        DuckDB instance stays, with the memory the refresh used, until ``close``."""
        self.con.execute("USE memory")
        self.con.execute(f"DETACH {WRITING}")

    def close(self, later: bool = False) -> None:
        """Close the DuckDB instance; ``later``: on a thread, once the file is published (giving
        back the memory of a big refresh to the system takes ~25 ms at 2M rows; no file is
        involved any more). The thread is not a daemon: the process ends after it."""
        if not later:
            self.con.close()
            return
        import threading

        threading.Thread(target=self.con.close, name="learnlab-close-writer").start()


def _remove(gen: Path) -> None:
    gen.unlink(missing_ok=True)
    Path(str(gen) + ".wal").unlink(missing_ok=True)


def _open_writable(gen: Path) -> Any:
    """A writer's connection: an in-memory DuckDB with ``gen`` ATTACHed read-write (``WRITING``,
    in use), so that the file can be closed and published before the instance is (see
    ``Writer.close``); its spill folder is ``<gen>.tmp`` as for a file opened directly. ``None``
    when another process holds the file, or this one has it open (even read-only)."""
    import duckdb

    con = duckdb.connect(":memory:", config={**WRITER_CONFIG, "temp_directory": f"{gen}.tmp"})
    try:
        con.execute(f"ATTACH {sql_text(str(gen))} AS {WRITING} (STORAGE_VERSION {sql_text(STORAGE_VERSION)})")
    except (duckdb.IOException, duckdb.ConnectionException, duckdb.BinderException):
        # Another process holds DuckDB's lock (IOException), or a connection of this one has
        # the file open ("Unique file handle conflict").
        con.close()
        return None
    except BaseException:
        con.close()
        raise
    con.execute(f"USE {WRITING}")
    return con


def _locked_elsewhere(gen: Path) -> bool:
    """Does another process hold DuckDB's lock (fcntl, whole file) on ``gen``?"""
    try:
        fd = os.open(gen, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)
