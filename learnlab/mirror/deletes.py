"""Finding deleted rows (and rows the cursor missed) without reading the table.

After the changed rows are applied, the mirror holds every source row plus the ones
deleted since: when ``count(*)`` agrees on both sides (SQLite counts through its
narrowest index, DuckDB through one column), nothing was deleted, and that is the
common case. When it differs, the key space is cut into ranges (by key prefix: ULIDs and
cuids are time-ordered, so deletions cluster), each range is counted on both sides with
index range scans, and only mismatching ranges are cut further; ranges small enough are
compared key by key. The result: keys to delete, and keys present in the source but
missing here (a writer that committed after even the safety window), fetched by key.

Tables whose key is hashed by a privacy rule cannot be range-compared (hashing destroys
the order): their keys are compared whole, hashed in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import SOURCE, key_text, sql_text
from learnlab.mirror.plan import TablePlan
from learnlab.mirror.privacy import hmac_sql

MIN_GROUPS = 16
MAX_PREFIX = 14
MAX_DEPTH = 8
# Past this many mismatching ranges under one node, reading the node's keys at once is cheaper
# than one round of queries per range (deletions spread over the whole table).
MAX_BRANCH = 8
OPEN_HI = "x''"


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


def find(ctx: Any, plan: TablePlan) -> Differences:
    if len(plan.key) == 1 and not plan.key_hashed and plan.column(plan.key[0]).kind == "text":
        diff = Differences()
        _walk(ctx, plan, None, None, target_count(ctx, plan), 0, diff)
        return diff
    return _whole(ctx, plan)


def _range_duck(k: str, lo: str | None, hi: str | None) -> tuple[str, list]:
    conds, params = [], []
    if lo is not None:
        conds.append(f"{k} >= ?")
        params.append(lo)
    if hi is not None:
        conds.append(f"{k} < ?")
        params.append(hi)
    return (" AND ".join(conds) or "true"), params


def _range_sqlite(k: str, lo: str | None, hi: str | None) -> str:
    conds = []
    if lo is not None:
        conds.append(f"{k} >= {sql_text(lo)}")
    if hi is not None:
        conds.append(f"{k} < {sql_text(hi)}")
    return " AND ".join(conds) or "1"


def _walk(ctx: Any, plan: TablePlan, lo: str | None, hi: str | None, tcount: int, depth: int,
          diff: Differences) -> None:
    k = q(plan.key[0])
    if tcount <= ctx.options.leaf_rows or depth >= MAX_DEPTH:
        _leaf(ctx, plan, lo, hi, diff)
        return
    groups = _prefix_groups(ctx, plan, lo, hi)
    if groups is None:
        _leaf(ctx, plan, lo, hi, diff)
        return
    bounds = [lo] + [g for g, _ in groups] + [hi]
    counts = [0] + [n for _, n in groups]
    ranges = list(zip(bounds[:-1], bounds[1:], counts))
    # One statement, one index range count per range. Open bounds are '' (no text sorts
    # below it) and x'' (every text sorts below a BLOB), so each count stays an index range.
    values = ", ".join(f"({i}, {sql_text(a or '')}, {OPEN_HI if b is None else sql_text(b)})"
                       for i, (a, b, _) in enumerate(ranges))
    sql = (f"WITH b(i, lo, hi) AS (VALUES {values}) SELECT i, (SELECT count(*) FROM {q(plan.name)} "
           f"WHERE {k} >= b.lo AND {k} < b.hi) FROM b")
    diff.ranges_compared += len(ranges)
    source_counts = {int(i): int(n) for i, n in ctx.source.rows(ctx.con, sql)}
    differing = [(a, b, n) for i, (a, b, n) in enumerate(ranges) if source_counts.get(i, 0) != n]
    if len(differing) > MAX_BRANCH:
        _leaf(ctx, plan, lo, hi, diff)
        return
    for a, b, n in differing:
        _walk(ctx, plan, a, b, n, depth + 1, diff)


def _prefix_groups(ctx: Any, plan: TablePlan, lo: str | None, hi: str | None) -> list[tuple[str, int]] | None:
    """Target keys in the range grouped by their shortest prefix giving >= 16 groups (the length
    is chosen on a sample of the keys, then one GROUP BY)."""
    k = q(plan.key[0])
    cond, params = _range_duck(k, lo, hi)
    start = 1
    if lo is not None and hi is not None:
        while start <= min(len(lo), len(hi)) and lo[:start] == hi[:start]:
            start += 1
    sample = [r[0] for r in ctx.run(
        f"SELECT {k} FROM (SELECT {k} FROM {q(plan.name)} WHERE {SOURCE} = ? AND {cond}) "
        f"USING SAMPLE reservoir(2000 ROWS) REPEATABLE (1)", [ctx.source.name, *params]).fetchall()]
    p = next((p for p in range(start, start + MAX_PREFIX) if len({x[:p] for x in sample}) >= MIN_GROUPS), None)
    if p is None:
        return None
    return ctx.run(f"SELECT substr({k}, 1, {p}) AS g, count(*) FROM {q(plan.name)} "
                   f"WHERE {SOURCE} = ? AND {cond} GROUP BY g ORDER BY g", [ctx.source.name, *params]).fetchall()


def _leaf(ctx: Any, plan: TablePlan, lo: str | None, hi: str | None, diff: Differences) -> None:
    k = q(plan.key[0])
    sql = f"SELECT CAST({k} AS TEXT) AS k FROM {q(plan.name)} WHERE {_range_sqlite(k, lo, hi)}"
    _load_source_keys(ctx, sql, hashed=False)
    cond, params = _range_duck(f"t.{k}", lo, hi)
    # One full outer join: keys only here (deleted) and keys only there (missing).
    for here, there in ctx.run(
            f"SELECT t.k, s.k FROM (SELECT t.{k} AS k FROM {q(plan.name)} t WHERE t.{SOURCE} = ? AND {cond}) t "
            f"FULL JOIN _learnlab_keys s ON t.k = s.k WHERE t.k IS NULL OR s.k IS NULL",
            [ctx.source.name, *params]).fetchall():
        if there is None:
            diff.gone.append(here)
        else:
            diff.missing.append(there)
    diff.keys_read += ctx.run("SELECT count(*) FROM _learnlab_keys").fetchone()[0]


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
