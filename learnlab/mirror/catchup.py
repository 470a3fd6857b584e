"""Bringing a reused generation up to the published one, at the cost of what last changed.

A refresh writes a generation that is not published (readers may be holding the published
one). That generation is usually the one published before: one refresh behind. The writer
first replays the published refresh onto it (the published file ATTACHed read-only), then
applies the new changes, so a refresh's report counts exactly what changed since the last
published refresh and its cost stays proportional to the rows changed:

- the rows a refresh inserted or updated are the last rows of their table (it appended
  them). It notes, per table, how many and a hash of their keys (``_mirror_meta`` key
  ``tail``); the replay reads that tail (a rowid range: DuckDB skips the rest of the table),
  checks its count and key hash, deletes the rows with those keys here and inserts the tail;
- the keys it deleted are in ``_mirror_changes``, and a table it rebuilt has a NULL key
  there (the replay copies that table whole).

A generation more than one refresh behind, or a tail that does not check out (rows moved
by DuckDB, say), cannot be replayed: the writer then starts from a copy of the published
file (``pending`` returns None, or ``replay`` raises ``CatchUpFailed``). Measured at 2M rows
with 20k changed: recording every changed key cost each refresh ~25 ms, keeping a copy of
the changed rows ~60 ms, and finding them by key in the published table ~200 ms (it reads
every column of every row); the tail costs ~25 ms, in the next refresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.errors import MirrorError
from learnlab.mirror import book
from learnlab.mirror.convert import columns_ddl, key_text, sql_text
from learnlab.mirror.target import INTERNAL_TABLES

PUB = "_learnlab_published"
TAIL = "_learnlab_tail"


class CatchUpFailed(MirrorError):
    """The generation could not be brought to the published one; it is discarded and the
    refresh starts again from a copy of the published file."""

    generation: Path | None = None


LAST_REFRESH = f"(SELECT max(refresh_id) FROM {book.TABLE} WHERE kind = 'refresh')"


def last_refresh(con: Any) -> str | None:
    """The last refresh this file holds (None: none yet)."""
    return con.execute(f"SELECT {LAST_REFRESH}").fetchone()[0]


def pending(con: Any) -> list[str] | None:
    """The published refresh (attached as ``PUB``) this file lacks, as a list (empty when it
    lacks none); ``None`` when it cannot be replayed (the caller copies the published file)."""
    if con.execute(f"SELECT value FROM {PUB}._mirror_meta WHERE key = 'format'").fetchone() != (book.FORMAT,):
        return None  # the published file is in an older format (this one was converted): copy it
    mine, log = con.execute(
        f"SELECT {LAST_REFRESH}, "
        f"(SELECT list(DISTINCT refresh_id ORDER BY refresh_id) FROM {PUB}.{book.TABLE} WHERE kind = 'refresh')"
    ).fetchone()
    log = log or []
    if mine is None:
        return None if log else []
    if mine not in log:
        return None
    todo = log[log.index(mine) + 1:]
    if not todo:
        return []
    return todo if len(todo) == 1 and _tail(con, todo[0]) is not None else None


def _tail(con: Any, refresh_id: str) -> dict | None:
    """What the published refresh noted (``finish``), if it is ``refresh_id``."""
    row = con.execute(f"SELECT value FROM {PUB}._mirror_meta WHERE key = 'tail'").fetchone()
    tail = json.loads(row[0]) if row else {}
    return tail if tail.get("refresh") == refresh_id else None


def _tables(con: Any, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = 'main' ORDER BY table_name, ordinal_position", [catalog]).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for t, c, ty in rows:
        if t not in INTERNAL_TABLES and t != "_mirror_changes":
            out.setdefault(t, []).append((c, ty))
    return out


def replay(con: Any, refreshes: list[str]) -> int:
    """Make this file's tables equal the published file's, copying only the rows its last
    refresh (``refreshes``, from ``pending``) touched; returns how many."""
    if not refreshes:
        return 0
    (refresh_id,) = refreshes
    tail = _tail(con, refresh_id) or {}
    deleted: dict[str, list[tuple[str | None, int]]] = {}
    for table, source, whole, n in con.execute(
            f"SELECT table_name, source, bool_or(row_key IS NULL), count(*) FROM {PUB}._mirror_changes "
            f"WHERE refresh_id = ? AND table_name IS NOT NULL GROUP BY ALL ORDER BY ALL", [refresh_id]).fetchall():
        deleted.setdefault(table, []).append((None if whole else source, n))
    # Every change to a mirrored table is in the tail or in ``_mirror_changes`` (a new, dropped or
    # reloaded table as a whole-table marker): a refresh that changed nothing needs only its log.
    copied = _replay_tables(con, refresh_id, tail, deleted) if deleted or tail.get("tables") else 0
    # Current-state tables are copied whole; logs only gain the refresh replayed (and are
    # pruned the same way the published file was).
    for internal in ("_mirror_meta", "_mirror_quality"):
        con.execute(f"DELETE FROM {internal}")
        con.execute(f"INSERT INTO {internal} BY NAME SELECT * FROM {PUB}.{internal}")
    con.execute(f"DELETE FROM {book.TABLE} WHERE kind = 'state'")
    con.execute(f"INSERT INTO {book.TABLE} BY NAME SELECT * FROM {PUB}.{book.TABLE} WHERE kind = 'state'")
    # Key-group counts (tens of thousands of rows for a big table): only the tables whose counts
    # the replayed refresh changed.
    touched = tail.get("groups", [])
    if touched:
        which = " WHERE table_name IN (SELECT unnest(?::VARCHAR[]))"
        con.execute(f"DELETE FROM _mirror_groups{which}", [touched])
        con.execute(f"INSERT INTO _mirror_groups BY NAME SELECT * FROM {PUB}._mirror_groups{which}", [touched])
    for log, rows in ((book.TABLE, "kind <> 'state'"), ("_mirror_drift", "true")):
        con.execute(f"DELETE FROM {log} WHERE {rows} AND refresh_id NOT IN "
                    f"(SELECT refresh_id FROM {PUB}.{log} WHERE {rows})")
        con.execute(f"INSERT INTO {log} BY NAME SELECT * FROM {PUB}.{log} WHERE {rows} AND refresh_id = ?",
                    [refresh_id])
    con.execute("DELETE FROM _mirror_changes")
    return copied


def _replay_tables(con: Any, refresh_id: str, tail: dict, deleted: dict[str, list[tuple[str | None, int]]]) -> int:
    """The mirrored tables' part of ``replay``: tables the refresh created, dropped or rebuilt are
    copied whole; the others lose the keys it deleted or rewrote and gain its tail."""
    here_catalog = con.execute("SELECT current_database()").fetchone()[0]
    here, there = _tables(con, here_catalog), _tables(con, PUB)
    all_keys = _key_columns(con)
    copied = 0
    for table in sorted(set(here) - set(there)):
        con.execute(f"DROP TABLE {q(table)}")
    for table, columns in sorted(there.items()):
        t = q(table)
        entries = deleted.get(table, [])
        key_columns = all_keys.get(table, {})
        if here.get(table) != columns or any(source is None for source, _ in entries):
            # Rebuilt: copied whole (declared as ``apply.copy_rows`` declares it).
            keys = sorted({k for ks in key_columns.values() for k in ks})
            con.execute(f"CREATE OR REPLACE TABLE {t} ({columns_ddl(columns, keys)})")
            con.execute(f"INSERT INTO {t} SELECT * FROM {PUB}.{t}")
            copied += sum(n for _, n in entries)
            continue
        appended = tail.get("tables", {}).get(table)
        sources = {source for source, _ in entries}
        copied += sum(n for _, n in entries)
        keys = _key_texts(key_columns, dict(columns))
        if appended:
            sources |= _read_tail(con, table, keys, appended)
        for source in sorted(sources):
            key = _key_of(keys, table, source)
            tail_keys = f"SELECT {key} FROM {TAIL} WHERE _source = ? UNION ALL " if appended else ""
            con.execute(f"DELETE FROM {t} WHERE _source = ? AND {key} IN ({tail_keys}SELECT row_key FROM "
                        f"{PUB}._mirror_changes WHERE refresh_id = ? AND table_name = ? AND source = ?)",
                        [source, *([source] if appended else []), refresh_id, table, source])
        if appended:
            copied += con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM {TAIL}").fetchone()[0]
            con.execute(f"DROP TABLE {TAIL}")
    return copied


def _read_tail(con: Any, table: str, keys: dict[str, str], appended: dict) -> set[str]:
    """The published table's last ``appended["rows"]`` rows into ``TAIL``, checked against the
    noted key hash; returns their sources. Raises ``CatchUpFailed`` when they are not the rows
    the refresh appended."""
    t, n = q(table), int(appended["rows"])
    top = con.execute(f"SELECT max(rowid) FROM {PUB}.{t}").fetchone()[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TAIL} AS SELECT * FROM {PUB}.{t} WHERE rowid > {int(top or 0) - n}")
    sources = [r[0] for r in con.execute(f"SELECT DISTINCT _source FROM {TAIL}").fetchall()]
    cases = " ".join(f"WHEN _source = {sql_text(s)} THEN {_key_of(keys, table, s)}" for s in sources)
    rows, digest = con.execute(f"SELECT count(*), bit_xor(hash(_source, CASE {cases or 'WHEN false THEN NULL'} END)) "
                               f"FROM {TAIL}").fetchone()
    if rows != n or int(digest or 0) != int(appended["hash"]):
        raise CatchUpFailed(f"the last {n} rows of the published {table} are not the rows its refresh wrote")
    return set(sources)


def _key_columns(con: Any) -> dict[str, dict[str, list[str]]]:
    """Per table and source, the key columns (as the published refresh recorded them)."""
    out: dict[str, dict[str, list[str]]] = {}
    for table, source, columns in con.execute(f"SELECT table_name, source, key_columns FROM {PUB}._mirror_state"
                                              ).fetchall():
        if keys := json.loads(columns) if columns else []:
            out.setdefault(table, {})[source] = keys
    return out


def _key_texts(key_columns: dict[str, list[str]], types: dict[str, str]) -> dict[str, str]:
    """Per source, the table's key as the refresh spelt it (``key_hash``, ``_mirror_changes``); a
    single text key is the column itself (a hash join)."""
    return {source: q(keys[0]) if len(keys) == 1 and types.get(keys[0]) == "VARCHAR" else key_text(keys)
            for source, keys in key_columns.items()}


def _key_of(keys: dict[str, str], table: str, source: str) -> str:
    if source not in keys:
        raise CatchUpFailed(f"no key is known for {table} of source {source}")
    return keys[source]


def key_hash(con: Any, source: str, keys_sql: str) -> tuple[int, int]:
    """(count, hash) of the key texts ``keys_sql`` selects for ``source``, as ``_read_tail``
    computes them over a tail (XOR: the hashes of several batches combine in any order)."""
    n, digest = con.execute(f"SELECT count(*), bit_xor(hash(?, k)) FROM ({keys_sql}) AS c(k)", [source]).fetchone()
    return int(n), int(digest or 0)


def note_tail(appended: dict[str, dict], table: str, n: int, digest: int) -> None:
    """Add ``n`` rows with key hash ``digest`` to what the refresh appended to ``table``."""
    entry = appended.setdefault(table, {"rows": 0, "hash": 0})
    entry["rows"] += n
    entry["hash"] ^= digest


def record(con: Any, refresh_id: str, source: str, table: str, keys_sql: str | None) -> None:
    """Note keys a refresh deleted (``keys_sql`` selects their key text), or that it rebuilt
    the table (``None``: the replay copies it whole)."""
    if keys_sql is None:
        con.execute("INSERT INTO _mirror_changes VALUES (?, ?, ?, NULL)", [refresh_id, source, table])
    else:
        con.execute(f"INSERT INTO _mirror_changes SELECT ?, ?, ?, k FROM ({keys_sql}) AS c(k)",
                    [refresh_id, source, table])


def finish(con: Any, refresh_id: str, appended: dict[str, dict], groups_touched: set[str]) -> None:
    """Note what the refresh appended to each table (the next refresh's replay reads it back
    as the tail) and whose key-group counts it changed; keep only its own deleted keys."""
    con.execute("DELETE FROM _mirror_meta WHERE key IN ('tail', 'delta')")
    con.execute("INSERT INTO _mirror_meta VALUES ('tail', ?)",
                [json.dumps({"refresh": refresh_id, "tables": appended, "groups": sorted(groups_touched)},
                            sort_keys=True)])
    con.execute("DELETE FROM _mirror_changes WHERE refresh_id <> ?", [refresh_id])
