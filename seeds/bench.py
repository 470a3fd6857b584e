"""Seeding throughput benchmark: ``python -m seeds.bench --users N``.

Seeds a fresh, migrated SQLite file in a temporary folder and reports, per table, the rows
written and the seconds spent generating, writing and (re-)indexing them; overall rows/s;
peak RSS. As a baseline in the same run it inserts a sample of the same ``AIUsage`` rows
through the ORM (``Session.add_all``, one transaction) into another fresh database, and
prints both rates and their ratio. The default size is ``LEARNLAB_BENCH_USERS`` (2000).
This is a measurement, not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_USERS = 2000
BIG_TABLES = ("AIUsage", "RagQueryResult", "RagQuery", "Session", "User", "UserChallenge")


@dataclass
class BenchResult:
    users: int
    seed: int
    total_rows: int
    elapsed: float
    rows_per_second: float
    peak_rss_mb: float
    seed_rss_mb: float  # the highest RSS sampled while seeding
    tables: dict[str, dict[str, float]] = field(default_factory=dict)
    orm_rows: int = 0
    orm_rows_per_second: float = 0.0
    aiusage_rows_per_second: float = 0.0

    @property
    def speedup(self) -> float:
        return self.aiusage_rows_per_second / self.orm_rows_per_second if self.orm_rows_per_second else 0.0


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _fresh(path: Path, **settings: Any):
    from learnlab.config import Settings
    from learnlab.db.engine import connect
    from learnlab.migrate import upgrade

    db = connect(Settings(database_url=f"file:{path}", **settings))
    upgrade(db)
    return db


def orm_baseline(source: Any, folder: Path, rows: int) -> tuple[int, float]:
    """Insert the first ``rows`` AIUsage rows of ``source`` through the ORM into a fresh database: (rows, rows/s)."""
    from learnlab.db.encoding import parse_datetime
    from learnlab.models import AIUsage, AIUsageType
    from seeds.generate import COLUMNS, insert_sql

    with source.engine.connect() as c:
        raw = c.connection.dbapi_connection
        sample = raw.execute(f'SELECT * FROM "AIUsage" ORDER BY id LIMIT {int(rows)}').fetchall()
        names = [d[0] for d in raw.execute('SELECT * FROM "AIUsage" LIMIT 0').description]
        users = sorted({r[names.index("userId")] for r in sample})
        user_cols = ", ".join(f'"{c}"' for c in COLUMNS["User"])
        user_rows = []
        for part in range(0, len(users), 500):
            ids = users[part:part + 500]
            user_rows += raw.execute(f'SELECT {user_cols} FROM "User" WHERE id IN ({",".join("?" * len(ids))})',
                                     ids).fetchall()
    target = _fresh(folder / "orm-baseline.db", timestamp_format=source.settings.timestamp_format)
    try:
        with target.engine.connect() as c:  # the users the sample refers to (not timed)
            raw = c.connection.dbapi_connection
            raw.execute("BEGIN")
            raw.executemany(insert_sql("User"), user_rows)
            raw.commit()
        objects = []
        for r in sample:
            kw = dict(zip(names, r))
            kw["type"] = AIUsageType(kw["type"])
            kw["success"] = bool(kw["success"])
            kw["createdAt"], kw["updatedAt"] = parse_datetime(kw["createdAt"]), parse_datetime(kw["updatedAt"])
            objects.append(AIUsage(**kw))
        t0 = time.perf_counter()
        with target.transaction() as s:
            s.add_all(objects)
        seconds = time.perf_counter() - t0
    finally:
        target.close()
    return len(sample), (len(sample) / seconds if seconds else 0.0)


def run(users: int, seed: int = 42, baseline_rows: int = 5000, folder: Path | None = None,
        timestamp_format: str = "iso8601") -> BenchResult:
    """Seed ``users`` users into a fresh database (in ``folder`` or a temporary one) and measure."""
    from seeds.run import seed as seed_db

    with tempfile.TemporaryDirectory(prefix="learnlab-bench-") as tmp:
        where = Path(folder or tmp)
        db = _fresh(where / "bench.db", timestamp_format=timestamp_format)
        try:
            sampled = [_rss_mb()]
            report = seed_db(db, users=users, seed=seed, progress=lambda *_: sampled.append(_rss_mb()))
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            result = BenchResult(users, seed, report.total_rows, report.elapsed, report.rows_per_second(),
                                 peak_kb / 1024, max(sampled))
            for table, n in report.rows.items():
                result.tables[table] = {
                    "rows": n, "generate_s": report.generate_seconds.get(table, 0.0),
                    "write_s": report.write_seconds.get(table, 0.0), "index_s": report.index_seconds.get(table, 0.0),
                    "rows_per_s": report.rows_per_second(table),
                }
            result.aiusage_rows_per_second = report.rows_per_second("AIUsage")
            if baseline_rows:
                result.orm_rows, result.orm_rows_per_second = orm_baseline(db, where, baseline_rows)
        finally:
            db.close()
    return result


def format_result(r: BenchResult) -> str:
    lines = [f"learnlab seed benchmark: {r.users:,} users, seed {r.seed}",
             f"{'table':<20}{'rows':>12}{'gen s':>9}{'write s':>9}{'index s':>9}{'rows/s':>12}"]
    for table, t in sorted(r.tables.items(), key=lambda kv: -kv[1]["rows"]):
        lines.append(f"{table:<20}{int(t['rows']):>12,}{t['generate_s']:>9.2f}{t['write_s']:>9.2f}"
                     f"{t['index_s']:>9.2f}{t['rows_per_s']:>12,.0f}")
    lines += [
        f"overall: {r.total_rows:,} rows in {r.elapsed:.1f}s = {r.rows_per_second:,.0f} rows/s (wall clock)",
        f"peak RSS: {r.peak_rss_mb:,.0f} MiB (process), {r.seed_rss_mb:,.0f} MiB highest sampled while seeding",
    ]
    if r.orm_rows:
        lines.append(f"baseline: ORM add_all of {r.orm_rows:,} of the same AIUsage rows: {r.orm_rows_per_second:,.0f} "
                     f"rows/s; the seeder's AIUsage {r.aiusage_rows_per_second:,.0f} rows/s is {r.speedup:.1f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seeds.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("LEARNLAB_BENCH_USERS", DEFAULT_USERS)),
                        help="users to seed (default: $LEARNLAB_BENCH_USERS or %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--baseline-rows", type=int, default=5000, help="AIUsage rows for the ORM baseline (0: none)")
    parser.add_argument("--timestamp-format", choices=("iso8601", "unixepoch-ms"), default="iso8601")
    parser.add_argument("--keep", type=Path, help="seed into this (existing) folder and keep the files")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error(f"--users must be at least 1, got {args.users}")
    result = run(args.users, args.seed, args.baseline_rows, args.keep, args.timestamp_format)
    if args.json:
        print(json.dumps({**asdict(result), "speedup": result.speedup}, indent=2))
    else:
        print(format_result(result))


if __name__ == "__main__":
    main()
