"""Input checks shared by the flows: each failure names the field and the problem."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import TypeVar

from learnlab.errors import ValidationError

E = TypeVar("E", bound=Enum)

# Deliberately plain: one @, a dot in the domain, no spaces (the app verifies by sending mail).
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")


def email(value: object, field: str = "email") -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()) or len(value) > 254:
        raise ValidationError(field, f"{value!r} is not an email address")
    return value.strip().lower()


def username(value: object, field: str = "username") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _USERNAME.match(value):
        raise ValidationError(field, f"{value!r} must be 3-32 letters, digits, '_', '.' or '-'")
    return value


def text(value: object, field: str, *, max_len: int = 10_000, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "a non-empty text is required")
    if len(value) > max_len:
        raise ValidationError(field, f"at most {max_len} characters, got {len(value)}")
    return value


def integer(value: object, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"expected a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValidationError(field, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValidationError(field, f"must be at most {maximum}, got {value}")
    return value


def member(enum_class: type[E], value: object, field: str) -> E:
    try:
        return enum_class(value.value if isinstance(value, Enum) else value)
    except ValueError:
        names = ", ".join(m.value for m in enum_class)
        raise ValidationError(field, f"{value!r} is not one of {names}") from None


def moment(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError(field, f"expected a datetime, got {value!r}")
    return value
