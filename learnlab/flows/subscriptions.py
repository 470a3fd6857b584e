"""Subscription flows: the payer's plan follows its subscriptions, in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from learnlab.db.encoding import utcnow
from learnlab.errors import NotFound, ValidationError
from learnlab.flows import validate
from learnlab.models import Plan, Subscription, SubscriptionStatus, SubscriptionType, Team, TeamMember, User, check_one_owner

# Monthly prices in cents (the seed: premium is $9.00).
PLAN_PRICES = {Plan.basic: 0, Plan.premium: 900, Plan.pro: 1900}
LIVE_STATUSES = (SubscriptionStatus.trialing, SubscriptionStatus.active, SubscriptionStatus.past_due)
PERIOD = timedelta(days=30)


def _apply_plan(s: Any, sub: Subscription) -> None:
    """The payer's users get the plan while the subscription is live, and lose it when it ends."""
    live = sub.status in LIVE_STATUSES
    values = {"isSubscribed": live, "plan": sub.plan if live else Plan.basic}
    if sub.userId is not None:
        s.execute(sa.update(User).where(User.id == sub.userId).values(**values, subscriptionType=sub.type))
    else:
        members = sa.select(TeamMember.userId).where(TeamMember.teamId == sub.teamId)
        s.execute(sa.update(User).where(User.id.in_(members)).values(**values, subscriptionType=SubscriptionType.team))


def create_subscription(
    db: Any,
    *,
    subscription_id: str,
    plan: Plan | str,
    user_id: str | None = None,
    team_id: str | None = None,
    status: SubscriptionStatus | str = SubscriptionStatus.active,
    amount: int | None = None,
    currency: str = "USD",
    now: datetime | None = None,
) -> Subscription:
    """Create a subscription for a user or a team and update the payer's plan (one transaction)."""
    subscription_id = validate.text(subscription_id, "subscription_id", max_len=200)
    plan = validate.member(Plan, plan, "plan")
    status = validate.member(SubscriptionStatus, status, "status")
    check_one_owner("Subscription", user_id, team_id)
    amount = PLAN_PRICES[plan] if amount is None else validate.integer(amount, "amount", minimum=0)
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ValidationError("currency", f"{currency!r} is not a 3-letter currency code")
    now = now or utcnow()
    with db.transaction() as s:
        owner = s.get(User, user_id) if user_id else s.get(Team, team_id)
        if owner is None:
            raise NotFound(f"no {'user' if user_id else 'team'} {user_id or team_id}")
        sub = Subscription(
            subscriptionId=subscription_id, userId=user_id, teamId=team_id, status=status,
            type=SubscriptionType.individual if user_id else SubscriptionType.team, plan=plan, amount=amount,
            currency=currency.upper(), currentPeriodStart=now, currentPeriodEnd=now + PERIOD,
            createdAt=now, updatedAt=now,
        )
        s.add(sub)
        s.flush()
        _apply_plan(s, sub)
    return sub


def renew_subscription(db: Any, subscription_id: str) -> Subscription:
    """Start the next monthly period of a live subscription."""
    with db.transaction() as s:
        sub = _find(s, subscription_id)
        if sub.status not in LIVE_STATUSES:
            raise ValidationError("status", f"a {sub.status} subscription cannot be renewed")
        start = sub.currentPeriodEnd or utcnow()
        sub.currentPeriodStart, sub.currentPeriodEnd = start, start + PERIOD
        sub.status = SubscriptionStatus.active
    return sub


def cancel_subscription(db: Any, subscription_id: str, at: datetime | None = None) -> Subscription:
    """Cancel now: the payer drops to the basic plan unless another live subscription covers them."""
    at = at or utcnow()
    with db.transaction() as s:
        sub = _find(s, subscription_id)
        sub.status, sub.canceledAt = SubscriptionStatus.canceled, at
        s.flush()
        _apply_plan(s, sub)
        # Another live subscription of the same payer keeps its plan.
        other = s.scalars(
            sa.select(Subscription).where(
                Subscription.id != sub.id,
                Subscription.status.in_(LIVE_STATUSES),
                (Subscription.userId == sub.userId) if sub.userId else (Subscription.teamId == sub.teamId),
            ).order_by(Subscription.createdAt.desc())
        ).first()
        if other is not None:
            _apply_plan(s, other)
    return sub


def _find(s: Any, subscription_id: str) -> Subscription:
    sub = s.scalars(sa.select(Subscription).where(Subscription.subscriptionId == subscription_id)).one_or_none()
    if sub is None:
        raise NotFound(f"no subscription {subscription_id}")
    return sub
