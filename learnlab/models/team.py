"""Team management (``team.prisma``): teams, members, certificates, settings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaBoolean, PrismaDateTime, PrismaEnum
from learnlab.models.base import Base, fk, idx, now_column, ulid_pk, unique, updated_at
from learnlab.models.enums import TeamRole

if TYPE_CHECKING:  # relationships name these as strings; SQLAlchemy resolves them at mapping time
    from learnlab.models.challenge import Challenge
    from learnlab.models.user import User


class Team(Base):
    __tablename__ = "Team"

    id: Mapped[str] = ulid_pk()
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    members: Mapped[list["TeamMember"]] = relationship(back_populates="team", passive_deletes=True)
    settings: Mapped["TeamSettings | None"] = relationship(back_populates="team", passive_deletes=True)

    __table_args__ = (idx("Team", "updatedAt"),)


class TeamMember(Base):
    __tablename__ = "TeamMember"

    id: Mapped[str] = ulid_pk()
    role: Mapped[TeamRole] = mapped_column(
        PrismaEnum(TeamRole), nullable=False, default=TeamRole.member, server_default="member"
    )
    joinedAt: Mapped[datetime] = now_column("joinedAt")
    updatedAt: Mapped[datetime] = updated_at()
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "TeamMember_userId_fkey", "CASCADE"), nullable=False)
    teamId: Mapped[str] = mapped_column(sa.Text, fk("Team.id", "TeamMember_teamId_fkey", "CASCADE"), nullable=False)

    team: Mapped[Team] = relationship(back_populates="members")

    user: Mapped["User"] = relationship()

    __table_args__ = (
        unique("TeamMember", "userId", "teamId"),
        idx("TeamMember", "userId"),
        idx("TeamMember", "teamId"),
        idx("TeamMember", "updatedAt"),
    )


class TeamCertificate(Base):
    """A certificate a team issues to one of its members; ``code`` lets anyone verify it."""

    __tablename__ = "TeamCertificate"

    id: Mapped[str] = ulid_pk()
    teamId: Mapped[str] = mapped_column(sa.Text, fk("Team.id", "TeamCertificate_teamId_fkey", "CASCADE"), nullable=False)
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "TeamCertificate_userId_fkey", "CASCADE"), nullable=False)
    challengeId: Mapped[str | None] = mapped_column(
        sa.Text, fk("Challenge.id", "TeamCertificate_challengeId_fkey", "SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.Text, nullable=False)
    code: Mapped[str] = mapped_column(sa.Text, nullable=False)
    issuedAt: Mapped[datetime] = now_column("issuedAt")
    expiresAt: Mapped[datetime | None] = mapped_column(PrismaDateTime())
    revokedAt: Mapped[datetime | None] = mapped_column(PrismaDateTime())
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    team: Mapped[Team] = relationship()
    user: Mapped["User"] = relationship()
    challenge: Mapped["Challenge | None"] = relationship()

    __table_args__ = (
        unique("TeamCertificate", "code"),
        idx("TeamCertificate", "teamId"),
        idx("TeamCertificate", "userId"),
        idx("TeamCertificate", "updatedAt"),
    )


class TeamSettings(Base):
    __tablename__ = "TeamSettings"

    id: Mapped[str] = ulid_pk()
    teamId: Mapped[str] = mapped_column(sa.Text, fk("Team.id", "TeamSettings_teamId_fkey", "CASCADE"), nullable=False)
    maxMembers: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=25, server_default=sa.text("25"))
    allowMemberInvites: Mapped[bool] = mapped_column(
        PrismaBoolean(), nullable=False, default=False, server_default=sa.text("false")
    )
    defaultRole: Mapped[TeamRole] = mapped_column(
        PrismaEnum(TeamRole), nullable=False, default=TeamRole.member, server_default="member"
    )
    aiMonthlyBudgetCents: Mapped[int | None] = mapped_column(sa.Integer)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    team: Mapped[Team] = relationship(back_populates="settings")

    __table_args__ = (unique("TeamSettings", "teamId"),)
