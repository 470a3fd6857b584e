"""The data-quality table: values that could not be mirrored, and DateTime columns mixing forms.

``_mirror_quality`` holds the current problems of the mirror, one row per (source, table,
column, row id): the value's SQLite storage class and text, and what is wrong with it. The
value itself is NULL in the mirrored table. A row re-read with a good value, or deleted,
loses its quality row. DateTime columns holding several stored forms get one row with
``row_id`` NULL listing the forms seen.
"""

from __future__ import annotations

from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import SECONDS_LIKE, bad_columns, datetime_columns, forms_text, key_text, sql_text
from learnlab.mirror.plan import ColumnPlan, TablePlan

CHUNK = 500
MAX_VALUE = 200


def key_condition(plan: TablePlan, keys: list[str]) -> str:
    """SQLite condition selecting the rows whose (raw) key text is in ``keys``."""
    if len(plan.key) == 1:
        return f"{q(plan.key[0])} IN ({', '.join(sql_text(k) for k in keys)})"
    rows = ", ".join("(" + ", ".join(sql_text(p) for p in k.split("|")) + ")" for k in keys)
    return f"({', '.join(q(k) for k in plan.key)}) IN (VALUES {rows})"


def problem(col: ColumnPlan, stored: str, raw: bytes, dim: int | None) -> str:
    if col.kind == "datetime" and stored in ("integer", "real"):
        try:
            if 0 <= float(raw.decode()) < SECONDS_LIKE:
                return "a number below 1e10 in a DateTime column: seconds where Prisma stores milliseconds?"
        except ValueError:
            pass
        return "a number outside the DateTime range"
    if col.kind == "embedding":
        if stored == "blob":
            return f"an embedding of {len(raw)} bytes ({len(raw) / 4:g} floats) in a FLOAT[{dim}] column"
        return "not a BLOB of float32 values"
    return {
        "datetime": "not a DateTime in any form Prisma writes (ISO 8601, CURRENT_TIMESTAMP, ms)",
        "integer": "not an integer", "real": "not a number", "boolean": "not a boolean (1/0)",
        "json": "not valid JSON", "text": "not valid UTF-8 text", "blob": "not a BLOB",
    }.get(col.kind, "does not convert")


def shown(stored: str, raw: bytes) -> str:
    if stored == "blob":
        text = raw[:48].hex()
        return f"x'{text}{'...' if len(raw) > 48 else ''}'"
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."


def record(ctx: Any, plan: TablePlan, bad_rows: list[tuple[str, str, int]]) -> int:
    """Add quality rows for ``(row_id, raw_key, bits)``; the stored values are read in the snapshot."""
    if not bad_rows or not plan.key:
        out = []
        for row_id, _raw, bits in bad_rows:
            out += [(row_id, c.name, None, None, problem(c, "", b"", plan.embedding_dim))
                    for c in bad_columns(plan, bits)]
        _insert(ctx, plan, out)
        return len(out)
    by_column: dict[str, dict[str, str]] = {}
    for row_id, raw_key, bits in bad_rows:
        for col in bad_columns(plan, bits):
            by_column.setdefault(col.name, {})[raw_key] = row_id
    out = []
    for name, keys in by_column.items():
        col = plan.column(name)
        raw_keys = list(keys)
        for i in range(0, len(raw_keys), CHUNK):
            chunk = raw_keys[i:i + CHUNK]
            sql = (f"SELECT {key_text(plan.key)}, typeof({q(name)}), hex({q(name)}) "
                   f"FROM {q(plan.name)} WHERE {key_condition(plan, chunk)}")
            for raw_key, stored, hexed in ctx.source.rows(ctx.con, sql):
                raw = bytes.fromhex(hexed or "")
                out.append((keys.get(raw_key, raw_key), name, stored, shown(stored, raw),
                            problem(col, stored, raw, plan.embedding_dim)))
    _insert(ctx, plan, out)
    return len(out)


def _insert(ctx: Any, plan: TablePlan, rows: list[tuple]) -> None:
    if not rows:
        return
    insert_rows(ctx.con, "_mirror_quality", QUALITY_COLUMNS,
                [(ctx.source.name, plan.name, col, row_id, stored, value, what, ctx.refresh_id, ctx.now_naive)
                 for row_id, col, stored, value, what in rows])


QUALITY_COLUMNS = ("source", "table_name", "column_name", "row_id", "stored_type", "stored_value", "problem",
                   "refresh_id", "seen_at")


def insert_rows(con: Any, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Many rows in one statement, through Arrow: DuckDB's executemany runs one statement per
    row, and every bound parameter costs a probe for pandas."""
    if not rows:
        return
    import uuid

    import pyarrow as pa

    data = pa.table({c: pa.array([r[i] for r in rows]) for i, c in enumerate(columns)})
    view = "_learnlab_rows_" + uuid.uuid4().hex[:8]
    con.register(view, data)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)


def clear_table(ctx: Any, table: str) -> None:
    ctx.run("DELETE FROM _mirror_quality WHERE source = ? AND table_name = ?", [ctx.source.name, table])


def clear_rows(ctx: Any, table: str, keys_sql: str) -> None:
    """Forget the problems of rows re-read (or deleted): ``keys_sql`` selects their row ids.
    Most tables have none: then the keys are not looked at (20k re-read keys: 3 ms)."""
    mine = [ctx.source.name, table]
    if ctx.run("SELECT 1 FROM _mirror_quality WHERE source = ? AND table_name = ? AND row_id IS NOT NULL LIMIT 1",
               mine).fetchone():
        ctx.run(f"DELETE FROM _mirror_quality WHERE source = ? AND table_name = ? AND row_id IN ({keys_sql})", mine)


def record_forms(ctx: Any, plan: TablePlan, forms: int, *, clear: bool = True) -> int:
    """One row per DateTime column whose values were seen in more than one stored form."""
    if clear:
        ctx.run("DELETE FROM _mirror_quality WHERE source = ? AND table_name = ? AND row_id IS NULL",
                [ctx.source.name, plan.name])
    rows = []
    for j, col in enumerate(datetime_columns(plan)):
        bits = (forms >> (3 * j)) & 7
        if bits & (bits - 1):  # more than one form
            rows.append((None, col.name, "mixed", forms_text(bits),
                         "DateTime values in several stored forms: text comparisons in SQLite "
                         "(and Prisma filters) order them wrongly"))
    _insert(ctx, plan, rows)
    return len(rows)
