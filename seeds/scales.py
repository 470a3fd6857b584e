"""How big a generated platform is: named scales, and the option checks shared by the CLI and the library."""

from __future__ import annotations

from datetime import date, datetime, timezone

from learnlab.errors import ValidationError

SCALES: dict[str, int] = {
    "small": 1_000,  # tests and ./dev start
    "medium": 50_000,
    "large": 1_000_000,  # ~20M AIUsage rows
}
DEFAULT_SCALE = "small"
DEFAULT_SEED = 42
DEFAULT_UNTIL = datetime(2026, 11, 1, tzinfo=timezone.utc)
HISTORY_DAYS = 3 * 365 + 1  # the timeline: three years ending at ``until``
PRELAUNCH_DAYS = 45  # content is written before the first user signs up

AI_USAGE_PER_USER = 20.0  # average AIUsage rows per user, at every scale
MAX_USERS = 50_000_000


def resolve_users(users: int | None, scale: str | None) -> int:
    """The number of users from ``--users`` or ``--scale`` (default ``small``); errors name the option."""
    if users is not None and scale is not None:
        raise ValidationError("--users/--scale", f"give one of them, not both (got --users {users} --scale {scale})")
    if users is not None:
        if isinstance(users, bool) or not isinstance(users, int):
            raise ValidationError("--users", f"expected a whole number of users, got {users!r}")
        if not 1 <= users <= MAX_USERS:
            raise ValidationError("--users", f"must be between 1 and {MAX_USERS:,}, got {users}")
        return users
    name = DEFAULT_SCALE if scale is None else str(scale).strip().lower()
    if name not in SCALES:
        raise ValidationError("--scale", f"{scale!r} is not one of {', '.join(SCALES)}")
    return SCALES[name]


def resolve_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError("--seed", f"expected a whole number >= 0, got {seed!r}")
    return seed


def resolve_until(until: datetime | date | str | None) -> datetime:
    """``--until``: the end of the generated timeline (UTC, whole milliseconds); default 2026-11-01."""
    if until is None:
        return DEFAULT_UNTIL
    value = until
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("--until", f"{until!r} is not a date such as 2026-11-01") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    if not datetime(2000, 1, 1, tzinfo=timezone.utc) <= value <= datetime(2200, 1, 1, tzinfo=timezone.utc):
        raise ValidationError("--until", f"{until!r} is outside 2000-2200")
    return value
