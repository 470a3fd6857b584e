"""The incremental reader's WHERE clause: every row whose cursor may be at or after a bound.

A DateTime column can hold several stored forms at once, and SQLite compares them as
stored: INTEGER before TEXT, and ``'2024-05-06 07:...'`` (CURRENT_TIMESTAMP) before
``'2024-05-06T07:...'`` (ISO). A single ``"updatedAt" >= '<iso>'`` would skip changed rows
of the other forms. So the predicate is a union of index ranges, one per stored form,
each closed (``>=``):

- INTEGER/REAL milliseconds ``>= bound_ms`` (numbers only: the upper bound excludes text);
- integers that look like seconds (reported as bad values, re-read so a fix is seen);
- text: the space form (UTC) from the bound on, and ISO ``T`` text from ``bound - 14 h`` on
  (the earliest local time any UTC offset gives for an instant at or after the bound), as at
  most two index ranges (``' '`` sorts below ``'T'``: a day's space forms come before its
  ``T`` forms), with the exact test ``julianday(x) >= bound`` applied on the index entry
  before the row is read (unparsable text and blobs always pass);
- NULL (never skipped), when the column is nullable (on a NOT NULL column SQLite would
  answer ``IS NULL`` with a full scan, and it cannot hold NULL anyway).

SQLite answers it with a MULTI-INDEX OR over the cursor's index (see ``explain_changed``),
so the cost follows the rows changed, plus the ``T`` index entries of the 14 hours before
the bound (one range starting at the bound's date in the space form would take every ``T``
entry of that date: 14 to 38 hours of them).
Text that sorts below every date form (``'05/06/2024'``) is the one thing it cannot see:
such values are reported by the quality table at the full copy, and ``--full`` re-reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from learnlab.db.encoding import to_epoch_ms
from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import MAX_MS, MIN_MS, sql_text

UTC = timezone.utc
MAX_OFFSET = timedelta(hours=14)
JULIAN_EPOCH = 2440587.5


def changed_where(cursor: str, since: datetime, *, nullable: bool = True) -> str:
    """SQLite WHERE clause selecting rows whose ``cursor`` may be ``>= since`` in any stored form."""
    c = q(cursor)
    since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    ms = to_epoch_ms(since)
    # julianday has ~50 us resolution at today's dates: one ms of slack keeps the test closed.
    jd = (ms - 1) / 86_400_000 + JULIAN_EPOCH
    low = since - MAX_OFFSET
    # One julianday per index entry: NULL (unparsable text, blobs) passes through coalesce.
    exact = f"coalesce(julianday({c}) >= {jd!r}, 1)"
    iso_low = sql_text(f"{low:%Y-%m-%dT%H:%M:%S}")
    if low.date() == since.date():
        # The bound's date: its space forms from the bound (they sort below its T forms), then
        # T forms from ``low`` on and every later date.
        day = f"{since:%Y-%m-%d}"
        text = [f"({c} >= {sql_text(f'{since:%Y-%m-%d %H:%M:%S}')} AND {c} < {sql_text(day + 'T')} AND {exact})",
                f"({c} >= {iso_low} AND {exact})"]
    else:
        # ``low`` is the day before: its T forms from ``low`` on, then every later date.
        text = [f"({c} >= {iso_low} AND {exact})"]
    # The ranges are disjoint (plausible ms, every other number, text and blobs, NULL). Numbers
    # below 1e11 (seconds-like, or before 1973) and above year 9999 are few: always re-read.
    terms = [
        f"({c} >= {max(ms, MIN_MS)} AND {c} <= {MAX_MS})",
        f"({c} >= {-MAX_MS} AND {c} < {MIN_MS})",  # two-sided: SQLite then estimates a small range
        f"({c} > {MAX_MS} AND {c} < '')",
        *text,
    ]
    if nullable:
        terms.append(f"{c} IS NULL")
    return " OR ".join(terms)
