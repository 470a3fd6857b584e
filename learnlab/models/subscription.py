"""Subscription management (``subscription.prisma``): exactly one of userId / teamId pays."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaDateTime, PrismaEnum
from learnlab.models.base import Base, fk, idx, now_column, ulid_pk, unique, updated_at
from learnlab.models.enums import Plan, SubscriptionStatus, SubscriptionType

if TYPE_CHECKING:  # relationships name these as strings; SQLAlchemy resolves them at mapping time
    from learnlab.models.team import Team
    from learnlab.models.user import User


class Subscription(Base):
    __tablename__ = "Subscription"

    id: Mapped[str] = ulid_pk()
    subscriptionId: Mapped[str] = mapped_column(sa.Text, nullable=False)
    userId: Mapped[str | None] = mapped_column(sa.Text, fk("User.id", "Subscription_userId_fkey", "SET NULL"))
    teamId: Mapped[str | None] = mapped_column(sa.Text, fk("Team.id", "Subscription_teamId_fkey", "SET NULL"))
    status: Mapped[SubscriptionStatus] = mapped_column(PrismaEnum(SubscriptionStatus), nullable=False)
    type: Mapped[SubscriptionType] = mapped_column(PrismaEnum(SubscriptionType), nullable=False)
    plan: Mapped[Plan] = mapped_column(PrismaEnum(Plan), nullable=False)
    amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.Text, nullable=False, default="USD", server_default="USD")
    currentPeriodStart: Mapped[datetime | None] = mapped_column(PrismaDateTime())
    currentPeriodEnd: Mapped[datetime | None] = mapped_column(PrismaDateTime())
    canceledAt: Mapped[datetime | None] = mapped_column(PrismaDateTime())
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    user: Mapped["User | None"] = relationship()
    team: Mapped["Team | None"] = relationship()

    __table_args__ = (
        unique("Subscription", "subscriptionId"),
        idx("Subscription", "userId"),
        idx("Subscription", "teamId"),
        idx("Subscription", "status"),
        idx("Subscription", "updatedAt"),
    )
