"""SQL analytics on the DuckDB mirror: one ``.sql`` file per question in ``queries/``.

Each file starts with a header::

    -- name: cost_per_plan
    -- description: AI cost, revenue and margin per plan and month.
    -- params: since (date, default 12 months ago), plan (text, optional)

Values are always bound (``$since``), never pasted into the SQL text. ``run`` checks the
arguments against the declared parameters and returns a polars DataFrame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from learnlab.errors import LearnlabError, ValidationError

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
TYPES = ("date", "timestamp", "text", "int", "float", "bool")
_HEADER = re.compile(r"^--\s*(\w+):\s*(.*)$")
_PARAM = re.compile(r"^\s*(\w+)\s*\(\s*(\w+)\s*(?:,\s*(optional|default\s+(.+?)))?\s*\)\s*$")
_RELATIVE = re.compile(r"^(\d+)\s+(day|week|month)s?\s+ago$")


class QueryError(LearnlabError):
    """A query file is malformed, unknown, or failed to run."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None = None
    optional: bool = False

    def value(self, given: Any, query: str) -> Any:
        field = f"{query}.{self.name}"
        if given is None:
            if self.default is not None:
                return self.value(_default(self.default, self.type, field), query)
            if self.optional:
                return None
            raise ValidationError(field, "is required")
        return _coerce(given, self.type, field)


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    params: tuple[Param, ...]
    sql: str
    path: Path

    def bind(self, **given: Any) -> dict[str, Any]:
        unknown = set(given) - {p.name for p in self.params}
        if unknown:
            names = ", ".join(p.name for p in self.params) or "none"
            raise ValidationError(f"{self.name}.{sorted(unknown)[0]}", f"unknown parameter (declared: {names})")
        return {p.name: p.value(given.get(p.name), self.name) for p in self.params}


def _default(text: str, type_: str, field: str) -> Any:
    text = text.strip()
    today = datetime.now(timezone.utc).date()
    if text == "today":
        return today
    if m := _RELATIVE.match(text):
        n, unit = int(m.group(1)), m.group(2)
        if unit == "month":
            months = today.year * 12 + today.month - 1 - n
            return date(months // 12, months % 12 + 1, 1)
        return today - timedelta(days=n * (7 if unit == "week" else 1))
    return text


def _coerce(value: Any, type_: str, field: str) -> Any:
    try:
        if type_ == "date":
            if isinstance(value, datetime):
                return value.date()
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if type_ == "timestamp":
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if type_ == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if type_ == "float":
            return float(value)
        if type_ == "bool":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                return value.lower() in ("true", "1")
            return bool(value)
        return str(value)
    except (TypeError, ValueError):
        raise ValidationError(field, f"{value!r} is not of type {type_}") from None


def parse(path: Path) -> Query:
    """Read a query file's header and SQL; ``QueryError`` names the file and what is wrong."""
    text = Path(path).read_text()
    meta: dict[str, str] = {}
    body: list[str] = []
    in_header = True
    for line in text.splitlines():
        m = _HEADER.match(line) if in_header else None
        if m:
            meta[m.group(1)] = m.group(2).strip()
        else:
            in_header = in_header and not line.strip()
            body.append(line)
    if meta.get("name") != path.stem:
        raise QueryError(f"{path}: the header's name ({meta.get('name')!r}) must be the file name {path.stem!r}")
    if not meta.get("description"):
        raise QueryError(f"{path}: the header has no description")
    params = []
    for part in filter(None, (p.strip() for p in _split(meta.get("params", "")))):
        if part == "none":
            continue
        m = _PARAM.match(part)
        if not m or m.group(2) not in TYPES:
            raise QueryError(f"{path}: parameter {part!r} is not `name (type[, optional|default X])`, types {TYPES}")
        params.append(Param(m.group(1), m.group(2), m.group(4), m.group(3) == "optional"))
    return Query(path.stem, meta["description"], tuple(params), "\n".join(body).strip().rstrip(";"), path)


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> Query:
    return parse(path)


def load(name: str, folder: Path = QUERIES_DIR) -> Query:
    path = Path(folder) / f"{name}.sql"
    if not path.exists():
        known = ", ".join(q.name for q in all_queries(folder))
        raise QueryError(f"no query {name!r} in {folder} (known: {known})")
    return _load(path, path.stat().st_mtime)


def all_queries(folder: Path = QUERIES_DIR) -> list[Query]:
    return [load(p.stem, folder) for p in sorted(Path(folder).glob("*.sql"))]


def run(name: str, con: Any = None, **params: Any):
    """Run a query on the mirror (default: a read-only connection to it) and return a polars DataFrame."""
    query = load(name)
    bound = query.bind(**params)
    own = con is None
    if own:
        from learnlab.mirror import open_reader

        con = open_reader()
    try:
        return con.execute(query.sql, bound).pl()
    except Exception as exc:
        if isinstance(exc, LearnlabError):
            raise
        raise QueryError(f"query {name} failed: {exc}") from exc
    finally:
        if own:
            con.close()
