"""Type conversion, in two halves: what SQLite sends, and how DuckDB turns it into typed columns.

SQLite lets any column hold any storage class, and DuckDB's sqlite reader fails a whole
scan on a mismatch. So the source side sends every value as text (``sqlite_query`` reads
all columns as VARCHAR anyway), choosing a lossless text form (reals with 17 digits, blobs
as hex), and DuckDB converts with ``TRY_CAST``-style expressions that never raise: a value
that does not convert becomes NULL and sets its column's bit in ``_learnlab_bad``, from
which the quality table is filled. Every stored DateTime form converts to one UTC
``TIMESTAMP``: ISO text with ``Z`` or any offset, ``CURRENT_TIMESTAMP``'s
``YYYY-MM-DD HH:MM:SS``, INTEGER/REAL milliseconds; integers below 1e11 look like seconds
(Prisma would read them as 1970) and are reported instead of guessed.
"""

from __future__ import annotations

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.plan import ColumnPlan, TablePlan
from learnlab.mirror.privacy import hmac_sql

BAD = "_learnlab_bad"
FORMS = "_learnlab_forms"
HIDDEN = (BAD, FORMS)
SOURCE = "_source"
RAW = "_learnlab_raw_"
# Milliseconds below this are implausible for application timestamps (before 1973-03-03):
# they are almost surely seconds written where Prisma expects milliseconds.
MIN_MS = 100_000_000_000
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
# A DateTime number is taken as milliseconds when it is negative (before 1970: Prisma writes
# e.g. 1969-07-20 as -14182939877) down to year 1, or at least 1e10 (after 1970-04-26). Positive
# numbers below 1e10 are seconds' magnitude (up to year 2286): flagged, not guessed.
SECONDS_LIKE = 10_000_000_000
MIN_NEGATIVE_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z


def plausible_ms(value: float) -> bool:
    """Would the mirror take this stored number as a DateTime in milliseconds? (see SECONDS_LIKE)"""
    return SECONDS_LIKE <= value <= MAX_MS or MIN_NEGATIVE_MS <= value < 0
FORM_NAMES = {1: "iso8601", 2: "current_timestamp", 4: "unixepoch-ms"}


def sql_text(value: str) -> str:
    """A SQL string literal (SQLite and DuckDB alike).

    Values are bound parameters everywhere else; ``sqlite_query`` takes its SQL as one
    string and has no parameters, so the few values it carries (bounds, ids) are quoted here.
    """
    return "'" + str(value).replace("'", "''") + "'"


def columns_ddl(columns: list[tuple[str, str]], keys: tuple[str, ...] | list[str] = ()) -> str:
    """``"a" VARCHAR, ...`` for a mirrored table. Text key columns are stored uncompressed: every
    incremental pass, deletion search and catch-up reads the whole key column to find rows, and
    an uncompressed column scans 3-4x faster than FSST's (2M ULIDs: 5.5 ms against 20 ms) for
    ~40% more bytes in that one column."""
    return ", ".join(f"{q(n)} {t}" + (" USING COMPRESSION uncompressed" if n in keys and t == "VARCHAR" else "")
                     for n, t in columns)


def key_text(columns: tuple[str, ...] | list[str], alias: str = "") -> str:
    """A row's key as one text (``a|b`` for composite keys), in SQLite and DuckDB alike."""
    prefix = f"{alias}." if alias else ""
    return " || '|' || ".join(f"CAST({prefix}{q(k)} AS TEXT)" for k in columns) if columns else "NULL"


def source_expr(col: ColumnPlan, *, as_text: bool = False) -> str:
    """The SQLite expression sent for ``col``: its value as lossless text (NULL stays NULL)."""
    c = q(col.name)
    if col.kind in ("blob", "embedding"):
        # hex keeps bytes intact through VARCHAR; a non-blob value is marked with '!'.
        expr = f"CASE typeof({c}) WHEN 'blob' THEN hex({c}) WHEN 'null' THEN NULL ELSE '!' || {c} END"
    elif col.kind in ("real", "json"):
        # SQLite's own REAL->TEXT keeps 15 digits (0.1+0.2 -> '0.3'); 17 round-trip exactly.
        expr = f"CASE typeof({c}) WHEN 'real' THEN printf('%!.17g', {c}) ELSE {c} END"
        if as_text:
            expr = f"CAST({expr} AS TEXT)"
    else:
        expr = f"CAST({c} AS TEXT)" if as_text else c
    return f"{expr} AS {q(col.name)}"


def source_select(plan: TablePlan, where: str = "", *, as_text: bool = False, extra: tuple[str, ...] = ()) -> str:
    """``SELECT <lossless text of each mirrored column> FROM "T" [WHERE ...]`` for the source."""
    cols = ", ".join([*(source_expr(c, as_text=as_text) for c in plan.mirrored), *extra])
    sql = f"SELECT {cols} FROM {q(plan.name)}"
    return f"{sql} WHERE {where}" if where else sql


def duck_expr(col: ColumnPlan, r: str, key: bytes | None, validate_text: bool = True) -> str:
    """DuckDB expression converting the VARCHAR ``r`` to the column's mirrored type; never raises
    (text is taken as is when ``validate_text`` is off: see ``InvalidText``)."""
    if col.rule == "hash":
        return hmac_sql(r, key or b"")
    k = col.kind
    if k == "text":
        # Invalid UTF-8 would fail the whole insert later: validate here, per value.
        return f"TRY(decode(encode({r})))" if validate_text else r
    if k == "integer":
        # TRY_CAST rounds '2.5' to 3: a REAL left in an INTEGER column keeps its '.'.
        return f"CASE WHEN NOT contains({r}, '.') THEN TRY_CAST({r} AS BIGINT) END"
    if k == "real":
        return f"TRY_CAST({r} AS DOUBLE)"
    if k == "boolean":
        return (f"CASE {r} WHEN '1' THEN true WHEN '0' THEN false "
                f"ELSE CASE lower({r}) WHEN 'true' THEN true WHEN 'false' THEN false END END")
    if k == "datetime":
        return datetime_expr(r)
    if k == "json":
        return f"TRY_CAST({r} AS JSON)"
    # blob and embedding: hex from the source; '!'-marked values are not blobs.
    return f"CASE WHEN NOT starts_with({r}, '!') THEN TRY(unhex({r})) END"


def is_invalid_text(exc: BaseException) -> bool:
    """DuckDB refusing text that is not UTF-8 (the refresh is then redone with validation on)."""
    return "Invalid unicode" in str(exc)


def datetime_expr(r: str) -> str:
    """Any stored DateTime form -> UTC TIMESTAMP (the session's TimeZone is UTC).

    Text starting with a digit (not 'infinity' or 'epoch') is a date: Prisma's UTC forms
    (``...Z``, ``...+00:00``) and SQLite's ``YYYY-MM-DD HH:MM:SS`` go through the plain
    TIMESTAMP cast, any other offset through TIMESTAMPTZ, which applies it (the plain cast
    ignores offsets) but is 4-5x slower: 2M ISO values convert in 92 ms instead of 424 ms.
    Prisma's own form (29 characters ending ``+00:00``) is tested first and cast directly, with
    the same result as the general expression (which would take that branch, and no number has
    a ':'): 20k rows with two DateTime columns stage in 17 ms instead of 21."""
    utc = (f"suffix({r}, 'Z') OR suffix({r}, '+00:00') "
           f"OR (length({r}) = 19 AND {r}[14] = ':' AND {r}[17] = ':')")
    text = (f"CASE WHEN {r} >= '0' AND {r} < ':' AND contains({r}, '-') THEN CASE WHEN {utc} "
            f"THEN TRY_CAST({r} AS TIMESTAMP) ELSE TRY_CAST({r} AS TIMESTAMPTZ)::TIMESTAMP END END")
    ms = f"TRY_CAST({r} AS DOUBLE)"
    number = (f"CASE WHEN ({ms} >= {SECONDS_LIKE} AND {ms} <= {MAX_MS}) OR ({ms} < 0 AND {ms} >= {MIN_NEGATIVE_MS}) "
              f"THEN make_timestamp(CAST(round({ms} * 1000) AS BIGINT)) END")
    prisma = f"length({r}) = 29 AND suffix({r}, '+00:00') AND {r} >= '0' AND {r} < ':' AND contains({r}, '-')"
    return f"CASE WHEN {prisma} THEN TRY_CAST({r} AS TIMESTAMP) ELSE COALESCE({text}, {number}) END"


def form_expr(r: str) -> str:
    """Which stored DateTime form ``r`` is in: 1 ISO (T), 2 CURRENT_TIMESTAMP (space), 4 ms, 0 none."""
    return (f"CASE WHEN {r} IS NULL THEN 0 WHEN {r}[11] = 'T' THEN 1 WHEN {r}[11] = ' ' THEN 2 "
            f"WHEN TRY_CAST({r} AS DOUBLE) IS NOT NULL THEN 4 ELSE 0 END")


def forms_text(bits: int) -> str:
    return "+".join(name for bit, name in FORM_NAMES.items() if bits & bit) or "none"


def convert_select(plan: TablePlan, frag: str, source: str, key: bytes | None,
                   passthrough: tuple[str, ...] = (), validate_text: bool = True) -> str:
    """DuckDB ``SELECT`` from a raw all-VARCHAR relation to typed columns + ``_source`` + hidden flags.

    Bit ``i % 63`` of ``_learnlab_bad`` is set when mirrored column ``i`` did not convert; bits
    ``3j..3j+2`` of ``_learnlab_forms`` say which forms DateTime column ``j`` holds.
    """
    inner, outer, bad, forms = [], [], [], []
    datetimes = 0
    for i, col in enumerate(plan.mirrored):
        raw = q(f"{RAW}{i}")
        r = f"r.{q(col.name)}"
        inner.append(f"{duck_expr(col, r, key, validate_text)} AS {q(col.name)}")
        inner.append(f"{r} AS {raw}")
        outer.append(f"v.{q(col.name)}")
        if col.rule != "hash":
            bad.append(f"CASE WHEN v.{raw} IS NOT NULL AND v.{q(col.name)} IS NULL THEN {1 << (i % 63)} ELSE 0 END")
        if col.kind == "datetime" and col.rule == "keep" and datetimes < 21:
            forms.append(f"({form_expr('v.' + raw)} << {3 * datetimes})")
            datetimes += 1
    for name in passthrough:
        inner.append(f"r.{q(name)}")
        outer.append(f"v.{q(name)}")
    bad_sql = " | ".join(bad) or "0"
    forms_sql = " | ".join(forms) or "0"
    return (f"SELECT {', '.join(outer)}, {sql_text(source)} AS {SOURCE}, "
            f"CAST({bad_sql} AS BIGINT) AS {BAD}, CAST({forms_sql} AS BIGINT) AS {FORMS} "
            f"FROM (SELECT {', '.join(inner)} FROM {frag} r) v")


def datetime_columns(plan: TablePlan) -> list[ColumnPlan]:
    """The DateTime columns whose forms ``_learnlab_forms`` tracks, in bit order."""
    return [c for c in plan.mirrored if c.kind == "datetime" and c.rule == "keep"][:21]


def bad_columns(plan: TablePlan, bits: int) -> list[ColumnPlan]:
    """The mirrored columns whose bit is set (bits wrap at 63: callers re-check the value)."""
    return [c for i, c in enumerate(plan.mirrored) if bits & (1 << (i % 63))]
