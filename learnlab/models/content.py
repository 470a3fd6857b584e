"""Content management (``content.prisma``): Image, owned by exactly one user or team."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaEnum
from learnlab.models.base import Base, cuid_pk, fk, now_column, unique, updated_at
from learnlab.models.enums import ImagePath

if TYPE_CHECKING:  # relationships name these as strings; SQLAlchemy resolves them at mapping time
    from learnlab.models.team import Team
    from learnlab.models.user import User


class Image(Base):
    __tablename__ = "Image"

    id: Mapped[str] = cuid_pk()
    fileKey: Mapped[str] = mapped_column(sa.Text, nullable=False)
    filePath: Mapped[ImagePath] = mapped_column(
        PrismaEnum(ImagePath), nullable=False, default=ImagePath.users, server_default="users"
    )
    altText: Mapped[str | None] = mapped_column(sa.Text)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()
    userId: Mapped[str | None] = mapped_column(sa.Text, fk("User.id", "Image_userId_fkey", "CASCADE"))
    teamId: Mapped[str | None] = mapped_column(sa.Text, fk("Team.id", "Image_teamId_fkey", "CASCADE"))

    user: Mapped["User | None"] = relationship()
    team: Mapped["Team | None"] = relationship()

    __table_args__ = (
        unique("Image", "userId"),
        unique("Image", "teamId"),
    )
