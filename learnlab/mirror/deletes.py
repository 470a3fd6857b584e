"""Finding deleted rows (and rows the cursor missed) without reading every key.

After the changed rows are applied, the mirror holds every source row plus the ones
deleted since: when ``count(*)`` agrees on both sides (SQLite counts through its
narrowest index, DuckDB through one column), nothing was deleted, and that is the common
case. When it differs by ``d`` rows, the key space is cut into buckets of about
``n / 8d`` rows (at most ``leaf_rows``): the mirror's keys are grouped by a prefix long
enough to give more groups than buckets (the group counts are kept in ``_mirror_groups``
and updated with every insert and delete, so no refresh regroups the table), consecutive
groups are merged into buckets, and one SQLite statement counts every bucket's key range
through the primary-key index (index seeks and steps, no rows read). Only the buckets whose
counts differ are compared key by key: deletions spread over the whole table read about
``8d`` buckets' keys, not the table's.
Before the buckets, the oldest rows are tried: a bulk deletion usually removes them, and
they hold the lowest keys (``_oldest``): found by an index seek and the keys themselves.
The result: keys to delete, and keys present in the source but missing here (a writer that
committed after even the safety window), fetched by key. Rows inserted since the last
refresh have higher rowids and are read by the incremental reader whatever their cursor, so
a bucket cannot lose a row and gain a missing one unseen, except when the table's last rows
were deleted and their rowids reused (the caller notices, and every key is compared).

Tables whose key is hashed by a privacy rule, composite or not text cannot be cut by
prefix: their keys are compared whole (hashed in DuckDB when the key is hashed).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror import quality
from learnlab.mirror.convert import key_text, sql_text
from learnlab.mirror.plan import TablePlan
from learnlab.mirror.privacy import hmac_sql

SAMPLE = 4096
OLDEST_MAX = 10_000  # more missing rows than this: the buckets (the oldest rows' keys are checked by key)
OPEN_HI = "x''"  # every text sorts below a BLOB: an open upper bound that is still an index range


@dataclass
class Differences:
    gone: list[str] = field(default_factory=list)      # target key texts to delete
    gone_rowids: list[int] | None = None               # their DuckDB rowids, when known
    missing: list[str] = field(default_factory=list)   # raw source key texts to fetch
    ranges_compared: int = 0
    keys_read: int = 0


def target_count(ctx: Any, plan: TablePlan) -> int:
    return ctx.run(f"SELECT count(*) FROM {q(plan.name)} WHERE {ctx.mine(plan.name)}").fetchone()[0]


def find(ctx: Any, plan: TablePlan, target_rows: int, source_rows: int, *, every_key: bool = False) -> Differences:
    """``every_key``: compare all keys (the caller suspects rows the counts cannot show)."""
    if every_key or not bucketed(plan) or not target_rows:
        return _whole(ctx, plan)
    d = target_rows - source_rows
    if 0 < d <= OLDEST_MAX and (oldest := _oldest(ctx, plan, d)) is not None:
        return oldest
    return _buckets(ctx, plan, target_rows, max(1, abs(d)))


def _oldest(ctx: Any, plan: TablePlan, d: int) -> Differences | None:
    """The most common bulk deletion removes the oldest rows (expired sessions, pruned logs), and
    time-ordered keys (Prisma's ``ulid()``, ``cuid()``, UUIDv7, most app ids) put them at the
    bottom of the key space: every mirrored key below the source's smallest one (an index seek)
    is gone. When exactly the ``d`` missing rows lie there, and SQLite confirms by key that none
    of them exists (whatever the two sides' orderings), they are the deletions: no pass over the
    keys. Else None: the bucket search finds them."""
    k, name = q(plan.key[0]), q(plan.name)
    kind, low = ctx.source.rows(ctx.con, f"SELECT typeof(m), m FROM (SELECT min({k}) AS m FROM {name})")[0]
    if kind != "text":
        return None
    found = ctx.run(f"SELECT t.{k}, t.rowid FROM {name} t WHERE {ctx.mine(plan.name)} AND t.{k} < ? "
                    f"LIMIT {d + 1}", [low]).fetchall()
    if len(found) != d:
        return None
    keys = [r[0] for r in found]
    for i in range(0, d, quality.CHUNK):
        if int(ctx.source.rows(ctx.con, f"SELECT count(*) FROM {name} WHERE "
                                        f"{quality.key_condition(plan, keys[i:i + quality.CHUNK])}")[0][0]):
            return None
    return Differences(gone=keys, gone_rowids=[int(r[1]) for r in found], keys_read=d)


def bucketed(plan: TablePlan) -> bool:
    """Can deletions be searched by key-range buckets (a single, unhashed text key)?"""
    return len(plan.key) == 1 and not plan.key_hashed and plan.column(plan.key[0]).kind == "text"


def _buckets(ctx: Any, plan: TablePlan, n: int, d: int) -> Differences:
    diff = Differences()
    k, name, mine = q(plan.key[0]), q(plan.name), [ctx.source.name]
    size = max(32, min(ctx.options.leaf_rows, n // (8 * d)))
    p = groups(ctx, plan, n)
    # Groups of keys sharing their first p characters, merged in key order into buckets of ~size rows.
    ctx.run(f"CREATE OR REPLACE TEMP TABLE _learnlab_groups AS SELECT g, (sum(n) OVER (ORDER BY g ROWS "
            f"UNBOUNDED PRECEDING) - n) // {size} AS bucket, n FROM _mirror_groups "
            f"WHERE source = ? AND table_name = ? AND n > 0", [*mine, plan.name])
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
    diff.gone_rowids = []
    explained = dict.fromkeys(differing, 0)
    for here, rid, there in ctx.run(
            f"SELECT t.k, t.rid, s.k FROM (SELECT t.{k} AS k, t.rowid AS rid FROM {name} t WHERE "
            f"{ctx.mine(plan.name)} AND substr(t.{k}, 1, {p}) IN (SELECT g FROM _learnlab_want)) t "
            f"FULL JOIN _learnlab_keys s ON t.k = s.k WHERE t.k IS NULL OR s.k IS NULL").fetchall():
        if there is None:
            diff.gone.append(here)
            diff.gone_rowids.append(rid)
        else:
            diff.missing.append(there)
        bucket = bisect.bisect_right(los, here if there is None else there) - 1
        explained[bucket] = explained.get(bucket, 0) + (1 if there is None else -1)
    diff.keys_read = ctx.run("SELECT count(*) FROM _learnlab_keys").fetchone()[0]
    # Each differing bucket's count difference must be the keys found in it; if not, the kept
    # group counts were wrong: they are rebuilt at the next search.
    source_counts = {int(i): int(c) for i, c in counts}
    if any(buckets[i][2] - source_counts[i] != explained.get(i, 0) for i in differing):
        forget_groups(ctx, plan.name)
    return diff


def groups(ctx: Any, plan: TablePlan, n: int) -> int:
    """The prefix length of the table's kept key groups, built when missing or not matching the table."""
    mine = [ctx.source.name, plan.name]
    p, groups, total = ctx.run("SELECT any_value(p), count(*), coalesce(sum(n), 0) FROM _mirror_groups "
                               "WHERE source = ? AND table_name = ?", mine).fetchone()
    if p is not None and total == n and groups * 4 * ctx.options.leaf_rows >= n:
        return int(p)
    forget_groups(ctx, plan.name)
    k = q(plan.key[0])
    p = _prefix_length(ctx, plan, max(1, n // 32))
    ctx.groups_touched.add(plan.name)
    ctx.run(f"INSERT INTO _mirror_groups SELECT ?, ?, {p}, substr({k}, 1, {p}) AS g, count(*) FROM {q(plan.name)} "
            f"WHERE {ctx.mine(plan.name)} GROUP BY g", mine)
    return p


def forget_groups(ctx: Any, table: str) -> None:
    ctx.groups_touched.add(table)
    ctx.run("DELETE FROM _mirror_groups WHERE source = ? AND table_name = ?", [ctx.source.name, table])


def note_keys(ctx: Any, plan: TablePlan, keys_sql: str, sign: int) -> None:
    """Keys ``keys_sql`` selects were added (+1) to or removed (-1) from the mirrored table."""
    mine = [ctx.source.name, plan.name]
    p = ctx.run("SELECT any_value(p) FROM _mirror_groups WHERE source = ? AND table_name = ?", mine).fetchone()[0]
    if p is None:
        return
    ctx.groups_touched.add(plan.name)
    ctx.run(f"CREATE OR REPLACE TEMP TABLE _learnlab_dg AS SELECT substr(k, 1, {int(p)}) AS g, count(*) AS n "
            f"FROM ({keys_sql}) AS c(k) GROUP BY g")
    ctx.run(f"UPDATE _mirror_groups m SET n = m.n + {int(sign)} * d.n FROM _learnlab_dg d "
            "WHERE m.source = ? AND m.table_name = ? AND m.g = d.g", mine)
    ctx.run(f"INSERT INTO _mirror_groups SELECT ?, ?, {int(p)}, d.g, {int(sign)} * d.n FROM _learnlab_dg d "
            "WHERE d.g NOT IN (SELECT g FROM _mirror_groups WHERE source = ? AND table_name = ?)", [*mine, *mine])


def _prefix_length(ctx: Any, plan: TablePlan, buckets: int) -> int:
    """The shortest key prefix giving about as many distinct values as buckets (judged on a sample)."""
    k = q(plan.key[0])
    sample = [r[0] for r in ctx.run(
        f"SELECT {k} FROM {q(plan.name)} WHERE {ctx.mine(plan.name)} USING SAMPLE {SAMPLE} ROWS"
    ).fetchall() if r[0] is not None]
    if not sample:
        return 1
    want = min(buckets, len(sample) // 2)
    longest = max(len(x) for x in sample)
    return next((p for p in range(1, longest + 1) if len({x[:p] for x in sample}) >= want), longest)


def _load_source_keys(ctx: Any, sql: str, *, hashed: bool) -> None:
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
        f"SELECT {target} FROM {q(plan.name)} t WHERE {ctx.mine(plan.name)} "
        f"AND {target} NOT IN (SELECT k FROM _learnlab_keys)").fetchall()]
    diff.missing = [r[0] for r in ctx.run(
        f"SELECT raw FROM _learnlab_keys WHERE k NOT IN (SELECT {target} FROM {q(plan.name)} t "
        f"WHERE {ctx.mine(plan.name)})").fetchall()]
    diff.keys_read = ctx.run("SELECT count(*) FROM _learnlab_keys").fetchone()[0]
    return diff
