"""SQLAlchemy column types that store values exactly as Prisma's libSQL adapter does.

The declared SQL types are Prisma's (``DATETIME``, ``JSONB``, ``BOOLEAN``, ``REAL``,
``BLOB``, ``TEXT``); the Python side gets aware UTC datetimes, decoded JSON and
enum members. The DateTime form written follows the engine's ``timestamp_format``
(set by ``learnlab.db.engine``), like the adapter's ``timestampFormat`` option.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator, UserDefinedType

from learnlab.db.encoding import decode_json, encode_json, format_datetime, parse_datetime
from learnlab.errors import ValidationError

TIMESTAMP_FORMAT_ATTR = "learnlab_timestamp_format"


class SQLType(UserDefinedType):
    """A column type that only declares its SQL name (``JSONB``...) and leaves values alone."""

    cache_ok = True

    def __init__(self, name: str):
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def timestamp_format_of(dialect: Any) -> str:
    return getattr(dialect, TIMESTAMP_FORMAT_ATTR, "iso8601")


class PrismaDateTime(TypeDecorator):
    """Prisma ``DateTime``: ISO text (``+00:00``, 3 fraction digits) or INTEGER ms; reads any form."""

    impl = SQLType
    cache_ok = True

    def __init__(self) -> None:
        super().__init__("DATETIME")

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValidationError("DateTime", f"expected a datetime, got {type(value).__name__} {value!r}")
        return format_datetime(value, timestamp_format_of(dialect))

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return parse_datetime(value)

    @property
    def python_type(self) -> type:
        return datetime


class PrismaJson(TypeDecorator):
    """Prisma ``Json`` (declared ``JSONB``): compact text, numbers as numbers, ``JSON_NULL`` as ``null``."""

    impl = SQLType
    cache_ok = True

    def __init__(self) -> None:
        super().__init__("JSONB")

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        try:
            return encode_json(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError("Json", f"not JSON-serialisable: {exc}") from None

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return decode_json(value)


class PrismaEnum(TypeDecorator):
    """A Prisma enum: stored as its name in a ``TEXT`` column (Prisma adds no CHECK)."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, enum_class: type[enum.Enum]):
        super().__init__()
        self.enum_class = enum_class
        self._names = {m.value for m in enum_class}

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        name = value.value if isinstance(value, enum.Enum) else value
        if name not in self._names:
            raise ValidationError(
                self.enum_class.__name__,
                f"{value!r} is not one of {', '.join(sorted(self._names))}",
            )
        return name

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        try:
            return self.enum_class(value)
        except ValueError:
            # A value another writer left that this schema version does not know: keep it visible.
            return value


class PrismaBoolean(TypeDecorator):
    """Prisma ``Boolean``: declared ``BOOLEAN``, stored 1/0; also reads ``'true'``/``'false'`` text."""

    impl = SQLType
    cache_ok = True

    def __init__(self) -> None:
        super().__init__("BOOLEAN")

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise ValidationError("Boolean", f"expected True or False, got {value!r}")
        return 1 if value else 0

    def process_result_value(self, value: Any, dialect: Any) -> bool | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true")
        return bool(value)


class PrismaBytes(TypeDecorator):
    """Prisma ``Bytes``: a ``BLOB`` (empty is ``x''``, not NULL); every driver gets plain ``bytes``."""

    impl = SQLType
    cache_ok = True

    def __init__(self) -> None:
        super().__init__("BLOB")

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise ValidationError("Bytes", f"expected bytes, got {type(value).__name__}")
        return bytes(value)

    def process_result_value(self, value: Any, dialect: Any) -> bytes | None:
        return None if value is None else bytes(value)
