"""Finding deleted rows (and rows the cursor missed) without reading every key.

After the changed rows are applied, the mirror holds every source row plus the ones
deleted since: when ``count(*)`` agrees on both sides (SQLite counts through its
narrowest index, DuckDB through one column), nothing was deleted, and that is the common
case. When it differs by ``d`` rows, the key space is cut into buckets of about
``n / 8d`` rows (at most ``leaf_rows``): the mirror's keys are grouped by a prefix long
enough to give more groups than buckets, consecutive groups are merged into buckets, and
one SQLite statement counts every bucket's key range through the primary-key index (index
seeks and steps, no rows read). Only the buckets whose counts differ are compared key by
key: deletions spread over the whole table read about ``8d`` buckets' keys, not the table's.
The result: keys to delete, and keys present in the source but missing here (a writer that
committed after even the safety window), fetched by key. Rows inserted since the last
refresh have higher rowids and are read by the incremental reader whatever their cursor, so
a bucket cannot lose a row and gain a missing one unseen, except when the table's last rows
were deleted and their rowids reused (the caller notices, and every key is compared).

Tables whose key is hashed by a privacy rule, composite or not text cannot be cut by
prefix: their keys are compared whole (hashed in DuckDB when the key is hashed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import SOURCE, key_text, sql_text
from learnlab.mirror.plan import TablePlan
from learnlab.mirror.privacy import hmac_sql

SAMPLE = 4096
OPEN_HI = "x''"  # every text sorts below a BLOB: an open upper bound that is still an index range


@dataclass
class Differences:
    gone: list[str] = field(default_factory=list)      # target key texts to delete
    missing: list[str] = field(default_factory=list)   # raw source key texts to fetch
    ranges_compared: int = 0
    keys_read: int = 0


def source_count(ctx: Any, plan: TablePlan) -> int:
    return int(ctx.source.scalar(ctx.con, f"SELECT count(*) FROM {q(plan.name)}"))


def target_count(ctx: Any, plan: TablePlan) -> int:
    return ctx.run(f"SELECT count(*) FROM {q(plan.name)} WHERE {SOURCE} = ?", [ctx.source.name]).fetchone()[0]


def find(ctx: Any, plan: TablePlan, target_rows: int, source_rows: int, *, every_key: bool = False) -> Differences:
    """``every_key``: compare all keys (the caller suspects rows the counts cannot show)."""
    if not every_key and len(plan.key) == 1 and not plan.key_hashed and plan.column(plan.key[0]).kind == "text" and target_rows:
        return _buckets(ctx, plan, target_rows, max(1, abs(target_rows - source_rows)))
    return _whole(ctx, plan)


def _buckets(ctx: Any, plan: TablePlan, n: int, d: int) -> Differences:
    diff = Differences()
    k, name, mine = q(plan.key[0]), q(plan.name), [ctx.source.name]
    size = max(32, min(ctx.options.leaf_rows, n // (8 * d)))
    p = _prefix_length(ctx, plan, max(1, n // size))
    # Groups of keys sharing their first p characters, merged in key order into buckets of ~size rows.
    ctx.run(f"CREATE OR REPLACE TEMP TABLE _learnlab_groups AS SELECT g, (sum(n) OVER (ORDER BY g ROWS "
            f"UNBOUNDED PRECEDING) - n) // {size} AS bucket, n FROM (SELECT substr({k}, 1, {p}) AS g, count(*) AS n "
            f"FROM {name} WHERE {SOURCE} = ? GROUP BY g)", mine)
    buckets = ctx.run("SELECT bucket, min(g), sum(n) FROM _learnlab_groups GROUP BY bucket ORDER BY bucket").fetchall()
    # Bucket i holds the keys from its first group's prefix up to the next bucket's; the first
    # starts at '' and the last is open, so every source key falls in one bucket.
    los = [""] + [lo for _, lo, _ in buckets[1:]]
    his = [sql_text(lo) for lo in los[1:]] + [OPEN_HI]
    values = ", ".join(f"({i}, {sql_text(lo)}, {hi})" for i, (lo, hi) in enumerate(zip(los, his)))
    counts = ctx.source.rows(ctx.con, f"WITH b(i, lo, hi) AS (VALUES {values}) SELECT i, (SELECT count(*) FROM "
                                      f"{name} WHERE {k} >= b.lo AND {k} < b.hi) FROM b")
    diff.ranges_compared = len(buckets)
    differing = [int(i) for i, c in counts if int(c) != buckets[int(i)][2]]
    if not differing:
        return diff
    ranges = ", ".join(f"({sql_text(los[i])}, {his[i]})" for i in differing)
    _load_source_keys(ctx, f"WITH b(lo, hi) AS (VALUES {ranges}) SELECT CAST(t.{k} AS TEXT) AS k FROM b "
                           f"CROSS JOIN {name} t WHERE t.{k} >= b.lo AND t.{k} < b.hi", hashed=False)
    import pyarrow as pa

    ctx.con.register("_learnlab_differing", pa.table({"bucket": pa.array([buckets[i][0] for i in differing],
                                                                         pa.int64())}))
    try:
        ctx.run("CREATE OR REPLACE TEMP TABLE _learnlab_want AS SELECT g FROM _learnlab_groups "
                "WHERE bucket IN (SELECT bucket FROM _learnlab_differing)")
    finally:
        ctx.con.unregister("_learnlab_differing")
    # One full outer join: keys only here (deleted) and keys only there (missing).
    for here, there in ctx.run(
            f"SELECT t.k, s.k FROM (SELECT t.{k} AS k FROM {name} t WHERE t.{SOURCE} = ? "
            f"AND substr(t.{k}, 1, {p}) IN (SELECT g FROM _learnlab_want)) t "
            f"FULL JOIN _learnlab_keys s ON t.k = s.k WHERE t.k IS NULL OR s.k IS NULL", mine).fetchall():
        if there is None:
            diff.gone.append(here)
        else:
            diff.missing.append(there)
    diff.keys_read = ctx.run("SELECT count(*) FROM _learnlab_keys").fetchone()[0]
    return diff


def _prefix_length(ctx: Any, plan: TablePlan, buckets: int) -> int:
    """The shortest key prefix giving about as many distinct values as buckets (judged on a sample)."""
    k = q(plan.key[0])
    sample = [r[0] for r in ctx.run(
        f"SELECT {k} FROM {q(plan.name)} WHERE {SOURCE} = ? USING SAMPLE {SAMPLE} ROWS", [ctx.source.name]
    ).fetchall() if r[0] is not None]
    if not sample:
        return 1
    want = min(buckets, len(sample) // 2)
    longest = max(len(x) for x in sample)
    return next((p for p in range(1, longest + 1) if len({x[:p] for x in sample}) >= want), longest)


def _load_source_keys(ctx: Any, sql: str, *, hashed: bool, plan: TablePlan | None = None) -> None:
    ctx.run("CREATE OR REPLACE TEMP TABLE _learnlab_keys (k VARCHAR, raw VARCHAR)")
    for frag in ctx.source.relations(ctx.con, sql):
        value = hmac_sql("r.k", ctx.key) if hashed else "r.k"
        ctx.run(f"INSERT INTO _learnlab_keys SELECT {value}, r.k FROM {frag} r")


def _whole(ctx: Any, plan: TablePlan) -> Differences:
    """Compare every key (composite, non-text or hashed keys)."""
    diff = Differences()
    _load_source_keys(ctx, f"SELECT {key_text(plan.key)} AS k FROM {q(plan.name)}", hashed=plan.key_hashed)
    target = key_text(plan.key, "t")
    diff.gone = [r[0] for r in ctx.run(
        f"SELECT {target} FROM {q(plan.name)} t WHERE t.{SOURCE} = ? "
        f"AND {target} NOT IN (SELECT k FROM _learnlab_keys)", [ctx.source.name]).fetchall()]
    diff.missing = [r[0] for r in ctx.run(
        f"SELECT raw FROM _learnlab_keys WHERE k NOT IN (SELECT {target} FROM {q(plan.name)} t "
        f"WHERE t.{SOURCE} = ?)", [ctx.source.name]).fetchall()]
    diff.keys_read = ctx.run("SELECT count(*) FROM _learnlab_keys").fetchone()[0]
    return diff
