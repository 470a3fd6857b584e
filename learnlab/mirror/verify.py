"""Check a mirror against its source, row by row, with conversions written independently of DuckDB.

Slow by design (every row through Python); for tests and for ``learnlab mirror verify``-style
audits of small databases. ``compare`` returns human-readable differences (empty: equal).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from learnlab.db.encoding import parse_datetime
from learnlab.db.introspect import describe_schema
from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import plausible_ms
from learnlab.mirror.plan import ColumnPlan, MirrorOptions, make_plans
from learnlab.mirror.privacy import hmac_hex


class InvalidText(bytes):
    """TEXT storage that is not valid UTF-8."""


def stored(kind: str, raw: Any) -> Any:
    """The Python value of a (typeof, value) pair as the verifier fetches it."""
    if kind == "text":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return InvalidText(raw)
    return raw


def expected_value(col: ColumnPlan, raw: Any, key: bytes, dim: int | None) -> Any:
    """What the mirror must hold for the stored value ``raw`` (None for a value reported as bad)."""
    if raw is None:
        return None
    if isinstance(raw, InvalidText):
        return hmac_hex(raw.decode("utf-8", "replace"), key) if col.rule == "hash" else None
    if col.rule == "hash":
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else _text(raw)
        return hmac_hex(text, key)
    k = col.kind
    if k == "text":
        if isinstance(raw, bytes):
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return _text(raw)
    if k == "integer":
        return raw if isinstance(raw, int) else _int_text(raw)
    if k == "real":
        if isinstance(raw, (int, float)):
            return float(raw)
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None
    if k == "boolean":
        return {1: True, 0: False, "1": True, "0": False, "true": True, "false": False}.get(
            raw.lower() if isinstance(raw, str) else raw)
    if k == "datetime":
        return _datetime(raw)
    if k == "json":
        if isinstance(raw, (int, float)):
            return ("json", raw)
        try:
            return ("json", json.loads(raw))
        except (TypeError, ValueError):
            return None
    if not isinstance(raw, bytes):
        return None
    if k == "embedding":
        if dim is None or len(raw) != 4 * dim:
            return None
        import numpy as np

        return tuple(float(x) for x in np.frombuffer(raw, "<f4"))
    return raw


def _text(raw: Any) -> str:
    return repr(raw) if isinstance(raw, float) else str(raw)


def _int_text(raw: Any) -> int | None:
    if isinstance(raw, str) and "." not in raw:
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


def _datetime(raw: Any) -> datetime | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if not plausible_ms(raw):
            return None
    elif isinstance(raw, str):
        text = raw.strip()
        if not text[:1].isdigit() or "-" not in text:
            return None
    elif not isinstance(raw, str):
        return None
    try:
        value = parse_datetime(raw)
    except (ValueError, OverflowError):
        return None
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value else None


def actual_value(col: ColumnPlan, value: Any) -> Any:
    if value is None:
        return None
    if col.rule == "hash":
        return value
    if col.kind == "json":
        return ("json", json.loads(value))
    if col.kind == "embedding":
        return tuple(float(x) for x in value)
    if col.kind == "blob":
        return bytes(value)
    return value


def _canon(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list, tuple)) else v


def compare(source: Any, duckdb_path: str | Path, *, source_name: str | None = None,
            options: MirrorOptions | None = None, key: bytes | None = None) -> list[str]:
    """Differences between the source and its mirror (``[]`` when every table is equal).

    ``source``: a SQLite file, or an open DB-API connection (a Turso replica's, say).
    """
    from learnlab.mirror.privacy import load_key
    from learnlab.mirror.target import DuckDBTarget

    options = options or MirrorOptions()
    own = isinstance(source, (str, Path))
    if own:
        source = Path(source)
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    else:
        conn = source
    name = source_name or (source.stem if own else "source")
    key = key if key is not None else load_key(Path(duckdb_path))
    duck = DuckDBTarget(Path(duckdb_path)).open_reader()
    problems: list[str] = []
    try:
        schema = describe_schema(conn)
        dims = dict(duck.execute("SELECT table_name, embedding_dim FROM _mirror_state WHERE source = ?",
                                 [name]).fetchall())
        plans, excluded = make_plans(schema, options, dims)
        tables = {r[0] for r in duck.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'main'").fetchall()}
        for t in excluded:
            if t in tables:
                problems.append(f"{t}: excluded by privacy but present in the mirror")
        for plan in plans:
            if plan.name not in tables:
                problems.append(f"{plan.name}: missing from the mirror")
                continue
            cols = plan.mirrored
            dim = plan.embedding_dim
            expected = Counter()
            # Text comes as bytes (CAST AS BLOB) so invalid UTF-8 stays visible; typeof says what it was.
            select = ", ".join(f"typeof({q(c.name)}), CASE WHEN typeof({q(c.name)}) = 'text' "
                               f"THEN CAST({q(c.name)} AS BLOB) ELSE {q(c.name)} END" for c in cols)
            for row in conn.execute(f"SELECT {select} FROM {q(plan.name)}"):
                values = [stored(row[2 * i], row[2 * i + 1]) for i in range(len(cols))]
                expected[tuple(_canon(expected_value(c, v, key, dim)) for c, v in zip(cols, values))] += 1
            actual = Counter()
            for row in duck.execute(f"SELECT {', '.join(q(c.name) for c in cols)} FROM {q(plan.name)} "
                                    "WHERE _source = ?", [name]).fetchall():
                actual[tuple(_canon(actual_value(c, v)) for c, v in zip(cols, row))] += 1
            if expected != actual:
                missing, extra = expected - actual, actual - expected
                problems.append(f"{plan.name}: {sum(missing.values())} source rows not mirrored "
                                f"(e.g. {list(missing)[:2]}), {sum(extra.values())} mirrored rows not in the "
                                f"source (e.g. {list(extra)[:2]})")
    finally:
        if own:
            conn.close()
        duck.close()
    return problems
