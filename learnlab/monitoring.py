"""Query monitoring, as the seed's ``client.$on("query")`` hook, persisted so it reaches the mirror.

``QueryMonitor`` sees every statement an engine runs (SQLAlchemy cursor events), groups
them by fingerprint (the statement with literals replaced by ``?``) per time bucket, in the
manner of pg_stat_statements, and keeps samples of statements slower than ``slow_ms`` (the
seed's 20 ms) with their query plan. ``flush()`` writes ``QueryStat`` (upserted per
fingerprint, source and bucket) and ``SlowQuery`` rows in one transaction.

>>> monitor = QueryMonitor(db, source="api")        # doctest: +SKIP
>>> ...; monitor.flush()
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy import event

from learnlab.db.encoding import EPOCH, utcnow
from learnlab.models import QueryStat, SlowQuery

SLOW_MS = 20.0
_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_SPACE = re.compile(r"\s+")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")


def normalize(statement: str) -> str:
    """Literals and IN-lists become ``?``, white space one blank: one text per query shape."""
    text = _SPACE.sub(" ", _LITERALS.sub("?", statement)).strip()
    return _IN_LIST.sub("(?)", text)


def fingerprint(statement: str) -> str:
    return hashlib.sha1(normalize(statement).encode()).hexdigest()[:16]


@dataclass
class _Bucket:
    statement: str
    durations: list[float] = field(default_factory=list)
    rows: int = 0


class QueryMonitor:
    """Collects statement timings from an engine; ``flush`` persists them; ``close`` detaches."""

    def __init__(self, db: Any, *, source: str = "learnlab", slow_ms: float = SLOW_MS,
                 bucket: timedelta = timedelta(minutes=1), on_slow: Callable[[str, float], None] | None = None):
        self.db = db
        self.source = source
        self.slow_ms = slow_ms
        self.bucket = bucket
        self.on_slow = on_slow
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, datetime], _Bucket] = {}
        self._slow: list[tuple[str, str, float, datetime, tuple]] = []
        self._local = threading.local()
        event.listen(db.engine, "before_cursor_execute", self._before)
        event.listen(db.engine, "after_cursor_execute", self._after)

    def close(self) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._before)
        event.remove(self.db.engine, "after_cursor_execute", self._after)

    def _bucket_start(self, at: datetime) -> datetime:
        size = self.bucket.total_seconds()
        return EPOCH + timedelta(seconds=(at - EPOCH).total_seconds() // size * size)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info.setdefault("learnlab_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        started = conn.info["learnlab_started"].pop()
        if getattr(self._local, "flushing", False):
            return  # the monitor's own writes are not measured
        ms = (time.perf_counter() - started) * 1000
        now = utcnow()
        key = (fingerprint(statement), self._bucket_start(now))
        with self._lock:
            b = self._stats.setdefault(key, _Bucket(normalize(statement)))
            b.durations.append(ms)
            b.rows += max(cursor.rowcount or 0, 0)
            if ms > self.slow_ms:
                params = tuple(parameters) if isinstance(parameters, (list, tuple)) and not executemany else ()
                self._slow.append((key[0], statement, ms, now, params))
        if ms > self.slow_ms and self.on_slow:
            self.on_slow(statement, ms)

    def flush(self) -> int:
        """Write what was collected since the last flush; returns the number of rows written."""
        with self._lock:
            stats, self._stats = self._stats, {}
            slow, self._slow = self._slow, []
        if not stats and not slow:
            return 0
        self._local.flushing = True
        try:
            with self.db.transaction() as s:
                for (fp, start), b in stats.items():
                    self._upsert(s, fp, start, b)
                for fp, statement, ms, at, params in slow:
                    s.add(SlowQuery(fingerprint=fp, statement=statement, source=self.source, durationMs=ms,
                                    plan=self._plan(s, statement, params), occurredAt=at))
        finally:
            self._local.flushing = False
        return len(stats) + len(slow)

    def _upsert(self, s: Any, fp: str, start: datetime, b: _Bucket) -> None:
        d = sorted(b.durations)
        p95 = d[min(len(d) - 1, int(round(0.95 * (len(d) - 1))))]
        row = s.scalars(sa.select(QueryStat).where(
            QueryStat.fingerprint == fp, QueryStat.source == self.source, QueryStat.bucketStart == start)).one_or_none()
        if row is None:
            s.add(QueryStat(fingerprint=fp, statement=b.statement, source=self.source, bucketStart=start,
                            calls=len(d), totalMs=sum(d), maxMs=d[-1], p95Ms=p95, rows=b.rows))
        else:  # a bucket flushed twice: merge (p95 of the two halves is approximated by the larger)
            row.calls += len(d)
            row.totalMs += sum(d)
            row.maxMs = max(row.maxMs, d[-1])
            row.p95Ms = max(row.p95Ms, p95)
            row.rows += b.rows

    @staticmethod
    def _plan(s: Any, statement: str, params: tuple) -> str | None:
        if not statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")):
            return None
        try:
            return "\n".join(_explain(s.connection(), statement, params))
        except Exception:
            return None

    def __enter__(self) -> "QueryMonitor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.flush()
        self.close()


def analyze_query(db: Any, statement: str, params: tuple = ()) -> list[str]:
    """The seed's ``analyzeQuery``: SQLite's ``EXPLAIN QUERY PLAN`` lines for a statement."""
    with db.engine.connect() as c:
        return _explain(c, statement, params)


def _explain(conn: Any, statement: str, params: tuple) -> list[str]:
    return [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
