"""``learnlab bench mirror``: the mirror against DuckDB's sqlite scanner and dlt, on one generated source.

1. A SQLite source with ``rows`` realistic ``AIUsage`` rows (and a user per hundred), written
   by SQLite itself (one INSERT ... SELECT over a recursive CTE: no Python per row), indexes
   built afterwards, as Prisma's migration declares them.
2. Each contender runs in its own process, once the files written so far are flushed to disk
   (``sync``); its peak RSS comes from ``wait4``:
   - the mirror's first refresh (every table, exact types) and a refresh with nothing changed;
     each mirror refresh is timed until it is published, then (as ``learnlab mirror`` does)
     prepares the next one, timed apart (``then_prepared_seconds``);
   - DuckDB's sqlite scanner: ``CREATE TABLE AS SELECT *`` over the ATTACHed file (its types
     are not exact: booleans as BIGINT, DATETIME text parsed without its offset);
   - dlt: ``sql_table`` with an incremental cursor on ``updatedAt`` (Prisma's DateTime text
     retyped by a table adapter, timestamps hinted), merged by ``id``: its first load; once with
     its pyarrow backend (``dlt``) and once with connectorx (``dlt-connectorx``, its fastest,
     DateTime columns CAST to TEXT in its query: connectorx fails on their declared type).
   - pushdown: the issue's reference incremental as a floor (``phase_pushdown``), on a copy of
     the mirror's first refresh: only the changed-rows read and DELETE + INSERT, none of the
     mirror's guarantees (deletions, data quality, readers never blocked, the report).
3. Three change scenarios, one after the other, on the same mirror and dlt targets:
   - ``incremental``: ``changed`` of the rows updated (spread over the table, fresh
     ``updatedAt``), updates only, as the issue's reference measurements are (dlt's merge and an
     ``updatedAt > watermark`` read); the mirror's incremental refresh, then dlt's incremental load;
   - ``incremental with deletes``: a twentieth of ``changed`` deleted (spread over the table) and
     as many rows inserted; the mirror's refresh, then dlt's load (its cursor sees the inserts
     only, never the deletions). The previous refresh's changes were already replayed onto the
     file this one writes (``then_prepared_seconds`` of the previous phase); it re-reads the rows
     updated within its safety window (they compare unchanged);
   - ``incremental, oldest deleted``: a twentieth of ``changed`` deleted, the oldest rows (the
     lowest ids, as a retention job deletes); the mirror finds them by their keys, dlt's cursor
     sees nothing. The mirror again re-reads the rows at its watermark (inside the window).
   The ``incremental`` phase runs ``repeat`` times per contender (default 3), each from the
   contender's files as they were before it (copied back, untimed): the median is reported.
4. A table of times, rows/s, peak RSS and ratios; optionally JSON.

This is a measurement, not a test: nothing fails on a slow machine.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from learnlab.mirror.worker import ROOT

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
START_MS = 1_704_067_200_000  # 2024-01-01
SPAN_MS = 365 * 86_400_000
WORDS = ("explain the difference between a list and a tuple in python and when to use each one "
         "how do i write a sql query that groups usage by month and plan with a running total "
         "summarise this lesson about indexes b-trees and why a covering index avoids table lookups "
         "review my code for the retry loop and tell me how to make it idempotent and observable ")


@dataclass
class Measure:
    contender: str
    phase: str
    seconds: float
    rows: int
    peak_rss_mb: float
    detail: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# -- the source ----------------------------------------------------------------------------------
def _hash(expr: str, mult: int, add: int) -> str:
    return f"((({expr}) * {mult} + {add}) % 4294967296)"


def _ulid(ms: str, seed: str) -> str:
    """A ULID-shaped id in SQL: 10 Crockford characters of time, 16 pseudo-random ones."""
    chars = [f"substr('{ALPHABET}', ((({ms}) >> {5 * (9 - i)}) & 31) + 1, 1)" for i in range(10)]
    for j, (mult, add) in enumerate(((2654435761, 17), (40503, 2891336453), (69069, 1))):
        h = _hash(seed, mult, add + j)
        chars += [f"substr('{ALPHABET}', (({h} >> {5 * k}) & 31) + 1, 1)" for k in range(6 if j < 2 else 4)]
    return " || ".join(chars)


def _iso(ms: str) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%f', ({ms}) / 1000.0, 'unixepoch') || '+00:00'"


def _usage_select(first: int, count: int, rows: int, users: int, at_ms: str | None = None) -> str:
    n = "s.n"
    ms = at_ms or f"({START_MS} + {n} * {SPAN_MS // max(rows, 1)} + ({_hash(n, 7919, 13)} % 1000))"
    h = _hash(n, 2246822519, 3266489917)
    user = f"({h} % {users})"
    ok = f"({_hash(n, 668265263, 374761393)} % 100 >= 3)"
    tokens = f"(50 + {h} % 3950)"
    return (
        f"WITH RECURSIVE s(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM s WHERE n < {first + count - 1}) "
        f"SELECT {_ulid(ms, n)}, {_ulid(f'{START_MS} + {user} * 1000', user)}, "
        f"CASE {h} % 5 WHEN 0 THEN 'learning_assistant' WHEN 1 THEN 'code_review' WHEN 2 THEN 'quiz_generation' "
        f"WHEN 3 THEN 'content_summary' ELSE 'rag_query' END, "
        f"CASE {h} % 4 WHEN 0 THEN 'gpt-4o-mini' WHEN 1 THEN 'gpt-4o' WHEN 2 THEN 'claude-3-haiku' END, "
        f"substr(:words, 1 + {h} % 120, 60 + {h} % 80), "
        f"CASE WHEN {ok} THEN substr(:words || :words, 1 + {h} % 200, 120 + {h} % 140) END, "
        f"{tokens}, {tokens} / 40, CASE WHEN {ok} THEN 1 ELSE 0 END, "
        f"CASE WHEN NOT {ok} THEN 'rate limited by the provider' END, "
        f"strftime('%Y-%m', ({ms}) / 1000.0, 'unixepoch'), {_iso(ms)}, {_iso(ms)} FROM s"
    )


def build_source(path: Path, rows: int, log: Callable[[str], None] = lambda _: None) -> dict:
    """A migrated SQLite file holding ``rows`` AIUsage rows (indexes built after the data)."""
    from learnlab.migrate import PRISMA_MIGRATIONS_DIR

    t0 = time.perf_counter()
    path.unlink(missing_ok=True)
    ddl = (PRISMA_MIGRATIONS_DIR / "0_init" / "migration.sql").read_text()
    statements = [s.strip() for s in ddl.split(";") if s.strip()]
    tables = [s for s in statements if not s.lstrip("- \n").upper().startswith(("CREATE INDEX", "CREATE UNIQUE"))]
    indexes = [s for s in statements if s not in tables]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    for s in tables:
        conn.execute(s)
    users = max(1, rows // 100)
    conn.execute("BEGIN")
    conn.execute(f'INSERT INTO "User" (id, email, name, "createdAt", "updatedAt", "lastSeenAt") '
                 f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {users - 1}) "
                 f"SELECT {_ulid(f'{START_MS} + s.n * 1000', 's.n')}, 'user' || s.n || '@example.com', "
                 f"'User ' || s.n, {_iso(f'{START_MS} + s.n * 1000')}, {_iso(f'{START_MS} + s.n * 1000')}, "
                 f"{_iso(f'{START_MS} + s.n * 1000')} FROM s")
    step = 250_000
    for first in range(0, rows, step):
        conn.execute(f'INSERT INTO "AIUsage" {_usage_select(first, min(step, rows - first), rows, users)}',
                     {"words": WORDS})
        log(f"source: {min(first + step, rows)}/{rows} AIUsage rows")
    conn.execute("COMMIT")
    for s in indexes:
        conn.execute(s)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"rows": rows, "users": users, "seconds": time.perf_counter() - t0, "bytes": path.stat().st_size}


def update_source(path: Path, fraction: float) -> dict:
    """Update ``fraction`` of the rows (spread over the table; ``tokensUsed`` + 1, fresh ``updatedAt``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    every = max(1, round(1 / fraction)) if fraction > 0 else 0
    now_ms = int(time.time() * 1000)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    updated = conn.execute(
        f'UPDATE "AIUsage" SET "tokensUsed" = "tokensUsed" + 1, "updatedAt" = {_iso(str(now_ms))} '
        f"WHERE {_hash('rowid', 2654435761, 7)} % {every} = 0").rowcount if every else 0
    conn.execute("COMMIT")
    conn.close()
    return {"updated": updated, "deleted": 0, "inserted": 0, "seconds": time.perf_counter() - t0}


def delete_insert_source(path: Path, fraction: float) -> dict:
    """Delete ``fraction`` of the rows (spread over the table) and insert as many new ones."""
    conn = sqlite3.connect(path, isolation_level=None)
    rows = conn.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
    users = conn.execute('SELECT count(*) FROM "User"').fetchone()[0]
    every = max(1, round(1 / fraction)) if fraction > 0 else 0
    now_ms = int(time.time() * 1000)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    deleted = conn.execute(f'DELETE FROM "AIUsage" WHERE {_hash("rowid", 40503, 11)} % {every} = 1'
                           ).rowcount if every else 0
    inserted = max(0, deleted)
    if inserted:
        new_rows = _usage_select(rows + 1, inserted, rows, users, at_ms=str(now_ms))
        conn.execute(f'INSERT INTO "AIUsage" {new_rows}', {"words": WORDS})
    conn.execute("COMMIT")
    conn.close()
    return {"updated": 0, "deleted": deleted, "inserted": inserted, "seconds": time.perf_counter() - t0}


def delete_oldest_source(path: Path, fraction: float) -> dict:
    """Delete ``fraction`` of the rows, the oldest (the lowest ids): what a retention job does."""
    conn = sqlite3.connect(path, isolation_level=None)
    rows = conn.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    deleted = conn.execute('DELETE FROM "AIUsage" WHERE id IN (SELECT id FROM "AIUsage" ORDER BY id LIMIT ?)',
                           (max(1, round(rows * fraction)),)).rowcount
    conn.execute("COMMIT")
    conn.close()
    return {"updated": 0, "deleted": deleted, "inserted": 0, "seconds": time.perf_counter() - t0}


def describe_change(change: dict) -> str:
    """``20001 updated`` or ``999 deleted, 999 inserted``."""
    return ", ".join(f"{change[k]} {k}" for k in ("updated", "deleted", "inserted") if change[k]) or "nothing"


def describe_changes(changes: dict) -> str:
    """``incremental: 20001 updated; incremental with deletes: 999 deleted, 999 inserted``."""
    return "; ".join(f"{phase}: {describe_change(change)}" for phase, change in changes.items())


# -- the contenders (each runs in a child process: python -m learnlab.mirror.bench PHASE JSON) --------
def phase_mirror(args: dict) -> dict:
    # Libraries are imported before the clock starts, as the scanner and dlt phases do: a
    # `--watch` process pays them once (DuckDB imports pyarrow.dataset on its first Arrow scan).
    import duckdb  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    from learnlab.mirror import refresh
    from learnlab.mirror.target import DuckDBTarget

    t0 = time.perf_counter()
    report = refresh({"bench": Path(args["source"])}, Path(args["target"]), in_process=True,
                     full=args.get("full", False))
    seconds = time.perf_counter() - t0
    # Then, as `learnlab mirror` does once the refresh is published (readers see it), the head start
    # for the next refresh; timed apart: it is not between the change and its publication.
    t1 = time.perf_counter()
    prepared = DuckDBTarget(Path(args["target"])).prepare_next()
    usage = report["AIUsage"]
    return {"seconds": seconds, "rows": usage.read, "detail": {
        "mode": usage.mode, "inserted": usage.inserted, "updated": usage.updated, "deleted": usage.deleted,
        "table_seconds": round(usage.seconds, 3), "rows_mirrored": usage.rows, "replayed": report.replayed,
        "then_prepared_rows": prepared, "then_prepared_seconds": round(time.perf_counter() - t1, 3)}}


def phase_scanner(args: dict) -> dict:
    import duckdb

    from learnlab.mirror.source import load_scanner

    Path(args["target"]).unlink(missing_ok=True)
    con = duckdb.connect(args["target"])
    load_scanner(con)
    t0 = time.perf_counter()
    con.execute(f"ATTACH '{args['source']}' AS src (TYPE sqlite, READ_ONLY)")
    names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'"
                                       ).fetchall() if not r[0].startswith(("sqlite_", "_prisma"))]
    rows = 0
    for name in names:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM src."{name}"')
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t0
    rows = con.execute('SELECT count(*) FROM "AIUsage"').fetchone()[0]
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'AIUsage' AND table_catalog = current_database()").fetchall())
    con.close()
    return {"seconds": seconds, "rows": rows, "detail": {"success": types.get("success"),
                                                         "updatedAt": types.get("updatedAt")}}


def phase_dlt(args: dict) -> dict:
    """dlt's ``sql_table`` with the ``backend`` in ``args`` (pyarrow, or connectorx: its fastest)."""
    import dlt
    import sqlalchemy as sa
    from dlt.sources.sql_database import sql_table

    backend = args.get("backend", "pyarrow")
    datetimes: list[str] = []

    def retype(table: sa.Table) -> sa.Table:
        # SQLAlchemy would parse Prisma's DATETIME text itself (and reject its offset): keep text,
        # let dlt's normaliser make timestamps of it (hints below).
        for col in table.columns:
            if isinstance(col.type, (sa.DateTime, sa.Date)):
                col.type = sa.Text()
                datetimes.append(col.name)
        return table

    def as_text(query: sa.Select, table: sa.Table, *_: object) -> sa.Select:
        # connectorx types columns by their declared type and fails on DATETIME text: send it as TEXT.
        return query.with_only_columns(*[sa.cast(c, sa.Text).label(c.name) if c.name in datetimes else c
                                         for c in table.columns])

    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    source = sql_table(credentials=f"sqlite:///{args['source']}", table="AIUsage", backend=backend,
                       chunk_size=100_000, incremental=dlt.sources.incremental("updatedAt"),
                       table_adapter_callback=retype,
                       query_adapter_callback=as_text if backend == "connectorx" else None)
    source.apply_hints(columns={"createdAt": {"data_type": "timestamp"}, "updatedAt": {"data_type": "timestamp"}})
    pipeline = dlt.pipeline(pipeline_name="bench_mirror", destination=dlt.destinations.duckdb(args["target"]),
                            dataset_name="mirror", pipelines_dir=args["pipelines"])
    t0 = time.perf_counter()
    info = pipeline.run(source, write_disposition="merge", primary_key="id")
    seconds = time.perf_counter() - t0
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    del info
    with pipeline.sql_client() as client:  # after the clock: deleted source rows stay (the cursor can't tell)
        in_target = client.execute_sql("SELECT count(*) FROM ai_usage")[0][0]
    rows = int(counts.get("ai_usage", 0))
    return {"seconds": seconds, "rows": rows, "detail": {"rows_in_target": in_target}}


def phase_pushdown(args: dict) -> dict:
    """The issue's reference incremental, as a floor: rows with ``updatedAt`` at or after the
    target's highest (a text comparison) read through ``sqlite_query`` (SQLite uses its index),
    converted with plain casts, applied as DELETE + INSERT in one transaction on one DuckDB file
    (a copy of the mirror's first refresh). Nothing else: no deletion search, no data-quality checks, no second file
    (readers are locked out while it writes), no report of what changed."""
    import duckdb

    from learnlab.mirror.source import WRITER_CONFIG, load_scanner

    t0 = time.perf_counter()
    con = duckdb.connect(args["target"], config=dict(WRITER_CONFIG))
    con.execute("SET TimeZone = 'UTC'")
    load_scanner(con)
    con.execute(f"ATTACH '{args['source']}' AS src (TYPE sqlite, READ_ONLY)")
    con.execute("BEGIN")
    types = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
                        "AND table_name = 'AIUsage' AND column_name <> '_source' ORDER BY column_index").fetchall()
    cast = {"BIGINT": "TRY_CAST({c} AS BIGINT)", "BOOLEAN": "{c} = '1'",
            "TIMESTAMP": "TRY_CAST({c} AS TIMESTAMPTZ)::TIMESTAMP"}
    select = ", ".join(cast.get(t, "{c}").format(c=f'"{c}"') + f' AS "{c}"' for c, t in types)
    since = con.execute('SELECT strftime(max("updatedAt"), \'%Y-%m-%dT%H:%M:%S.%g\') FROM "AIUsage"').fetchone()[0]
    columns = ", ".join(f'"{c}"' for c, _ in types)
    read = f"""SELECT {columns} FROM "AIUsage" WHERE "updatedAt" > ''{since}''"""
    con.execute(f"CREATE TEMP TABLE s AS SELECT {select}, 'bench' AS _source FROM sqlite_query('src', '{read}')")
    rows = con.execute("SELECT count(*) FROM s").fetchone()[0]
    con.execute('DELETE FROM "AIUsage" WHERE id IN (SELECT id FROM s)')
    con.execute('INSERT INTO "AIUsage" BY NAME SELECT * FROM s')
    con.execute("COMMIT")
    con.close()
    return {"seconds": time.perf_counter() - t0, "rows": rows, "detail": {}}


def phase_dlt_connectorx(args: dict) -> dict:
    return phase_dlt({**args, "backend": "connectorx"})


PHASES = {"mirror": phase_mirror, "scanner": phase_scanner, "dlt": phase_dlt, "dlt-connectorx": phase_dlt_connectorx,
          "pushdown": phase_pushdown}
DLT = ("dlt", "dlt-connectorx")  # dlt's pyarrow backend, and its fastest (connectorx)
OLDEST = "incremental, oldest deleted"


def _run_phase(name: str, args: dict) -> tuple[dict, float]:
    """Run one phase in a child; (its result, its peak RSS in MiB)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "learnlab.mirror.bench", name, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"bench phase {name} failed: {err.decode()[-3000:]}")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def check_contenders(contenders: list[str]) -> list[str]:
    """The contenders, or ``ValueError`` saying what is wrong with them."""
    unknown = set(contenders) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown contenders {sorted(unknown)}; choose among {', '.join(PHASES)}")
    if not contenders:
        raise ValueError(f"no contender given; choose among {', '.join(PHASES)}")
    if "pushdown" in contenders and "mirror" not in contenders:
        raise ValueError("the pushdown contender starts from the mirror's first refresh: add mirror to the contenders")
    return contenders


def _kept_paths(args: dict) -> list[Path]:
    """What a contender keeps between its phases: its target with every file named after it (the
    mirror's link, folder of generations and key; a WAL) and dlt's pipeline folder."""
    target = Path(args["target"])
    paths = [p for p in sorted(target.parent.iterdir())
             if p.name == target.name or p.name.startswith(target.name + ".")]
    return paths + ([Path(args["pipelines"])] if args.get("pipelines") else [])


def _copy(src: Path, dst: Path) -> None:
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _save_state(args: dict, into: Path) -> list[tuple[Path, Path]]:
    """Copy what the contender keeps (``_kept_paths``) into ``into``; ``_restore_state`` puts it back."""
    into.mkdir(parents=True, exist_ok=True)
    saved = []
    for path in _kept_paths(args):
        _copy(path, into / path.name)
        saved.append((path, into / path.name))
    return saved


def _restore_state(args: dict, saved: list[tuple[Path, Path]]) -> None:
    for path in _kept_paths(args):
        _remove(path)
    for path, copy in saved:
        _copy(copy, path)


def run_bench(rows: int = 200_000, changed: float = 0.01, folder: Path | None = None,
              contenders: list[str] | None = None, json_path: Path | None = None,
              log: Callable[[str], None] = lambda _: None, repeat: int = 3) -> dict:
    """Build the source, run every contender, return the measures (and write JSON if asked).

    ``repeat``: how many times each contender runs the ``incremental`` phase (the issue's
    targets), each time from its state before it (restored from a copy, untimed); the median
    run is reported, with every run's seconds (``runs_seconds``)."""
    contenders = check_contenders(contenders or list(PHASES))
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, not {repeat}")
    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="learnlab-bench-")
        folder = Path(tmp.name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.db"
    measures: list[Measure] = []

    def measure(contender: str, phase: str, args: dict, times: int = 1) -> Measure:
        saved = _save_state(args, folder / "saved" / contender) if times > 1 else []
        runs = []
        for i in range(times):
            if i:
                _restore_state(args, saved)
            log(f"{contender}: {phase} ..." + (f" (run {i + 1} of {times})" if times > 1 else ""))
            # The previous phase's files (GBs for dlt) are still being written back to disk; let
            # that finish first, so no phase pays for another's writes.
            os.sync()
            result, rss = _run_phase(contender, args)
            runs.append(Measure(contender, phase, result["seconds"], result["rows"], rss, result.get("detail", {})))
            log(f"{contender}: {phase} {runs[-1].seconds:.2f}s, {runs[-1].rows} rows, "
                f"peak RSS {runs[-1].peak_rss_mb:.0f} MiB")
        if saved:
            shutil.rmtree(folder / "saved" / contender)
        m = sorted(runs, key=lambda r: r.seconds)[(times - 1) // 2]
        if times > 1:
            m.detail["runs_seconds"] = [round(r.seconds, 3) for r in runs]
        measures.append(m)
        return m

    try:
        built = build_source(source, rows, log)
        log(f"source: {built['rows']} rows, {built['bytes'] / 2**20:.0f} MiB in {built['seconds']:.1f}s")
        mirror_args = {"source": str(source), "target": str(folder / "mirror.duckdb")}
        dlts = {name: {"source": str(source), "target": str(folder / f"{name}.duckdb"), "pipelines": str(folder / name)}
                for name in DLT if name in contenders}
        pushdown_args = {"source": str(source), "target": str(folder / "pushdown.duckdb")}
        if "mirror" in contenders:
            measure("mirror", "first refresh", mirror_args)
            measure("mirror", "no change", mirror_args)
        if "pushdown" in contenders:  # starts from a copy of the mirror's first refresh (not timed)
            from learnlab.mirror.target import DuckDBTarget

            shutil.copyfile(DuckDBTarget(Path(mirror_args["target"])).published(), pushdown_args["target"])
        if "scanner" in contenders:
            measure("scanner", "full copy", {"source": str(source), "target": str(folder / "scanner.duckdb")})
        for name, args in dlts.items():
            measure(name, "first load", args)
        # 1. The scenario: `changed` of the rows updated, nothing deleted (dlt could not see it).
        # 2. Then a twentieth of that deleted and as many inserted (dlt's cursor sees the inserts only).
        # 3. Then a twentieth of it deleted, the oldest rows (a retention job; dlt's cursor sees nothing).
        refreshed = {"mirror": mirror_args, "pushdown": pushdown_args, **dlts}
        changes = {}
        for phase, change in (("incremental", lambda: update_source(source, changed)),
                              ("incremental with deletes", lambda: delete_insert_source(source, changed / 20)),
                              (OLDEST, lambda: delete_oldest_source(source, changed / 20))):
            changes[phase] = change()
            log(f"source: {describe_change(changes[phase])}")
            for name, args in refreshed.items():
                if name in contenders:
                    measure(name, phase, args, repeat if phase == "incremental" else 1)
    finally:
        if tmp is not None:
            tmp.cleanup()
    results = {"rows": rows, "changed": changed, "source": built, "changes": changes,
               "measures": [{**asdict(m), "rows_per_second": m.rows_per_second} for m in measures],
               "ratios": _ratios(measures)}
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2, default=str))
    return results


def _ratios(measures: list[Measure]) -> dict:
    by = {(m.contender, m.phase): m.seconds for m in measures}
    out = {}

    def ratio(name: str, a: tuple, b: tuple) -> None:
        if a in by and b in by and by[b] > 0:
            out[name] = round(by[a] / by[b], 2)

    ratio("mirror first / scanner copy", ("mirror", "first refresh"), ("scanner", "full copy"))
    ratio("mirror first / mirror incremental", ("mirror", "first refresh"), ("mirror", "incremental"))
    ratio("scanner copy / mirror incremental", ("scanner", "full copy"), ("mirror", "incremental"))
    for name in DLT:
        ratio(f"{name} first / mirror first", (name, "first load"), ("mirror", "first refresh"))
        ratio(f"{name} incremental / mirror incremental", (name, "incremental"), ("mirror", "incremental"))
    ratio("pushdown incremental / mirror incremental", ("pushdown", "incremental"), ("mirror", "incremental"))
    ratio("scanner copy / pushdown incremental", ("scanner", "full copy"), ("pushdown", "incremental"))
    for phase in ("incremental with deletes", OLDEST):
        ratio(f"mirror first / mirror {phase}", ("mirror", "first refresh"), ("mirror", phase))
        for name in DLT:
            ratio(f"{name} {phase} / mirror {phase}", (name, phase), ("mirror", phase))
    return out


def format_results(results: dict) -> str:
    src = results["source"]
    lines = [f"source: {src['rows']} AIUsage rows, {src['bytes'] / 2**20:.0f} MiB; changed before "
             f"each incremental phase: {describe_changes(results['changes'])}", ""]
    rows = [("contender", "phase", "seconds", "rows", "rows/s", "peak RSS MiB", "detail")]
    for m in results["measures"]:
        detail = ", ".join(f"{k}={v}" for k, v in m["detail"].items())
        rows.append((m["contender"], m["phase"], f"{m['seconds']:.2f}", str(m["rows"]),
                     f"{m['rows_per_second']:,.0f}", f"{m['peak_rss_mb']:.0f}", detail))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append("")
    lines += [f"{k}: {v}x" for k, v in results["ratios"].items()]
    return "\n".join(lines)


def _main(argv: list[str]) -> None:
    result = PHASES[argv[0]](json.loads(argv[1]))
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    _main(sys.argv[1:])
