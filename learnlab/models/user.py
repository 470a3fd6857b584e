"""User management (the seed's ``schema.prisma``): User, Session, Password."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaBoolean, PrismaDateTime, PrismaEnum
from learnlab.models.base import Base, fk, idx, now_column, ulid_pk, unique, updated_at
from learnlab.models.enums import Plan, SubscriptionType


class User(Base):
    __tablename__ = "User"

    id: Mapped[str] = ulid_pk()
    email: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name: Mapped[str | None] = mapped_column(sa.Text)
    username: Mapped[str | None] = mapped_column(sa.Text)
    imageUrl: Mapped[str | None] = mapped_column(sa.Text)
    isSubscribed: Mapped[bool] = mapped_column(
        PrismaBoolean(), nullable=False, default=False, server_default=sa.text("false")
    )
    plan: Mapped[Plan] = mapped_column(PrismaEnum(Plan), nullable=False, default=Plan.basic, server_default="basic")
    subscriptionType: Mapped[SubscriptionType] = mapped_column(
        PrismaEnum(SubscriptionType), nullable=False, default=SubscriptionType.individual, server_default="individual"
    )
    lastSeenAt: Mapped[datetime] = now_column("lastSeenAt")
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    password: Mapped["Password | None"] = relationship(back_populates="user", passive_deletes=True)
    sessions: Mapped[list["Session"]] = relationship(back_populates="user", passive_deletes=True)

    __table_args__ = (
        unique("User", "email"),
        unique("User", "username"),
        idx("User", "updatedAt"),
    )


class Session(Base):
    __tablename__ = "Session"

    id: Mapped[str] = ulid_pk()
    expirationDate: Mapped[datetime] = mapped_column(PrismaDateTime(), nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "Session_userId_fkey", "CASCADE"), nullable=False)

    user: Mapped[User] = relationship(back_populates="sessions")

    __table_args__ = (
        idx("Session", "userId"),
        idx("Session", "expirationDate"),
    )


class Password(Base):
    """Prisma gives ``Password`` no primary key, only a unique index on ``userId``."""

    __table__ = sa.Table(
        "Password",
        Base.metadata,
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("userId", sa.Text, fk("User.id", "Password_userId_fkey", "CASCADE"), nullable=False),
        unique("Password", "userId"),
    )
    __mapper_args__ = {"primary_key": [__table__.c.userId]}

    hash: Mapped[str]
    userId: Mapped[str]
    user: Mapped[User] = relationship(back_populates="password")
