"""Query monitoring (``monitoring.prisma``): per-statement aggregates per bucket, slow samples."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from learnlab.db.types import PrismaDateTime
from learnlab.models.base import Base, idx, now_column, ulid_pk, unique, updated_at


class QueryStat(Base):
    __tablename__ = "QueryStat"

    id: Mapped[str] = ulid_pk()
    fingerprint: Mapped[str] = mapped_column(sa.Text, nullable=False)
    statement: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str] = mapped_column(sa.Text, nullable=False)
    bucketStart: Mapped[datetime] = mapped_column(PrismaDateTime(), nullable=False)
    calls: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    totalMs: Mapped[float] = mapped_column(sa.REAL, nullable=False)
    maxMs: Mapped[float] = mapped_column(sa.REAL, nullable=False)
    p95Ms: Mapped[float] = mapped_column(sa.REAL, nullable=False)
    rows: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default=sa.text("0"))
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    __table_args__ = (
        unique("QueryStat", "fingerprint", "source", "bucketStart"),
        idx("QueryStat", "bucketStart"),
        idx("QueryStat", "updatedAt"),
    )


class SlowQuery(Base):
    __tablename__ = "SlowQuery"

    id: Mapped[str] = ulid_pk()
    fingerprint: Mapped[str] = mapped_column(sa.Text, nullable=False)
    statement: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str] = mapped_column(sa.Text, nullable=False)
    durationMs: Mapped[float] = mapped_column(sa.REAL, nullable=False)
    plan: Mapped[str | None] = mapped_column(sa.Text)
    occurredAt: Mapped[datetime] = mapped_column(PrismaDateTime(), nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    __table_args__ = (
        idx("SlowQuery", "fingerprint"),
        idx("SlowQuery", "occurredAt"),
        idx("SlowQuery", "updatedAt"),
    )
