"""The platform's schema as SQLAlchemy models, one module per seed module.

``Base.metadata`` holds all 21 tables exactly as Prisma Migrate creates them from the
reference schema (``prisma/*.prisma``); a test holds the two together.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from learnlab.errors import ValidationError
from learnlab.models.ai import AIUsage
from learnlab.models.base import Base
from learnlab.models.challenge import Badge, Challenge, LeaderboardEntry, UserChallenge, UserChallengeBadge
from learnlab.models.content import Image
from learnlab.models.enums import (
    AIUsageType,
    ChallengeDifficulty,
    ChunkType,
    ImagePath,
    Plan,
    SubscriptionStatus,
    SubscriptionType,
    TeamRole,
)
from learnlab.models.monitoring import QueryStat, SlowQuery
from learnlab.models.rag import Document, DocumentChunk, RagQuery, RagQueryResult
from learnlab.models.subscription import Subscription
from learnlab.models.team import Team, TeamCertificate, TeamMember, TeamSettings
from learnlab.models.user import Password, Session, User

MODELS = (
    User, Session, Password, Image, Document, DocumentChunk, RagQuery, RagQueryResult, AIUsage,
    Subscription, Team, TeamMember, TeamCertificate, TeamSettings, Challenge, UserChallenge,
    LeaderboardEntry, Badge, UserChallengeBadge, QueryStat, SlowQuery,
)
metadata = Base.metadata


def check_one_owner(model: str, user_id: str | None, team_id: str | None) -> None:
    """``Image`` and ``Subscription`` belong to exactly one owner: a user or a team."""
    if (user_id is None) == (team_id is None):
        which = "both are set" if user_id is not None else "neither is set"
        raise ValidationError(f"{model}.userId/teamId", f"exactly one owner (a user or a team) is required; {which}")


def _owner_guard(model_class: type) -> None:
    @event.listens_for(model_class, "before_insert")
    @event.listens_for(model_class, "before_update")
    def _check(mapper, connection, target) -> None:  # noqa: ARG001
        check_one_owner(model_class.__name__, target.userId, target.teamId)


_owner_guard(Image)
_owner_guard(Subscription)


@event.listens_for(sa.engine.Engine, "before_execute", retval=True)
def _owner_guard_core(conn, clause, multiparams, params, execution_options):
    """Core ``insert()`` into Image or Subscription (bulk included) obeys the one-owner rule too."""
    if isinstance(clause, sa.sql.Insert) and clause.table.name in ("Image", "Subscription"):
        rows = multiparams or [params]
        rows = rows[0] if len(rows) == 1 and isinstance(rows[0], list) else rows
        for row in rows:
            if isinstance(row, dict):
                check_one_owner(clause.table.name, row.get("userId"), row.get("teamId"))
    return clause, multiparams, params

__all__ = [m.__name__ for m in MODELS] + [
    "Base", "metadata", "MODELS", "check_one_owner", "AIUsageType", "ChallengeDifficulty", "ChunkType",
    "ImagePath", "Plan", "SubscriptionStatus", "SubscriptionType", "TeamRole",
]
