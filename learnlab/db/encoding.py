"""How Prisma's libSQL adapter stores each value, and how to read every form it may leave.

See ``PRISMA-ENCODING.md`` in the project's spec. In short:

- DateTime: TEXT ``2024-01-02T03:04:05.678+00:00`` by default (``iso8601``), or INTEGER
  milliseconds since the epoch with the adapter's ``timestampFormat: 'unixepoch-ms'``.
  Raw SQL defaults (``CURRENT_TIMESTAMP``) leave ``2024-01-02 03:04:05``; other writers
  leave ISO with ``Z``. All are read back as the same aware UTC ``datetime``.
- Json: compact text; a JSON number ends up INTEGER/REAL (``JSONB`` has NUMERIC affinity);
  ``JSON_NULL`` is the text ``null``; Python ``None`` is SQL NULL (Prisma's DbNull).
- Ids: ULID (26 upper-case Crockford base32 characters, time first), cuid v1 for ``Image``.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timedelta, timezone
from typing import Any

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class _JsonNull:
    """Prisma's ``JsonNull``: a JSON ``null`` value, stored as the text ``null`` (not SQL NULL)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL = _JsonNull()


def utcnow() -> datetime:
    """The current time as Prisma sees it: aware UTC, millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(value: datetime, field: str = "value") -> datetime:
    """Aware UTC at millisecond precision; naive datetimes are taken as UTC (as SQLite does)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{field}: expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    else:
        value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_epoch_ms(value: datetime) -> int:
    value = as_utc(value)
    return (value - EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(ms: int | float) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def format_datetime(value: datetime, fmt: str = "iso8601") -> str | int:
    """The stored form Prisma's adapter writes for ``value`` with ``timestampFormat=fmt``."""
    if fmt == "unixepoch-ms":
        return to_epoch_ms(value)
    v = as_utc(value)
    # Explicit widths: strftime's %Y does not zero-pad years before 1000 on Linux.
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}."
        f"{v.microsecond // 1000:03d}+00:00"
    )


def parse_datetime(raw: Any) -> datetime | None:
    """Read any stored DateTime form back as aware UTC; ``ValueError`` for what is none of them.

    >>> parse_datetime("2024-01-02T03:04:05.678+00:00") == parse_datetime(1704164645678)
    True
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return as_utc(raw)
    if isinstance(raw, bool):
        raise ValueError(f"not a timestamp: {raw!r}")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ValueError(f"not a timestamp: {raw!r}")
        return from_epoch_ms(raw)
    if isinstance(raw, bytes):
        raise ValueError(f"not a timestamp: a {len(raw)}-byte BLOB")
    text = str(raw).strip()
    if text.lstrip("-").isdigit():
        return from_epoch_ms(int(text))
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a timestamp: {raw!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def encode_json(value: Any) -> str | int | float | None:
    """Prisma's compact JSON text; ``None`` is SQL NULL, ``JSON_NULL`` the JSON ``null``."""
    if value is None:
        return None
    if value is JSON_NULL:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"JSON has no {value!r}")
        return value
    return "".join(_js_json(value))


def js_number(value: int | float) -> str:
    """A number as JavaScript's ``JSON.stringify`` spells it: ``1`` not ``1.0``, ``0.00001`` not ``1e-05``."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"JSON has no {value!r}")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # Shortest round-tripping digits (Python and JS agree on them), then JS's layout rules.
    mantissa, _, exp = repr(abs(value)).partition("e")
    digits = mantissa.replace(".", "").lstrip("0")
    point = mantissa.index(".") if "." in mantissa else len(mantissa)
    n = point + int(exp or 0) - (len(mantissa.replace(".", "")) - len(mantissa.replace(".", "").lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + out


def _js_json(value: Any):
    """Compact JSON exactly as ``JSON.stringify`` writes it (what Prisma stores)."""
    if value is None or value is JSON_NULL:
        yield "null"
    elif value is True:
        yield "true"
    elif value is False:
        yield "false"
    elif isinstance(value, (int, float)):
        yield js_number(value)
    elif isinstance(value, str):
        yield json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dict):
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be text, got {k!r}")
            yield ("," if i else "") + json.dumps(k, ensure_ascii=False) + ":"
            yield from _js_json(v)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for i, v in enumerate(value):
            if i:
                yield ","
            yield from _js_json(v)
        yield "]"
    else:
        raise TypeError(f"{type(value).__name__} is not JSON")


def decode_json(raw: Any) -> Any:
    """Read a Json column: text is parsed, numbers (NUMERIC affinity) are returned as they are."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)):
        return raw
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    value = json.loads(raw)
    return JSON_NULL if value is None else value


def new_ulid(at: datetime | None = None) -> str:
    """A ULID whose time part is ``at`` (default now), as Prisma's ``ulid()`` makes them."""
    ms = to_epoch_ms(at) if at is not None else to_epoch_ms(utcnow())
    return ulid_from_parts(ms, int.from_bytes(os.urandom(10), "big"))


def ulid_from_parts(ms: int, randomness: int) -> str:
    """Encode a 48-bit millisecond time and 80 random bits as 26 Crockford base32 characters."""
    if not 0 <= ms < (1 << 48):
        raise ValueError(f"ULID time out of range: {ms}")
    n = (ms << 80) | (randomness & ((1 << 80) - 1))
    out = []
    for _ in range(26):
        out.append(_CROCKFORD[n & 31])
        n >>= 5
    return "".join(reversed(out))


def ulid_time(ulid: str) -> datetime:
    """The creation time encoded in a ULID's first 10 characters."""
    ms = 0
    for ch in ulid[:10]:
        ms = ms * 32 + _CROCKFORD.index(ch)
    return from_epoch_ms(ms)


def new_cuid() -> str:
    """A cuid v1 (25 characters starting with ``c``), as Prisma's ``cuid()`` makes for ``Image``."""
    import cuid

    return cuid.cuid()
