"""Skipping the safety window's re-read when none of its rows changed.

Every incremental read starts a safety window before the table's watermark (writers whose
transactions commit late), so a table that no one writes to still re-reads its last rows at
every refresh, and comparing them costs ~25 ms of DuckDB statements per table whatever their
number (a seeded platform, 20 quiet tables: 0.6-0.9 s for a refresh that changes nothing).

The facts query (one SQLite statement for every table, see ``apply.table_facts``) also
returns, for each table, the rows the read would return, each as its rowid and the exact SQL
literal of every mirrored column (SQLite's ``quote``, in hex), when there are at most ``ROWS``
of them. Their keyed digest is kept in the table's state when the refresh ends with the same
watermark and last rowid, that is when the next read will ask for the same rows; when either
moved (rows were read, or the table was copied), the rows of the next read are digested at the
end of the refresh, still in its snapshot (``apply.keep_windows``: one SQLite statement for
those tables). If the next refresh finds the same digest, the rows it would re-read are exactly
the ones the mirror already holds from the last refresh: the read is skipped. Any change shows: a row written
or committed late enters the range (or changes a value in it), an insert has a higher rowid.
Deletions are found by the counts, as always.

A busy table is read anyway, but the rows of the last window need not be read again when they
did not change: the state also keeps their rowids, the facts query digests the rows with those
rowids now, and when that digest is the kept one the read leaves them out (``kept_sql``). A
busy refresh otherwise re-read the previous window's rows and compared them column by column
with the mirrored ones (at 2M rows, one such row cost ~8 ms: its row group's columns are read).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.plan import TablePlan

ROWS = 64  # beyond this many rows in the window, the read happens anyway


def select_sql(plan: TablePlan, where: str, rowid: bool) -> str:
    """The tail of a SQLite SELECT giving two columns: how many rows ``where`` selects (up to
    ``ROWS + 1``) and their literals for ``digest`` (NULL past ``ROWS``)."""
    return f"w.n, {rows_sql(plan, where, rowid, 'w.n')} FROM (SELECT {matching_sql(plan, where)} AS n) w"


def matching_sql(plan: TablePlan, where: str) -> str:
    """A SQLite scalar: how many rows ``where`` selects, counted up to ``ROWS + 1`` (on the cursor's
    index: the clause needs no row)."""
    return f"(SELECT count(*) FROM (SELECT 1 FROM {q(plan.name)} WHERE {where} LIMIT {ROWS + 1}))"


def rows_sql(plan: TablePlan, where: str, rowid: bool, matching: str) -> str:
    """A SQLite scalar: a JSON array with one array of literals per row ``where`` selects, when
    ``matching`` (``matching_sql``'s value) is at most ``ROWS``; else NULL (a busy table's rows are
    not read for nothing)."""
    return f"CASE WHEN {matching} <= {ROWS} THEN {_literals(plan, where, rowid)} END"


def _literals(plan: TablePlan, where: str, rowid: bool) -> str:
    """A SQLite scalar: a JSON array with one array per row ``where`` selects: its rowid (if
    ``rowid``), then the exact literal of each mirrored column (hex: text that is not UTF-8 stays
    exact and cannot fail the reader)."""
    literals = ", ".join([*(["rowid"] if rowid else []), *(f"hex(quote({q(c.name)}))" for c in plan.mirrored)])
    return f"(SELECT json_group_array(r) FROM (SELECT json_array({literals}) AS r FROM {q(plan.name)} WHERE {where}))"


def kept_sql(plan: TablePlan, rowids: list[int]) -> str:
    """A SQLite scalar: the rows with these rowids now, as ``rows_sql`` gives them (for ``digest``)."""
    return _literals(plan, f"rowid IN ({_ids(rowids)})", True)


def leave_out(where: str, rowids: list[int]) -> str:
    """``where`` without the rows of these rowids (the kept window's, found unchanged)."""
    return f"({where}) AND rowid NOT IN ({_ids(rowids)})"


def _ids(rowids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in rowids)


def rowids(value: Any) -> list[int] | None:
    """The rowids of the rows ``rows_sql`` returned with ``rowid`` (None past ``ROWS``)."""
    if value is None:
        return None
    return sorted(int((json.loads(r) if isinstance(r, str) else r)[0]) for r in json.loads(value))


def digest(value: Any, key: bytes) -> str | None:
    """The keyed digest of the rows ``rows_sql`` returned (order does not matter); None past ``ROWS``."""
    if value is None:
        return None
    rows = json.loads(value)
    lines = sorted(r if isinstance(r, str) else json.dumps(r, separators=(",", ":")) for r in rows)
    return hmac.new(key, "\n".join(lines).encode(), hashlib.sha256).hexdigest()
