"""Challenge system (``challenge.prisma``): challenges, participation, leaderboards, badges."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaBoolean, PrismaDateTime, PrismaEnum
from learnlab.models.base import Base, fk, idx, now_column, ulid_pk, unique, updated_at
from learnlab.models.enums import ChallengeDifficulty

if TYPE_CHECKING:  # relationships name these as strings; SQLAlchemy resolves them at mapping time
    from learnlab.models.user import User


class Challenge(Base):
    __tablename__ = "Challenge"

    id: Mapped[str] = ulid_pk()
    title: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    difficulty: Mapped[ChallengeDifficulty] = mapped_column(PrismaEnum(ChallengeDifficulty), nullable=False)
    startDate: Mapped[datetime] = mapped_column(PrismaDateTime(), nullable=False)
    endDate: Mapped[datetime] = mapped_column(PrismaDateTime(), nullable=False)
    isActive: Mapped[bool] = mapped_column(PrismaBoolean(), nullable=False, default=True, server_default=sa.text("true"))
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    __table_args__ = (
        idx("Challenge", "isActive", "startDate"),
        idx("Challenge", "updatedAt"),
    )


class UserChallenge(Base):
    __tablename__ = "UserChallenge"

    id: Mapped[str] = ulid_pk()
    score: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default=sa.text("0"))
    completedAt: Mapped[datetime | None] = mapped_column(PrismaDateTime())
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "UserChallenge_userId_fkey", "CASCADE"), nullable=False)
    challengeId: Mapped[str] = mapped_column(
        sa.Text, fk("Challenge.id", "UserChallenge_challengeId_fkey", "CASCADE"), nullable=False
    )

    user: Mapped["User"] = relationship()
    challenge: Mapped[Challenge] = relationship()

    __table_args__ = (
        unique("UserChallenge", "userId", "challengeId"),
        idx("UserChallenge", "userId"),
        idx("UserChallenge", "challengeId"),
        idx("UserChallenge", "updatedAt"),
    )


class LeaderboardEntry(Base):
    """Rank of a participant in a challenge; ties share a rank (1, 2, 2, 4)."""

    __tablename__ = "LeaderboardEntry"

    id: Mapped[str] = ulid_pk()
    challengeId: Mapped[str] = mapped_column(
        sa.Text, fk("Challenge.id", "LeaderboardEntry_challengeId_fkey", "CASCADE"), nullable=False
    )
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "LeaderboardEntry_userId_fkey", "CASCADE"), nullable=False)
    score: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    rank: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    challenge: Mapped[Challenge] = relationship()
    user: Mapped["User"] = relationship()

    __table_args__ = (
        unique("LeaderboardEntry", "challengeId", "userId"),
        idx("LeaderboardEntry", "challengeId", "rank"),
        idx("LeaderboardEntry", "userId"),
        idx("LeaderboardEntry", "updatedAt"),
    )


class Badge(Base):
    """Earned by reaching ``minScore`` in its challenge, or (no challenge) awarded by hand."""

    __tablename__ = "Badge"

    id: Mapped[str] = ulid_pk()
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    imageUrl: Mapped[str | None] = mapped_column(sa.Text)
    minScore: Mapped[int | None] = mapped_column(sa.Integer)
    challengeId: Mapped[str | None] = mapped_column(sa.Text, fk("Challenge.id", "Badge_challengeId_fkey", "CASCADE"))
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    challenge: Mapped[Challenge | None] = relationship()

    __table_args__ = (
        unique("Badge", "challengeId", "name"),
        idx("Badge", "updatedAt"),
    )


class UserChallengeBadge(Base):
    __tablename__ = "UserChallengeBadge"

    id: Mapped[str] = ulid_pk()
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "UserChallengeBadge_userId_fkey", "CASCADE"), nullable=False)
    badgeId: Mapped[str] = mapped_column(sa.Text, fk("Badge.id", "UserChallengeBadge_badgeId_fkey", "CASCADE"), nullable=False)
    awardedAt: Mapped[datetime] = now_column("awardedAt")
    updatedAt: Mapped[datetime] = updated_at()

    user: Mapped["User"] = relationship()
    badge: Mapped[Badge] = relationship()

    __table_args__ = (
        unique("UserChallengeBadge", "userId", "badgeId"),
        idx("UserChallengeBadge", "badgeId"),
        idx("UserChallengeBadge", "updatedAt"),
    )
