"""Vectorised forms of learnlab's value encoding, for whole batches of rows at once.

Each function here produces exactly what its scalar counterpart in
``learnlab.db.encoding`` produces (the tests compare them), only for a numpy array
of values in one go:

- ``ulids(ms, rng)``: ``ulid_from_parts(ms, randomness)`` with 80 random bits drawn from
  ``rng`` (a seeded ``numpy.random.Generator``), so ids are deterministic.
- ``datetimes(ms, fmt)``: ``format_datetime`` for ``iso8601`` (TEXT) or ``unixepoch-ms`` (INTEGER).
- ``months(ms)``: ``YYYY-MM`` of each timestamp (``AIUsage.usageMonth``).
- ``cuids(ms, rng, start)``: cuid-v1-shaped ids (``c`` + time + counter + fingerprint + random,
  25 characters, base 36) for ``Image``: deterministic, unlike ``new_cuid()``.
"""

from __future__ import annotations

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

_CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
_BASE36 = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_ISO_TEMPLATE = np.frombuffer(b"0000-00-00T00:00:00.000+00:00", dtype=np.uint8)
_ZERO = ord("0")


def _strings(chars: np.ndarray) -> list[str]:
    """A ``(n, width)`` uint8 array of ASCII codes -> a list of ``n`` Python strings."""
    n, width = chars.shape
    if n == 0:
        return []
    return np.ascontiguousarray(chars).view(f"S{width}").reshape(n).astype(f"U{width}").tolist()


def ulid_chars(ms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """ULIDs as a ``(n, 26)`` uint8 array: 10 characters of time (``ms``), 16 of randomness."""
    ms = np.asarray(ms, dtype=np.int64)
    if ms.size and (ms.min() < 0 or ms.max() >= 1 << 48):
        raise ValueError("ULID time out of range")
    n = ms.shape[0]
    out = np.empty((n, 26), dtype=np.uint8)
    for i in range(10):
        out[:, i] = _CROCKFORD[(ms >> (5 * (9 - i))) & 31]
    out[:, 10:] = _CROCKFORD[rng.integers(0, 32, size=(n, 16), dtype=np.uint8)]
    return out


def ulids(ms: np.ndarray, rng: np.random.Generator) -> list[str]:
    """One ULID per timestamp (ms since the epoch), its 80 random bits drawn from ``rng``."""
    return _strings(ulid_chars(ms, rng))


def ulids_bytes(ms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """ULIDs as a compact ``S26`` numpy array (26 bytes each: to keep many ids in memory)."""
    chars = ulid_chars(ms, rng)
    return chars.view("S26").reshape(chars.shape[0]) if chars.shape[0] else np.empty(0, dtype="S26")


def decode(ids: np.ndarray) -> list[str]:
    """``S26`` (or any ``S``) array -> list of str."""
    if ids.size == 0:
        return []
    return ids.astype(f"U{ids.dtype.itemsize}").tolist()


def _iso_chars(ms: np.ndarray) -> np.ndarray:
    day = ms.astype("datetime64[ms]").astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = day.astype("datetime64[Y]")
    y = year.astype(np.int64) + 1970
    mo = (month - year.astype("datetime64[M]")).astype(np.int64) + 1
    d = (day - month.astype("datetime64[D]")).astype(np.int64) + 1
    rest = ms - day.astype(np.int64) * DAY_MS
    h, mi, s, f = rest // HOUR_MS, rest // MINUTE_MS % 60, rest // 1000 % 60, rest % 1000
    out = np.empty((ms.shape[0], 29), dtype=np.uint8)
    out[:] = _ISO_TEMPLATE
    for col, value, width in ((0, y, 4), (5, mo, 2), (8, d, 2), (11, h, 2), (14, mi, 2), (17, s, 2), (20, f, 3)):
        for k in range(width):
            out[:, col + k] = value // 10 ** (width - 1 - k) % 10 + _ZERO
    return out


def datetimes(ms: np.ndarray, fmt: str = "iso8601", null: np.ndarray | None = None) -> list:
    """Stored DateTime values (``format_datetime``) of ``ms``; ``None`` where ``null`` is true."""
    ms = np.asarray(ms, dtype=np.int64)
    if ms.size and (ms.min() < 0 or ms.max() >= 253402300800000):
        raise ValueError("timestamp outside years 1970-9999")
    values = ms.tolist() if fmt == "unixepoch-ms" else _strings(_iso_chars(ms))
    if null is not None and null.any():
        for i in np.flatnonzero(null).tolist():
            values[i] = None
    return values


def months(ms: np.ndarray) -> list[str]:
    """``YYYY-MM`` (UTC) of each timestamp."""
    ms = np.asarray(ms, dtype=np.int64)
    if ms.size == 0:
        return []
    index = ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    low = int(index.min())
    names = np.arange(low, int(index.max()) + 1).astype("datetime64[M]").astype(str).astype(object)
    return names[index - low].tolist()


def base36(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as ``(n, width)`` base-36 ASCII (lower case, zero padded, modulo 36**width)."""
    values = np.asarray(values, dtype=np.int64)
    out = np.empty((values.shape[0], width), dtype=np.uint8)
    for k in range(width):
        out[:, width - 1 - k] = _BASE36[values // 36**k % 36]
    return out


def cuids(ms: np.ndarray, rng: np.random.Generator, start: int = 0, fingerprint: str = "ll5d") -> list[str]:
    """cuid v1 shaped ids: ``c`` + 8 time + 4 counter + 4 fingerprint + 8 random (25 characters)."""
    ms = np.asarray(ms, dtype=np.int64)
    n = ms.shape[0]
    out = np.empty((n, 25), dtype=np.uint8)
    out[:, 0] = ord("c")
    out[:, 1:9] = base36(ms, 8)
    out[:, 9:13] = base36(np.arange(start, start + n, dtype=np.int64), 4)
    out[:, 13:17] = np.frombuffer(fingerprint.encode("ascii"), dtype=np.uint8)
    out[:, 17:25] = _BASE36[rng.integers(0, 36, size=(n, 8))]
    return _strings(out)


def add_months(ms: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``ms`` plus ``k`` calendar months (day clamped to the month's last day, time of day kept)."""
    ms = np.asarray(ms, dtype=np.int64)
    month = ms.astype("datetime64[ms]").astype("datetime64[M]")
    start_ms = month.astype("datetime64[ms]").astype(np.int64)
    within = ms - start_ms
    day, tod = within // DAY_MS, within % DAY_MS
    target = month + np.asarray(k, dtype=np.int64)
    target_start = target.astype("datetime64[ms]").astype(np.int64)
    days_in = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target_start + np.minimum(day, days_in - 1) * DAY_MS + tod


def whole_months(anchor: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The largest ``k >= 0`` with ``add_months(anchor, k) <= at`` (billing periods elapsed)."""
    anchor = np.asarray(anchor, dtype=np.int64)
    at = np.asarray(at, dtype=np.int64)
    a = anchor.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    b = at.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    k = np.maximum(b - a, 0)
    k = np.where(add_months(anchor, k) > at, k - 1, k)
    return np.maximum(k, 0)
