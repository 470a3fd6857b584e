"""AI usage tracking (``ai.prisma``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaBoolean, PrismaEnum
from learnlab.models.base import Base, fk, idx, now_column, ulid_pk, updated_at
from learnlab.models.enums import AIUsageType

if TYPE_CHECKING:  # relationships name these as strings; SQLAlchemy resolves them at mapping time
    from learnlab.models.user import User


class AIUsage(Base):
    __tablename__ = "AIUsage"

    id: Mapped[str] = ulid_pk()
    userId: Mapped[str] = mapped_column(sa.Text, fk("User.id", "AIUsage_userId_fkey", "CASCADE"), nullable=False)
    type: Mapped[AIUsageType] = mapped_column(
        PrismaEnum(AIUsageType), nullable=False, default=AIUsageType.learning_assistant,
        server_default="learning_assistant",
    )
    model: Mapped[str | None] = mapped_column(sa.Text)
    prompt: Mapped[str] = mapped_column(sa.Text, nullable=False)
    response: Mapped[str | None] = mapped_column(sa.Text)
    tokensUsed: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default=sa.text("0"))
    costInCents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default=sa.text("0"))
    success: Mapped[bool] = mapped_column(PrismaBoolean(), nullable=False, default=True, server_default=sa.text("true"))
    errorMessage: Mapped[str | None] = mapped_column(sa.Text)
    usageMonth: Mapped[str] = mapped_column(sa.Text, nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    user: Mapped["User"] = relationship()

    __table_args__ = (
        idx("AIUsage", "userId"),
        idx("AIUsage", "usageMonth"),
        idx("AIUsage", "createdAt"),
        idx("AIUsage", "userId", "usageMonth"),
        idx("AIUsage", "updatedAt"),
    )
