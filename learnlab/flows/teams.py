"""Team flows: creation with settings, membership within limits, verifiable certificates."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from learnlab.db.encoding import utcnow
from learnlab.errors import AccessDenied, NotFound, ValidationError
from learnlab.flows import validate
from learnlab.models import Team, TeamCertificate, TeamMember, TeamRole, TeamSettings


def create_team(db: Any, *, name: str, owner_id: str, description: str | None = None, max_members: int = 25) -> Team:
    """A team, its settings, and its owner as first member."""
    name = validate.text(name, "name", max_len=200)
    validate.integer(max_members, "max_members", minimum=1, maximum=10_000)
    with db.transaction() as s:
        team = Team(name=name, description=validate.text(description, "description", optional=True))
        s.add(team)
        s.flush()
        s.add(TeamSettings(teamId=team.id, maxMembers=max_members))
        s.add(TeamMember(teamId=team.id, userId=owner_id, role=TeamRole.owner))
    return team


def add_member(db: Any, team_id: str, user_id: str, *, invited_by: str, role: TeamRole | str | None = None) -> TeamMember:
    """Add a member if the inviter may invite and the team is not full."""
    with db.transaction() as s:
        settings = s.scalars(sa.select(TeamSettings).where(TeamSettings.teamId == team_id)).one_or_none()
        if settings is None:
            raise NotFound(f"no team {team_id}")
        inviter = _role(s, team_id, invited_by)
        if inviter is None or (inviter == TeamRole.member and not settings.allowMemberInvites):
            raise AccessDenied(f"user {invited_by} may not invite members to team {team_id}")
        size = s.scalar(sa.select(sa.func.count()).select_from(TeamMember).where(TeamMember.teamId == team_id))
        if size >= settings.maxMembers:
            raise ValidationError("team", f"team {team_id} is full ({settings.maxMembers} members)")
        role = validate.member(TeamRole, role or settings.defaultRole, "role")
        if role == TeamRole.owner:
            raise ValidationError("role", "a team has one owner; add as admin instead")
        member = TeamMember(teamId=team_id, userId=user_id, role=role)
        s.add(member)
    return member


def issue_certificate(
    db: Any, team_id: str, user_id: str, *, title: str, issued_by: str, challenge_id: str | None = None,
    expires_at: datetime | None = None,
) -> TeamCertificate:
    """A certificate for a member, with an unguessable verification code."""
    title = validate.text(title, "title", max_len=200)
    with db.transaction() as s:
        if _role(s, team_id, issued_by) not in (TeamRole.owner, TeamRole.admin):
            raise AccessDenied(f"user {issued_by} may not issue certificates for team {team_id}")
        if _role(s, team_id, user_id) is None:
            raise ValidationError("user_id", f"user {user_id} is not a member of team {team_id}")
        cert = TeamCertificate(teamId=team_id, userId=user_id, challengeId=challenge_id, title=title,
                               code=secrets.token_urlsafe(12), expiresAt=expires_at)
        s.add(cert)
    return cert


def verify_certificate(db: Any, code: str, now: datetime | None = None) -> TeamCertificate | None:
    """The certificate with this code if it is valid now (not revoked, not expired), else ``None``."""
    now = now or utcnow()
    with db.session() as s:
        cert = s.scalars(sa.select(TeamCertificate).where(TeamCertificate.code == code)).one_or_none()
    if cert is None or cert.revokedAt is not None or (cert.expiresAt is not None and cert.expiresAt <= now):
        return None
    return cert


def _role(s: Any, team_id: str, user_id: str) -> TeamRole | None:
    return s.scalar(sa.select(TeamMember.role).where(TeamMember.teamId == team_id, TeamMember.userId == user_id))
