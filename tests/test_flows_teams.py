"""Team and challenge flows: limits, permissions, certificates, leaderboards with ties, badges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.errors import AccessDenied, ConstraintError, ValidationError
from learnlab.flows import challenges, teams, users

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def make_users(db, n):
    return [users.register_user(db, email=f"u{i}@example.com").user.id for i in range(n)]


def test_team_membership_limits_and_permissions(db):
    owner, a, b, c = make_users(db, 4)
    team = teams.create_team(db, name="Data", owner_id=owner, max_members=3)
    member = teams.add_member(db, team.id, a, invited_by=owner)
    assert member.role == m.TeamRole.member
    with pytest.raises(AccessDenied):
        teams.add_member(db, team.id, b, invited_by=a)  # members may not invite by default
    with pytest.raises(ConstraintError, match="TeamMember.userId, TeamMember.teamId"):
        teams.add_member(db, team.id, a, invited_by=owner)
    teams.add_member(db, team.id, b, invited_by=owner, role="admin")
    with pytest.raises(ValidationError, match="full"):
        teams.add_member(db, team.id, c, invited_by=owner)


def test_certificates_are_verifiable_until_revoked_or_expired(db):
    owner, a, outsider = make_users(db, 3)
    team = teams.create_team(db, name="Data", owner_id=owner)
    teams.add_member(db, team.id, a, invited_by=owner)
    cert = teams.issue_certificate(db, team.id, a, title="SQL", issued_by=owner, expires_at=NOW + timedelta(days=1))
    assert teams.verify_certificate(db, cert.code, now=NOW).userId == a
    assert teams.verify_certificate(db, cert.code, now=NOW + timedelta(days=2)) is None
    assert teams.verify_certificate(db, "forged", now=NOW) is None
    with pytest.raises(AccessDenied):
        teams.issue_certificate(db, team.id, a, title="x", issued_by=a)
    with pytest.raises(ValidationError, match="not a member"):
        teams.issue_certificate(db, team.id, outsider, title="x", issued_by=owner)


def test_scores_rank_with_ties_and_award_badges(db):
    ids = make_users(db, 4)
    ch = challenges.create_challenge(db, title="SQL week", description="d", difficulty="beginner",
                                     start=NOW - timedelta(days=1), end=NOW + timedelta(days=6),
                                     badges=[("Bronze", 10), ("Gold", 90)])
    for uid in ids:
        challenges.join_challenge(db, uid, ch.id, now=NOW)
    for uid, score in zip(ids, [50, 90, 90, 10]):
        challenges.submit_score(db, uid, ch.id, score, now=NOW)
    challenges.submit_score(db, ids[0], ch.id, 20, now=NOW)  # a lower score keeps the best
    board = challenges.leaderboard(db, ch.id)
    assert [(r, s) for r, _, s in board] == [(1, 90), (1, 90), (3, 50), (4, 10)]
    with db.session() as s:
        awards = s.execute(sa.select(m.UserChallengeBadge.userId, m.Badge.name).join(m.Badge)).all()
    assert sorted(awards) == sorted([(ids[0], "Bronze"), (ids[1], "Bronze"), (ids[1], "Gold"), (ids[2], "Bronze"),
                                     (ids[2], "Gold"), (ids[3], "Bronze")])
    with pytest.raises(ValidationError, match="not running"):
        challenges.submit_score(db, ids[0], ch.id, 99, now=NOW + timedelta(days=30))
    with pytest.raises(ValidationError, match="score"):
        challenges.submit_score(db, ids[0], ch.id, -1, now=NOW)


def test_challenge_input_is_validated(db):
    with pytest.raises(ValidationError, match="end: must be after start"):
        challenges.create_challenge(db, title="t", description="d", difficulty="expert", start=NOW, end=NOW)
    with pytest.raises(ValidationError, match="difficulty"):
        challenges.create_challenge(db, title="t", description="d", difficulty="easy", start=NOW,
                                    end=NOW + timedelta(days=1))
