"""Read a SQLite database's schema as plain data (tables, columns, indexes, foreign keys).

Used to prove learnlab's schema is Prisma's, and by the mirror to see schema drift.
Works on any DB-API connection speaking SQLite's PRAGMAs (sqlite3, pyturso, libsql).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

INTERNAL_TABLES = ("sqlite_", "_prisma_migrations", "alembic_version", "_litestream", "libsql_", "turso_")


def quote_identifier(name: str) -> str:
    """Quote a SQL identifier (SQLite and DuckDB alike): ``User`` -> ``"User"``."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    notnull: bool
    default: str | None
    pk: int


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    references: tuple[str, ...]
    on_update: str
    on_delete: str


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass
class TableInfo:
    name: str
    columns: list[Column] = field(default_factory=list)
    indexes: list[IndexInfo] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> list[str]:
        return [c.name for c in sorted(self.columns, key=lambda c: c.pk) if c.pk]


def _rows(conn: Any, sql: str) -> list[tuple]:
    cur = conn.execute(sql)
    return [tuple(r) for r in cur.fetchall()]


_CREATE_NAME = re.compile(
    r'^\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[\w$]+)',
    re.I,
)


def _true_name(name: str, sql: str | None) -> str:
    """The name as its CREATE statement spells it: pyturso stores ``sqlite_master.name`` lower-cased."""
    m = _CREATE_NAME.match(sql or "")
    if m:
        spelled = m.group(1)
        if spelled[0] in '"`[':
            spelled = spelled[1:-1].replace('""', '"')
        if spelled.lower() == name.lower():
            return spelled
    return name


def _master(conn: Any, kind: str) -> dict[str, str]:
    rows = _rows(conn, f"SELECT name, sql FROM sqlite_master WHERE type = '{kind}'")
    return {name.lower(): _true_name(name, sql) for name, sql in rows}


def table_names(conn: Any, *, include_internal: bool = False) -> list[str]:
    names = sorted(_master(conn, "table").values())
    if include_internal:
        return names
    return [n for n in names if not n.startswith(INTERNAL_TABLES)]


def describe_table(conn: Any, name: str) -> TableInfo:
    q = quote_identifier(name)
    info = TableInfo(name)
    for _cid, cname, ctype, notnull, dflt, pk in _rows(conn, f"PRAGMA table_info({q})"):
        info.columns.append(Column(cname, (ctype or "").upper(), bool(notnull), dflt, int(pk)))
    fks: dict[int, list[tuple]] = {}
    for row in _rows(conn, f"PRAGMA foreign_key_list({q})"):
        fks.setdefault(row[0], []).append(row)
    for rows in fks.values():
        rows.sort(key=lambda r: r[1])
        info.foreign_keys.append(
            ForeignKey(
                columns=tuple(r[3] for r in rows),
                table=rows[0][2],
                references=tuple(r[4] for r in rows),
                on_update=rows[0][5],
                on_delete=rows[0][6],
            )
        )
    info.foreign_keys.sort(key=lambda f: f.columns)
    index_names = _master(conn, "index")
    for row in _rows(conn, f"PRAGMA index_list({q})"):
        iname, unique, origin = index_names.get(row[1].lower(), row[1]), bool(row[2]), row[3]
        if origin == "pk":
            continue
        cols = tuple(r[2] for r in sorted(_rows(conn, f"PRAGMA index_info({quote_identifier(iname)})")))
        info.indexes.append(IndexInfo(iname, cols, unique))
    info.indexes.sort(key=lambda i: i.name)
    return info


def describe_schema(conn: Any, *, include_internal: bool = False) -> dict[str, TableInfo]:
    """Every table of the database (learnlab's and Prisma's bookkeeping tables left out by default)."""
    return {name: describe_table(conn, name) for name in table_names(conn, include_internal=include_internal)}
