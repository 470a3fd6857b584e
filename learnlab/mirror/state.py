"""Per-source, per-table watermarks and plans, kept in ``_mirror_state`` inside the mirrored file
(rows of ``_mirror_book``, see ``book``).

Written in the same DuckDB transaction as the rows they describe: a refresh that does not
commit leaves both at the previous refresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from learnlab.mirror import book
from learnlab.mirror.plan import ColumnPlan, TablePlan, kind_of
from learnlab.mirror.report import TableReport

COLUMNS = book.columns("_mirror_state")


@dataclass
class TableState:
    source: str
    table: str
    mode: str
    key: tuple[str, ...]
    cursor: str | None
    signature: str
    columns: list[ColumnPlan]
    embedding_dim: int | None
    forms: int
    watermark: datetime | None
    watermark_id: str | None
    max_rowid: int | None
    top_key: str | None
    rows: int
    refresh_id: str | None = None
    window_digest: str | None = None  # of the rows the next incremental read would re-read (``window``)
    window_rowids: list[int] | None = None  # their rowids

    @classmethod
    def from_row(cls, row: tuple) -> "TableState":
        d = dict(zip(COLUMNS, row))
        cols = [ColumnPlan(n, decl, kind_of(decl), rule, bool(nn), dflt)
                for n, decl, nn, dflt, rule in json.loads(d["columns_json"] or "[]")]
        return cls(d["source"], d["table_name"], d["mode"], tuple(json.loads(d["key_columns"] or "[]")),
                   d["cursor_column"], d["signature"], cols, d["embedding_dim"], int(d["forms"] or 0),
                   d["watermark"], d["watermark_id"], d["max_rowid"], d["top_key"], int(d["rows"] or 0),
                   d["refresh_id"], d.get("window_digest"),
                   json.loads(d["window_rowids"]) if d.get("window_rowids") else None)


def load_states(con: Any, source: str) -> dict[str, TableState]:
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM _mirror_state WHERE source = ?", [source]).fetchall()
    return {r[1]: TableState.from_row(r) for r in rows}


def all_columns_elsewhere(con: Any, source: str, table: str) -> set[str]:
    """Columns of ``table`` that other sources still mirror (a drop in one source keeps them)."""
    out: set[str] = set()
    for (cols,) in con.execute("SELECT columns_json FROM _mirror_state WHERE table_name = ? AND source <> ?",
                               [table, source]).fetchall():
        out |= {c[0] for c in json.loads(cols or "[]") if c[4] != "drop"}
    return out


def state_row(plan: TablePlan, signature: str, report: TableReport, *, forms: int, watermark: datetime | None,
              watermark_id: str | None, refresh_id: str, refreshed_at: datetime,
              top: tuple[int | None, str | None] = (None, None), window_digest: str | None = None,
              window_rowids: list[int] | None = None) -> tuple:
    """One ``_mirror_state`` row (written with the others by ``write_states``); the window's digest
    and rowids come last (``with_window`` replaces them)."""
    return with_window((report.source, plan.name, plan.mode, json.dumps(list(plan.key)), plan.cursor, signature,
                        plan.columns_json(), plan.embedding_dim, forms, watermark, watermark_id, top[0], top[1],
                        report.rows, refresh_id, refreshed_at, report.seconds, report.inserted, report.updated,
                        report.deleted, report.late, report.recovered), window_digest, window_rowids)


def with_window(row: tuple, digest: str | None, rowids: list[int] | None) -> tuple:
    """``row`` (a ``state_row`` without its last two values, or with them) with this window."""
    head = row[:len(COLUMNS) - 2]
    return (*head, digest, json.dumps(rowids) if rowids is not None else None)


def write_states(con: Any, source: str, rows: list[tuple]) -> None:
    """Replace the state of these tables of ``source`` (one DELETE, one INSERT)."""
    if not rows:
        return
    con.execute(f"DELETE FROM {book.TABLE} WHERE kind = 'state' AND source = ? AND list_contains(?, table_name)",
                [source, [r[1] for r in rows]])
    book.write(con, book.rows("_mirror_state", rows))


def forget_state(con: Any, source: str, table: str) -> None:
    con.execute(f"DELETE FROM {book.TABLE} WHERE kind = 'state' AND source = ? AND table_name = ?", [source, table])
