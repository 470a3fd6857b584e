"""AI usage tracking: every call recorded with its tokens and cost, against the plan's monthly quota."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from learnlab.db.encoding import utcnow
from learnlab.errors import NotFound, QuotaExceeded
from learnlab.flows import validate
from learnlab.models import AIUsage, AIUsageType, Plan, User

# Successful AI calls a user may make per calendar month (UTC); None = unlimited.
MONTHLY_QUOTA: dict[Plan, int | None] = {Plan.basic: 50, Plan.premium: 1000, Plan.pro: None}


def usage_month(at: datetime) -> str:
    """``YYYY-MM`` of a moment in UTC (the seed: ``new Date().toISOString().slice(0, 7)``)."""
    return f"{at.year:04d}-{at.month:02d}"


def monthly_usage(db: Any, user_id: str, month: str | None = None) -> int:
    """How many AI calls the user made in ``month`` (default: this month), as the seed counts them."""
    month = month or usage_month(utcnow())
    with db.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(AIUsage).where(AIUsage.userId == user_id, AIUsage.usageMonth == month)
        )


def record_ai_usage(
    db: Any,
    *,
    user_id: str,
    prompt: str,
    type: AIUsageType | str = AIUsageType.learning_assistant,
    model: str | None = None,
    response: str | None = None,
    tokens_used: int = 0,
    cost_in_cents: int = 0,
    success: bool = True,
    error_message: str | None = None,
    enforce_quota: bool = True,
) -> AIUsage:
    """Record one AI call; ``QuotaExceeded`` (nothing written) when the plan's month is used up."""
    prompt = validate.text(prompt, "prompt", max_len=100_000)
    kind = validate.member(AIUsageType, type, "type")
    validate.integer(tokens_used, "tokens_used", minimum=0)
    validate.integer(cost_in_cents, "cost_in_cents", minimum=0)
    now = utcnow()
    month = usage_month(now)
    with db.transaction() as s:
        plan = s.scalar(sa.select(User.plan).where(User.id == user_id))
        if plan is None:
            raise NotFound(f"no user {user_id}")
        quota = MONTHLY_QUOTA.get(plan)
        if enforce_quota and success and quota is not None:  # failures are always logged
            used = s.scalar(
                sa.select(sa.func.count()).select_from(AIUsage).where(
                    AIUsage.userId == user_id, AIUsage.usageMonth == month, AIUsage.success == True  # noqa: E712
                )
            )
            if used >= quota:
                raise QuotaExceeded(f"user {user_id} has used all {quota} AI calls of the {plan} plan in {month}")
        usage = AIUsage(
            userId=user_id, type=kind, model=model, prompt=prompt, response=response, tokensUsed=tokens_used,
            costInCents=cost_in_cents, success=bool(success), errorMessage=error_message, usageMonth=month,
            createdAt=now, updatedAt=now,
        )
        s.add(usage)
    return usage
