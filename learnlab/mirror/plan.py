"""Per-table mirroring rules as explicit data: key, cursor (or full), kind and privacy of each column.

``make_plans(schema, options)`` turns the source's schema (``describe_schema``) into one
``TablePlan`` per mirrored table. A plan's ``signature`` names everything that, when it
changes, makes the mirrored copy of the table stale (columns, types, privacy, key, embedding
size): the next refresh then reloads that table, in the same transaction as the rest.

>>> opts = MirrorOptions()
>>> opts.rule("User", "email"), opts.rule("AIUsage", "prompt"), opts.table_excluded("Password")
('hash', 'keep', True)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal, Mapping

from learnlab.db.introspect import TableInfo
from learnlab.errors import ConfigError

Kind = Literal["text", "integer", "real", "boolean", "datetime", "json", "blob", "embedding"]
Rule = Literal["keep", "hash", "drop"]
RULES: tuple[str, ...] = ("keep", "hash", "drop")
TABLE_RULES: tuple[str, ...] = ("include", "exclude")

DEFAULT_SAFETY_WINDOW = timedelta(seconds=15)
# Safe defaults: secrets never reach the analytics copy; identifiers that matter for joins
# (emails, session ids) become keyed hashes; names are dropped.
DEFAULT_PRIVACY: Mapping[str, str] = {
    "Password": "exclude",
    "User.email": "hash",
    "User.name": "drop",
    "User.username": "hash",
    "Session.id": "hash",
    "TeamCertificate.code": "hash",
}
DEFAULT_EMBEDDINGS: Mapping[str, int | None] = {"DocumentChunk.embedding": None}


def kind_of(declared: str) -> Kind:
    """The value kind of a SQLite column from its declared type (Prisma's names first)."""
    t = (declared or "").upper()
    if t in ("DATETIME", "TIMESTAMP", "DATE") or "TIME" in t:
        return "datetime"
    if t.startswith("BOOL"):
        return "boolean"
    if t.startswith("JSON"):
        return "json"
    if "INT" in t:
        return "integer"
    if any(s in t for s in ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")):
        return "real"
    if "BLOB" in t or t == "BYTES":
        return "blob"
    return "text"


def parse_rules(text: str, variable: str = "LEARNLAB_MIRROR_PRIVACY") -> dict[str, str]:
    """``"User.name=keep,Session.id=drop,Password=include"`` -> ``{"User.name": "keep", ...}``."""
    rules: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        target, sep, rule = part.partition("=")
        target, rule = target.strip(), rule.strip().lower()
        allowed = RULES if "." in target else TABLE_RULES
        if not sep or not target or rule not in allowed:
            raise ConfigError(
                f"{variable}: {part!r} is not a privacy rule; write Table.column=keep|hash|drop "
                "or Table=include|exclude, separated by commas"
            )
        rules[target] = rule
    return rules


@dataclass(frozen=True)
class MirrorOptions:
    """How the mirror reads and transforms the source (see README, "The DuckDB mirror")."""

    safety_window: timedelta = DEFAULT_SAFETY_WINDOW
    privacy: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PRIVACY))
    embeddings: Mapping[str, int | None] = field(default_factory=lambda: dict(DEFAULT_EMBEDDINGS))
    cursor_column: str = "updatedAt"
    full_tables: frozenset[str] = frozenset()
    busy_timeout_ms: int = 5000
    leaf_rows: int = 4000
    # Tables with this many rows or more get their first copy on every core (see ``bulk``).
    bulk_rows: int = 50_000
    batch_rows: int = 100_000
    # DuckDB's buffer pool for the writer: inserts stream through it, so a bound keeps the
    # refresh's memory flat as tables grow (measured: same speed at 150 MB as unbounded).
    memory_limit: str = "256MB"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "MirrorOptions":
        """``LEARNLAB_MIRROR_SAFETY_WINDOW`` (seconds), ``LEARNLAB_MIRROR_PRIVACY``,
        ``LEARNLAB_MIRROR_BULK_ROWS`` and ``LEARNLAB_MIRROR_MEMORY_LIMIT`` over the defaults."""
        env = os.environ if env is None else env
        values: dict = {}
        if env.get("LEARNLAB_MIRROR_SAFETY_WINDOW"):
            raw = env["LEARNLAB_MIRROR_SAFETY_WINDOW"]
            try:
                values["safety_window"] = timedelta(seconds=float(raw))
            except ValueError:
                raise ConfigError(f"LEARNLAB_MIRROR_SAFETY_WINDOW={raw!r} is not a number of seconds") from None
        if env.get("LEARNLAB_MIRROR_BULK_ROWS"):
            raw = env["LEARNLAB_MIRROR_BULK_ROWS"]
            if not raw.isdigit():
                raise ConfigError(f"LEARNLAB_MIRROR_BULK_ROWS={raw!r} is not a number of rows")
            values["bulk_rows"] = int(raw)
        if env.get("LEARNLAB_MIRROR_MEMORY_LIMIT"):
            values["memory_limit"] = env["LEARNLAB_MIRROR_MEMORY_LIMIT"]
        if env.get("LEARNLAB_MIRROR_PRIVACY"):
            values["privacy"] = {**DEFAULT_PRIVACY, **parse_rules(env["LEARNLAB_MIRROR_PRIVACY"])}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).validated()

    def validated(self) -> "MirrorOptions":
        if self.safety_window < timedelta(0):
            raise ConfigError(f"the safety window must not be negative, got {self.safety_window}")
        for target, rule in self.privacy.items():
            if rule not in (RULES if "." in target else TABLE_RULES):
                raise ConfigError(f"privacy rule {target}={rule!r}: expected keep|hash|drop (columns) "
                                  "or include|exclude (tables)")
        return self

    def with_privacy(self, **rules: str) -> "MirrorOptions":
        return replace(self, privacy={**self.privacy, **rules}).validated()

    def rule(self, table: str, column: str) -> str:
        return self.privacy.get(f"{table}.{column}", "keep")

    def table_excluded(self, table: str) -> bool:
        return self.privacy.get(table) == "exclude"


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    declared: str
    kind: Kind
    rule: str = "keep"
    notnull: bool = False
    default: str | None = None

    def target_type(self, dim: int | None = None) -> str:
        """The DuckDB type of the mirrored column."""
        if self.rule == "hash":
            return "VARCHAR"
        return {
            "text": "VARCHAR", "integer": "BIGINT", "real": "DOUBLE", "boolean": "BOOLEAN",
            "datetime": "TIMESTAMP", "json": "JSON", "blob": "BLOB",
            "embedding": f"FLOAT[{dim}]" if dim else "FLOAT[]",
        }[self.kind]

    def describe(self) -> str:
        out = self.declared or "ANY"
        if self.notnull:
            out += " NOT NULL"
        if self.default is not None:
            out += f" DEFAULT {self.default}"
        return out


@dataclass(frozen=True)
class TablePlan:
    """How one table is mirrored: ``incremental`` (key + cursor) or ``full`` (read whole each time)."""

    name: str
    columns: tuple[ColumnPlan, ...]
    key: tuple[str, ...]
    cursor: str | None
    embedding_dim: int | None = None

    @property
    def mode(self) -> str:
        return "incremental" if self.cursor and self.key else "full"

    @property
    def mirrored(self) -> tuple[ColumnPlan, ...]:
        """The columns that reach DuckDB (``drop`` ones are never even read)."""
        return tuple(c for c in self.columns if c.rule != "drop")

    def column(self, name: str) -> ColumnPlan:
        return next(c for c in self.columns if c.name == name)

    @property
    def key_hashed(self) -> bool:
        return any(self.column(k).rule == "hash" for k in self.key)

    @property
    def embedding_columns(self) -> tuple[ColumnPlan, ...]:
        return tuple(c for c in self.mirrored if c.kind == "embedding")

    def target_columns(self) -> list[tuple[str, str]]:
        return [(c.name, c.target_type(self.embedding_dim)) for c in self.mirrored]

    def signature(self, key_fingerprint: str = "") -> str:
        """Changes to any of this make the mirrored copy stale (a reload follows)."""
        hashed = any(c.rule == "hash" for c in self.columns)
        data = {
            "columns": [(c.name, c.declared, c.kind, c.rule) for c in self.columns],
            "key": self.key, "cursor": self.cursor, "dim": self.embedding_dim,
            "hmac": key_fingerprint if hashed else "",
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def columns_json(self) -> str:
        return json.dumps([[c.name, c.declared, c.notnull, c.default, c.rule] for c in self.columns])


def choose_key(info: TableInfo) -> tuple[str, ...]:
    """The primary key, else the narrowest unique index (Prisma's ``Password`` has only ``userId``)."""
    if info.primary_key:
        return tuple(info.primary_key)
    notnull = {c.name for c in info.columns if c.notnull}
    uniques = [i.columns for i in info.indexes if i.unique and i.columns and set(i.columns) <= notnull]
    return min(uniques, key=len) if uniques else ()


def make_plan(info: TableInfo, options: MirrorOptions, embedding_dim: int | None = None) -> TablePlan:
    columns = []
    for c in info.columns:
        kind = kind_of(c.type)
        if f"{info.name}.{c.name}" in options.embeddings and kind in ("blob", "text"):
            kind = "embedding"
        columns.append(ColumnPlan(c.name, c.type, kind, options.rule(info.name, c.name), c.notnull, c.default))
    key = choose_key(info)
    for k in key:
        if options.rule(info.name, k) == "drop":
            raise ConfigError(
                f"privacy rule {info.name}.{k}=drop would drop the table's key; use {info.name}.{k}=hash"
            )
    cursor_col = next((c for c in columns if c.name == options.cursor_column), None)
    cursor = None
    if (cursor_col is not None and cursor_col.kind == "datetime" and cursor_col.rule == "keep"
            and info.name not in options.full_tables):
        cursor = cursor_col.name
    dim = options.embeddings.get(next((f"{info.name}.{c.name}" for c in columns if c.kind == "embedding"), ""))
    return TablePlan(info.name, tuple(columns), key, cursor, dim or embedding_dim)


def make_plans(schema: Mapping[str, TableInfo], options: MirrorOptions,
               dims: Mapping[str, int | None] | None = None) -> tuple[list[TablePlan], list[str]]:
    """Plans for every mirrored table, and the names of the tables privacy leaves out."""
    plans, excluded = [], []
    for name, info in sorted(schema.items()):
        if options.table_excluded(name):
            excluded.append(name)
            continue
        plans.append(make_plan(info, options, (dims or {}).get(name)))
    return plans, excluded
