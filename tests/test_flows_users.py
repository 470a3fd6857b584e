"""The seed's user, subscription and AI-usage flows: one transaction each, validated, secure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.errors import AccessDenied, ConstraintError, NotFound, QuotaExceeded, ValidationError
from learnlab.flows import ai_usage, subscriptions, users


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_registration_creates_user_session_image_and_password_together(db):
    reg = users.register_user(db, email="Ada@Example.com", name="Ada", username="ada",
                              image_url="https://cdn/ada.png", image_key="users/ada.png", password="correct horse")
    assert reg.user.email == "ada@example.com"
    assert reg.session.expirationDate == reg.user.createdAt + timedelta(days=30)
    assert reg.image.userId == reg.user.id and reg.image.teamId is None and len(reg.image.id) == 25
    with db.session() as s:
        stored = s.get(m.Password, reg.user.id).hash
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert users.active_session_count(db, reg.user.id) == 1


def test_registration_is_all_or_nothing(db):
    users.register_user(db, email="ada@example.com")
    with pytest.raises(ConstraintError, match="User.email"):
        users.register_user(db, email="ada@example.com", image_url="u", image_key="k", password="long enough")
    assert (count(db, m.User), count(db, m.Session), count(db, m.Image), count(db, m.Password)) == (1, 1, 0, 0)


@pytest.mark.parametrize("kwargs, field", [
    ({"email": "not-an-email"}, "email"), ({"email": "a@b.co", "username": "x"}, "username"),
    ({"email": "a@b.co", "password": "short"}, "password"), ({"email": "a@b.co", "image_url": "u"}, "image_key"),
    ({"email": "a@b.co", "session_days": 0}, "session_days"),
])
def test_registration_rejects_bad_input_naming_the_field(db, kwargs, field):
    with pytest.raises(ValidationError) as err:
        users.register_user(db, **kwargs)
    assert err.value.field == field
    assert count(db, m.User) == 0


def test_login_checks_the_password_and_opens_a_session(db):
    reg = users.register_user(db, email="ada@example.com", password="correct horse")
    session = users.login(db, "ada@example.com", "correct horse")
    assert session.userId == reg.user.id
    for email, password in (("ada@example.com", "wrong pass"), ("bob@example.com", "correct horse")):
        with pytest.raises(AccessDenied, match="wrong email or password"):
            users.login(db, email, password)
    assert users.active_session_count(db, reg.user.id) == 2


def test_access_control_and_anonymisation(db):
    ada = users.register_user(db, email="ada@example.com", name="Ada", image_url="u", image_key="k",
                              password="correct horse").user
    bob = users.register_user(db, email="bob@example.com").user
    assert users.get_user_data(db, ada.id, ada.id).email == "ada@example.com"
    assert users.get_user_data(db, ada.id, bob.id, is_admin=True).id == ada.id
    with pytest.raises(AccessDenied):
        users.get_user_data(db, ada.id, bob.id)
    with pytest.raises(NotFound):
        users.get_user_data(db, "nope", "nope")
    gone = users.anonymize_user(db, ada.id)
    assert (gone.email, gone.name, gone.imageUrl) == (f"user_{ada.id}@deleted.com", "Deleted User", None)
    assert users.active_session_count(db, ada.id) == 0 and count(db, m.Password) == 0 and count(db, m.Image) == 0


def test_expired_sessions_are_removed(db):
    reg = users.register_user(db, email="ada@example.com")
    assert users.delete_expired_sessions(db, now=reg.session.expirationDate - timedelta(seconds=1)) == 0
    assert users.delete_expired_sessions(db, now=reg.session.expirationDate) == 1


def test_subscription_lifecycle_keeps_the_users_plan_in_step(db):
    ada = users.register_user(db, email="ada@example.com").user
    sub = subscriptions.create_subscription(db, subscription_id="polar_1", user_id=ada.id, plan="premium")
    assert (sub.amount, sub.currentPeriodEnd - sub.currentPeriodStart) == (900, timedelta(days=30))
    with db.session() as s:
        assert (s.get(m.User, ada.id).plan, s.get(m.User, ada.id).isSubscribed) == (m.Plan.premium, True)
    renewed = subscriptions.renew_subscription(db, "polar_1")
    assert renewed.currentPeriodStart == sub.currentPeriodEnd
    subscriptions.cancel_subscription(db, "polar_1")
    with db.session() as s:
        user = s.get(m.User, ada.id)
        assert (user.plan, user.isSubscribed) == (m.Plan.basic, False)
        assert s.scalars(sa.select(m.Subscription.canceledAt)).one() is not None
    with pytest.raises(ValidationError, match="cannot be renewed"):
        subscriptions.renew_subscription(db, "polar_1")


def test_team_subscription_covers_its_members(db):
    ada = users.register_user(db, email="ada@example.com").user
    with db.transaction() as s:
        team = m.Team(name="T")
        s.add(team)
        s.flush()
        s.add(m.TeamMember(userId=ada.id, teamId=team.id, role=m.TeamRole.owner))
    subscriptions.create_subscription(db, subscription_id="polar_t", team_id=team.id, plan="pro")
    with db.session() as s:
        user = s.get(m.User, ada.id)
        assert (user.plan, user.subscriptionType) == (m.Plan.pro, m.SubscriptionType.team)


@pytest.mark.parametrize("kwargs, message", [
    ({"user_id": "U", "team_id": "T"}, "exactly one owner"), ({}, "exactly one owner"),
    ({"user_id": "U", "plan": "gold"}, "plan: 'gold' is not one of"),
    ({"user_id": "U", "currency": "dollars"}, "currency"), ({"user_id": "U", "amount": -1}, "amount"),
    ({"user_id": "missing"}, "no user missing"),
])
def test_subscription_rejects_bad_input(db, kwargs, message):
    users.register_user(db, email="u@example.com")
    with db.transaction() as s:
        s.execute(sa.update(m.User).values(id="U"))
    args = {"subscription_id": "p", "plan": "pro", **kwargs}
    with pytest.raises((ValidationError, NotFound), match=message):
        subscriptions.create_subscription(db, **args)
    assert count(db, m.Subscription) == 0


def test_ai_usage_is_recorded_against_the_monthly_quota(db, monkeypatch):
    ada = users.register_user(db, email="ada@example.com").user
    monkeypatch.setitem(ai_usage.MONTHLY_QUOTA, m.Plan.basic, 2)
    for _ in range(2):
        ai_usage.record_ai_usage(db, user_id=ada.id, prompt="hi", tokens_used=10, cost_in_cents=1, model="m")
    ai_usage.record_ai_usage(db, user_id=ada.id, prompt="fails", success=False, error_message="timeout")
    with pytest.raises(QuotaExceeded, match="all 2 AI calls of the basic plan"):
        ai_usage.record_ai_usage(db, user_id=ada.id, prompt="one more")
    assert ai_usage.monthly_usage(db, ada.id) == 3
    with pytest.raises(ValidationError, match="tokens_used"):
        ai_usage.record_ai_usage(db, user_id=ada.id, prompt="x", tokens_used=-3, enforce_quota=False)
