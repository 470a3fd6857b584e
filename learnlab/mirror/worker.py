"""Running a refresh in a child process, so DuckDB's SQLite reader never shares a process with
other SQLite connections to the same file.

DuckDB's sqlite reader carries its own copy of SQLite. Two copies of SQLite in one process
do not see each other's POSIX locks, and closing a file in one drops the other's locks
(SQLite's "How To Corrupt" 2.2.1): an app or notebook holding the database through
Python's ``sqlite3`` would silently lose its locks on the WAL index each time a refresh
closed the file, and another process could then reset the WAL under it (seen here as
"disk I/O error" in a test). So ``refresh()`` reads SQLite sources from a child process by
default; the CLI, which opens the source only through the mirror, refreshes in-process.

The protocol: one pickled request on the child's stdin; length-prefixed pickled messages
(progress events, traced statements, then the report or the error) on a private pipe. With the
report the refresh is published: the caller gets it at once, and the child, which then only
gives its memory back and exits, is reaped on a thread.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

from learnlab.errors import MirrorError

ROOT = Path(__file__).resolve().parents[2]


def _send(out: BinaryIO, message: tuple) -> None:
    data = pickle.dumps(message)
    out.write(struct.pack(">Q", len(data)) + data)
    out.flush()


def _receive(inp: BinaryIO) -> tuple | None:
    head = inp.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return pickle.loads(inp.read(size))


def run(request: dict, progress: Any = None, tracer: Any = None) -> Any:
    """Run ``refresh(**request)`` in a child process; progress and traced statements come back live."""
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    request = {**request, "forward_progress": progress is not None, "forward_trace": tracer is not None}
    child = subprocess.Popen([sys.executable, "-m", "learnlab.mirror.worker", str(write_fd)],
                             stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env)
    os.close(write_fd)
    result: tuple | None = None
    try:
        with os.fdopen(read_fd, "rb") as inp:
            assert child.stdin is not None
            child.stdin.write(pickle.dumps(request))
            child.stdin.close()
            while (message := _receive(inp)) is not None:
                kind = message[0]
                if kind == "progress" and progress is not None:
                    progress(message[1])
                elif kind == "trace" and tracer is not None:
                    tracer(message[1], message[2])
                elif kind in ("done", "error"):
                    result = message
        if result is not None and result[0] == "done":
            # Published: the child only gives its memory back and exits (~35 ms at 2M rows); it
            # is reaped meanwhile, on a thread, instead of before the report is returned.
            threading.Thread(target=child.wait, name="learnlab-worker-exit", daemon=True).start()
        else:
            child.wait()
    except BaseException:
        # Ctrl-C (or a failing callback): the child's uncommitted refresh is simply discarded.
        child.terminate()
        child.wait()
        raise
    if result is None:
        raise MirrorError(f"the refresh worker exited with status {child.returncode} before reporting; "
                          "the mirror is left at its previous refresh")
    if result[0] == "error":
        raise result[1]
    return result[1]


def main(fd: int) -> None:
    from learnlab.mirror.refresh import refresh

    request = pickle.loads(sys.stdin.buffer.read())
    with os.fdopen(fd, "wb") as out:
        forward_progress = request.pop("forward_progress")
        forward_trace = request.pop("forward_trace")
        try:
            report = refresh(
                **request, in_process=True,
                progress=(lambda e: _send(out, ("progress", e))) if forward_progress else None,
                tracer=(lambda sql, params: _send(out, ("trace", sql, params))) if forward_trace else None,
            )
            _send(out, ("done", report))
        except BaseException as exc:  # report every failure to the parent, then exit non-zero
            try:
                pickle.dumps(exc)
            except Exception:
                exc = MirrorError(f"{type(exc).__name__}: {exc}")
            _send(out, ("error", exc))
            sys.exit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]))
