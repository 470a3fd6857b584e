"""Declarative base and the column helpers every model shares.

Prisma sends ids and timestamps from the client, one timestamp per write: on create,
``createdAt``, ``updatedAt`` and the ULID's time are equal. learnlab does the same:
each statement takes one timestamp (cached on SQLAlchemy's execution context), so an
``executemany`` batch or an ORM flush shares it, and ``updatedAt`` is refreshed on every
UPDATE learnlab runs, ORM or bulk ``update()`` alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, mapped_column

from learnlab.db.encoding import new_cuid, new_ulid, utcnow
from learnlab.db.types import PrismaDateTime


class Base(DeclarativeBase):
    """Base of the 21 models; ``Base.metadata`` is the whole schema."""


def write_time(context: Any = None) -> datetime:
    """The timestamp of the statement being executed (one per statement, as Prisma does)."""
    if context is None:
        return utcnow()
    now = getattr(context, "_learnlab_now", None)
    if now is None:
        now = utcnow()
        context._learnlab_now = now
    return now


def _now_default(context: Any) -> datetime:
    # One required argument: SQLAlchemy passes the execution context only to such callables.
    return write_time(context)


def _ulid_default(context: Any) -> str:
    return new_ulid(write_time(context))


def _cuid_default(context: Any) -> str:
    return new_cuid()


def ulid_pk() -> Any:
    """``String @id @default(ulid())``."""
    return mapped_column("id", sa.Text, primary_key=True, default=_ulid_default)


def cuid_pk() -> Any:
    """``String @id @default(cuid())``."""
    return mapped_column("id", sa.Text, primary_key=True, default=_cuid_default)


def now_column(name: str) -> Any:
    """``DateTime @default(now())``: client-side now, ``DEFAULT CURRENT_TIMESTAMP`` in SQL."""
    return mapped_column(
        name, PrismaDateTime(), nullable=False, default=_now_default, server_default=sa.text("CURRENT_TIMESTAMP")
    )


def updated_at() -> Any:
    """``DateTime @updatedAt``: set on insert and on every update; no SQL default (as Prisma)."""
    return mapped_column(
        "updatedAt", PrismaDateTime(), nullable=False, default=_now_default, onupdate=_now_default
    )


def fk(target: str, name: str, ondelete: str) -> sa.ForeignKey:
    """A foreign key as Prisma names and declares it (``ON UPDATE CASCADE`` always)."""
    return sa.ForeignKey(target, name=name, ondelete=ondelete, onupdate="CASCADE")


def idx(table: str, *columns: str) -> sa.Index:
    """``@@index``: ``{Model}_{cols}_idx``."""
    return sa.Index(f"{table}_{'_'.join(columns)}_idx", *columns)


def unique(table: str, *columns: str) -> sa.Index:
    """``@unique`` / ``@@unique``: a unique index ``{Model}_{cols}_key`` (Prisma makes no UNIQUE constraint)."""
    return sa.Index(f"{table}_{'_'.join(columns)}_key", *columns, unique=True)
