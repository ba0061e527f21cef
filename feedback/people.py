"""People the bot knows: their role, language and time zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow


class UnknownRole(ValueError):
    def __init__(self, role: str, allowed: list[str]) -> None:
        super().__init__(f"unknown role {role!r}; choose one of: {', '.join(allowed)}")
        self.role = role
        self.allowed = allowed


class User(Base):
    __tablename__ = "users"

    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32), index=True)
    # The user's own choice wins over the Slack locale; both are kept so "auto" can be restored.
    language_override: Mapped[str | None] = mapped_column(String(16))
    slack_locale: Mapped[str | None] = mapped_column(String(16))
    tz: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def language(self) -> str:
        return normalize_language(self.language_override or self.slack_locale)


def normalize_language(locale: str | None) -> str:
    """Slack locales like zh-CN, zh-TW, en-US -> the catalogs we ship (zh-CN, en)."""
    if locale and locale.lower().startswith("zh"):
        return "zh-CN"
    return "en" if locale else "zh-CN"


def get_user(session: Session, slack_user_id: str) -> User | None:
    return session.get(User, slack_user_id)


def ensure_user(session: Session, slack_user_id: str, **fields) -> User:
    user = session.get(User, slack_user_id)
    if user is None:
        user = User(slack_user_id=slack_user_id, **fields)
        session.add(user)
        session.flush()
    else:
        for key, value in fields.items():
            if value is not None:
                setattr(user, key, value)
    return user


def set_role(session: Session, slack_user_id: str, role: str | None, allowed: list[str]) -> User:
    if role is not None and role not in allowed:
        raise UnknownRole(role, allowed)
    user = ensure_user(session, slack_user_id)
    user.role = role
    return user


def users_with_roles(session: Session, roles: list[str] | None) -> list[User]:
    """Everyone (roles=None) or everyone holding one of `roles`."""
    stmt = select(User).order_by(User.slack_user_id)
    if roles:
        stmt = stmt.where(User.role.in_(roles))
    return list(session.scalars(stmt))
