"""User management flows: registration, login, access control, anonymisation, sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from learnlab.db.encoding import utcnow
from learnlab.errors import AccessDenied, NotFound, ValidationError
from learnlab.flows import validate
from learnlab.models import Image, ImagePath, Password, Session, User

SESSION_DAYS = 30


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


@dataclass
class Registration:
    user: User
    session: Session
    image: Image | None


def register_user(
    db: Any,
    *,
    email: str,
    name: str | None = None,
    username: str | None = None,
    image_url: str | None = None,
    image_key: str | None = None,
    password: str | None = None,
    session_days: int = SESSION_DAYS,
) -> Registration:
    """Create the user, a session and (when given) the profile image and password, in one transaction."""
    email = validate.email(email)
    username = validate.username(username)
    name = validate.text(name, "name", max_len=200, optional=True)
    validate.integer(session_days, "session_days", minimum=1, maximum=365)
    if image_url is not None and not image_key:
        raise ValidationError("image_key", "required with image_url (the stored file's key)")
    if password is not None and len(password) < 8:
        raise ValidationError("password", "at least 8 characters")
    hashed = _hasher().hash(password) if password is not None else None
    with db.transaction() as s:
        user = User(email=email, name=name, username=username, imageUrl=image_url)
        s.add(user)
        s.flush()
        session = Session(userId=user.id, expirationDate=user.createdAt + timedelta(days=session_days))
        s.add(session)
        image = None
        if image_url is not None:
            image = Image(userId=user.id, fileKey=image_key, filePath=ImagePath.users)
            s.add(image)
        if hashed is not None:
            s.add(Password(userId=user.id, hash=hashed))
    return Registration(user, session, image)


def login(db: Any, email: str, password: str, *, session_days: int = SESSION_DAYS) -> Session:
    """Check the password and open a session; the same error whether the email or the password is wrong."""
    from argon2.exceptions import VerificationError

    email = validate.email(email)
    hasher = _hasher()
    with db.transaction() as s:
        row = s.execute(
            sa.select(User.id, Password.hash).join(Password, Password.userId == User.id).where(User.email == email)
        ).first()
        try:
            if row is None:
                raise VerificationError()
            hasher.verify(row.hash, password)
        except VerificationError:
            raise AccessDenied("wrong email or password") from None
        if hasher.check_needs_rehash(row.hash):
            s.execute(sa.update(Password).where(Password.userId == row.id).values(hash=hasher.hash(password)))
        now = utcnow()
        s.execute(sa.update(User).where(User.id == row.id).values(lastSeenAt=now))
        session = Session(userId=row.id, expirationDate=now + timedelta(days=session_days))
        s.add(session)
    return session


def get_user_data(db: Any, user_id: str, requesting_user_id: str, *, is_admin: bool = False) -> User:
    """A user's row, for that user or an admin only (the seed's row-level security)."""
    if user_id != requesting_user_id and not is_admin:
        raise AccessDenied(f"user {requesting_user_id} may not read user {user_id}")
    with db.session() as s:
        user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def anonymize_user(db: Any, user_id: str) -> User:
    """Replace personal data, end sessions, drop the password and profile image; keep usage for analytics."""
    with db.transaction() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        user.email = f"user_{user_id}@deleted.com"
        user.name = "Deleted User"
        user.username = None
        user.imageUrl = None
        for model in (Session, Password, Image):
            s.execute(sa.delete(model).where(model.userId == user_id))
    return user


def active_session_count(db: Any, user_id: str, now: datetime | None = None) -> int:
    """Sessions not yet expired (the seed's ``_count.sessions`` with ``expirationDate > now``)."""
    now = now or utcnow()
    with db.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(Session).where(Session.userId == user_id, Session.expirationDate > now)
        )


def delete_expired_sessions(db: Any, now: datetime | None = None) -> int:
    """Remove sessions past their expiration date; returns how many."""
    now = now or utcnow()
    with db.transaction() as s:
        return s.execute(sa.delete(Session).where(Session.expirationDate <= now)).rowcount
