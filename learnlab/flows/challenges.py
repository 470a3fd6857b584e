"""Challenge flows: join, score, complete; the leaderboard and badges follow in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from learnlab.db.encoding import utcnow
from learnlab.errors import NotFound, ValidationError
from learnlab.flows import validate
from learnlab.models import Badge, Challenge, ChallengeDifficulty, LeaderboardEntry, UserChallenge, UserChallengeBadge


def create_challenge(
    db: Any, *, title: str, description: str, difficulty: ChallengeDifficulty | str, start: datetime, end: datetime,
    badges: list[tuple[str, int]] = (),
) -> Challenge:
    """A challenge and its badges (name, minimum score)."""
    title = validate.text(title, "title", max_len=200)
    description = validate.text(description, "description")
    difficulty = validate.member(ChallengeDifficulty, difficulty, "difficulty")
    if validate.moment(end, "end") <= validate.moment(start, "start"):
        raise ValidationError("end", "must be after start")
    with db.transaction() as s:
        challenge = Challenge(title=title, description=description, difficulty=difficulty, startDate=start, endDate=end)
        s.add(challenge)
        s.flush()
        for name, min_score in badges:
            s.add(Badge(challengeId=challenge.id, name=validate.text(name, "badge name", max_len=100),
                        minScore=validate.integer(min_score, "badge minScore", minimum=0)))
    return challenge


def join_challenge(db: Any, user_id: str, challenge_id: str, now: datetime | None = None) -> UserChallenge:
    """Enter a running challenge (once); the participant appears on the leaderboard with score 0."""
    now = now or utcnow()
    with db.transaction() as s:
        challenge = _running(s, challenge_id, now)
        entry = UserChallenge(userId=user_id, challengeId=challenge.id, score=0)
        s.add(entry)
        s.flush()
        _rerank(s, challenge.id)
    return entry


def submit_score(
    db: Any, user_id: str, challenge_id: str, score: int, *, completed: bool = False, now: datetime | None = None
) -> UserChallenge:
    """Record a participant's score (best so far), re-rank the leaderboard and award reached badges."""
    validate.integer(score, "score", minimum=0)
    now = now or utcnow()
    with db.transaction() as s:
        _running(s, challenge_id, now)
        entry = s.scalars(
            sa.select(UserChallenge).where(UserChallenge.userId == user_id, UserChallenge.challengeId == challenge_id)
        ).one_or_none()
        if entry is None:
            raise NotFound(f"user {user_id} has not joined challenge {challenge_id}")
        entry.score = max(entry.score, score)
        if completed and entry.completedAt is None:
            entry.completedAt = now
        s.flush()
        _rerank(s, challenge_id)
        _award(s, user_id, challenge_id, entry.score)
    return entry


def leaderboard(db: Any, challenge_id: str, limit: int = 10) -> list[tuple[int, str, int]]:
    """``(rank, userId, score)``, best first; ties share a rank (1, 2, 2, 4)."""
    with db.session() as s:
        rows = s.execute(
            sa.select(LeaderboardEntry.rank, LeaderboardEntry.userId, LeaderboardEntry.score)
            .where(LeaderboardEntry.challengeId == challenge_id)
            .order_by(LeaderboardEntry.rank, LeaderboardEntry.userId)
            .limit(limit)
        )
        return [tuple(r) for r in rows]


def _running(s: Any, challenge_id: str, now: datetime) -> Challenge:
    challenge = s.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound(f"no challenge {challenge_id}")
    if not challenge.isActive or not (challenge.startDate <= now <= challenge.endDate):
        raise ValidationError("challenge", f"{challenge.title!r} is not running at {now.isoformat()}")
    return challenge


def _rerank(s: Any, challenge_id: str) -> None:
    """Bring LeaderboardEntry in step with UserChallenge scores (standard competition ranking)."""
    scores = s.execute(
        sa.select(UserChallenge.userId, UserChallenge.score).where(UserChallenge.challengeId == challenge_id)
    ).all()
    current = {e.userId: e for e in s.scalars(sa.select(LeaderboardEntry).where(LeaderboardEntry.challengeId == challenge_id))}
    ordered = sorted(scores, key=lambda r: -r.score)
    rank = 0
    for i, (user_id, score) in enumerate(ordered):
        if i == 0 or score != ordered[i - 1].score:
            rank = i + 1
        entry = current.get(user_id)
        if entry is None:
            s.add(LeaderboardEntry(challengeId=challenge_id, userId=user_id, score=score, rank=rank))
        elif (entry.score, entry.rank) != (score, rank):
            entry.score, entry.rank = score, rank


def _award(s: Any, user_id: str, challenge_id: str, score: int) -> None:
    reached = sa.select(Badge.id).where(Badge.challengeId == challenge_id, Badge.minScore <= score)
    held = sa.select(UserChallengeBadge.badgeId).where(UserChallengeBadge.userId == user_id)
    for badge_id in s.scalars(reached.where(Badge.id.not_in(held))):
        s.add(UserChallengeBadge(userId=user_id, badgeId=badge_id))
