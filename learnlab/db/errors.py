"""Turn the drivers' integrity errors into ``ConstraintError`` messages a person can act on.

sqlite3, pyturso and libsql word them alike (``UNIQUE constraint failed: User.email``,
``FOREIGN KEY constraint failed``, ``NOT NULL constraint failed: User.email``).
"""

from __future__ import annotations

import re
from typing import Any

from learnlab.errors import ConstraintError

_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w\".]+(?:, [\w\".]+)*)", re.I)
_NOT_NULL = re.compile(r"NOT NULL constraint failed: ([\w\".]+)", re.I)


def _proper_case(fields: str) -> str:
    """pyturso lower-cases names (``user.email``): give them back the schema's spelling."""
    from learnlab.models import metadata

    names = {f"{t.name}.{c.name}".lower(): f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns}
    return ", ".join(names.get(f.strip().lower(), f.strip()) for f in fields.split(","))


def constraint_error(exc: BaseException) -> ConstraintError | None:
    """A ``ConstraintError`` for a driver's integrity error, or ``None`` if it is not one."""
    text = str(getattr(exc, "orig", None) or exc)
    if m := _UNIQUE.search(text):
        fields = _proper_case(m.group(1).replace('"', ""))
        return ConstraintError(f"{fields}: a row with this value already exists (unique constraint)")
    if m := _NOT_NULL.search(text):
        return ConstraintError(f"{_proper_case(m.group(1))}: a value is required (NOT NULL)")
    if "FOREIGN KEY constraint failed" in text:
        return ConstraintError(
            "foreign key constraint failed: a referenced row does not exist (or is still referenced)"
        )
    if "constraint" in text.lower() and "failed" in text.lower():
        return ConstraintError(text)
    return None


def install(engine: Any) -> None:
    """Raise ``ConstraintError`` (chained to the driver's error) for every integrity failure."""
    from sqlalchemy import event

    @event.listens_for(engine, "handle_error")
    def _translate(context: Any) -> Any:
        from learnlab.errors import LearnlabError

        if isinstance(context.original_exception, LearnlabError):
            return context.original_exception  # a bad value caught while binding: no SQL wrapper
        err = constraint_error(context.original_exception)
        if err is not None:
            return err
        return None
