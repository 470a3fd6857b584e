"""The refresh's bookkeeping (table states and its log) as rows of one narrow table.

A DuckDB commit here is a checkpoint, and a checkpoint costs ~0.6 ms for every column of
every table the commit touched, whatever the number of rows. The states and the log were
three tables of 48 columns written by every refresh: ~25 ms of each commit. They are now rows
of ``_mirror_book`` (kind, source, table, refresh, a JSON body: 5 columns), and
``_mirror_state``, ``_mirror_refresh`` and ``_mirror_table_log`` are views over it with the
columns and types they always had (status, notebooks and SQL read them as before).

Files written before (format 1, three tables) are converted when a refresh first opens them
for writing, in one transaction; files of format 2 get the views of format 3.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import sql_text

TABLE = "_mirror_book"
COLUMNS = ("kind", "source", "table_name", "refresh_id", "body")
DDL = f"CREATE TABLE IF NOT EXISTS {TABLE} (kind VARCHAR, source VARCHAR, table_name VARCHAR, refresh_id VARCHAR, body VARCHAR)"
FORMAT = "4"  # 2: the book; 3: _mirror_state.window_digest; 4: _mirror_state.window_rowids

# view: (kind, its columns and types)
VIEWS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "_mirror_state": ("state", (
        ("source", "VARCHAR"), ("table_name", "VARCHAR"), ("mode", "VARCHAR"), ("key_columns", "VARCHAR"),
        ("cursor_column", "VARCHAR"), ("signature", "VARCHAR"), ("columns_json", "VARCHAR"),
        ("embedding_dim", "INTEGER"), ("forms", "BIGINT"), ("watermark", "TIMESTAMP"), ("watermark_id", "VARCHAR"),
        ("max_rowid", "BIGINT"), ("top_key", "VARCHAR"), ("rows", "BIGINT"), ("refresh_id", "VARCHAR"),
        ("refreshed_at", "TIMESTAMP"), ("seconds", "DOUBLE"), ("inserted", "BIGINT"), ("updated", "BIGINT"),
        ("deleted", "BIGINT"), ("late", "BIGINT"), ("recovered", "BIGINT"), ("window_digest", "VARCHAR"),
        ("window_rowids", "VARCHAR"))),
    "_mirror_refresh": ("refresh", (
        ("refresh_id", "VARCHAR"), ("source", "VARCHAR"), ("started_at", "TIMESTAMP"), ("snapshot_at", "TIMESTAMP"),
        ("seconds", "DOUBLE"), ("pull_bytes", "BIGINT"), ("pull_seconds", "DOUBLE"), ("pull_changed", "BOOLEAN"),
        ("inserted", "BIGINT"), ("updated", "BIGINT"), ("deleted", "BIGINT"), ("late", "BIGINT"),
        ("recovered", "BIGINT"), ("drift", "VARCHAR"))),
    "_mirror_table_log": ("table", (
        ("refresh_id", "VARCHAR"), ("source", "VARCHAR"), ("table_name", "VARCHAR"), ("mode", "VARCHAR"),
        ("inserted", "BIGINT"), ("updated", "BIGINT"), ("deleted", "BIGINT"), ("late", "BIGINT"),
        ("recovered", "BIGINT"), ("rows", "BIGINT"), ("seconds", "DOUBLE"), ("watermark", "TIMESTAMP"))),
}


def columns(view: str) -> tuple[str, ...]:
    return tuple(c for c, _ in VIEWS[view][1])


def _view_sql(view: str) -> str:
    kind, cols = VIEWS[view]
    spec = json.dumps(dict(cols))
    return (f"CREATE OR REPLACE VIEW {view} AS SELECT unnest(json_transform(body, {sql_text(spec)})) "
            f"FROM {TABLE} WHERE kind = {sql_text(kind)}")


def create(con: Any) -> None:
    """The book and its views (made again: a newer format may have more columns); a format-1
    file's three tables become book rows (one transaction)."""
    con.execute(DDL)
    old = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name IN "
        f"({', '.join(sql_text(v) for v in VIEWS)})").fetchall()]
    if old:
        _convert(con, old)
    for view in VIEWS:
        con.execute(_view_sql(view))


def _convert(con: Any, old: list[str]) -> None:
    con.execute("BEGIN")
    try:
        for view in old:
            kind, cols = VIEWS[view]
            for c, type_ in cols:  # columns added since (older files lack max_rowid and top_key too)
                con.execute(f"ALTER TABLE {view} ADD COLUMN IF NOT EXISTS {q(c)} {type_}")
            body = f"to_json(struct_pack({', '.join(f'{q(c)} := {q(c)}' for c, _ in cols)}))::VARCHAR"
            table = "table_name" if "table_name" in dict(cols) else "NULL"
            con.execute(f"INSERT INTO {TABLE} SELECT {sql_text(kind)}, source, {table}, refresh_id, {body} FROM {view}")
            con.execute(f"DROP TABLE {view}")
            con.execute(_view_sql(view))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in the mirror's bookkeeping")


def rows(view: str, values: Iterable[Sequence[Any]]) -> list[tuple]:
    """Book rows for rows of ``view`` (values in ``columns(view)`` order)."""
    kind, cols = VIEWS[view]
    names = [c for c, _ in cols]
    out = []
    for row in values:
        d = dict(zip(names, row))
        out.append((kind, d["source"], d.get("table_name"), d["refresh_id"], json.dumps(d, default=_plain)))
    return out


def write(con: Any, book_rows: list[tuple]) -> None:
    """One INSERT of literal rows: every value is text, and JSON bodies are ASCII (``json.dumps``
    escapes the rest). Not through Arrow: a refresh that changed nothing would import
    ``pyarrow.dataset`` for it (~70 ms of a one-shot ``learnlab mirror``); not as bound
    parameters: DuckDB probes for pandas on each (~0.1 ms)."""
    if not book_rows:
        return
    values = ", ".join("(" + ", ".join("NULL" if v is None else sql_text(v) for v in row) + ")" for row in book_rows)
    con.execute(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES {values}")
