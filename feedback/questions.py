"""The question log: every question asked, what was answered, and how the asker rated it.

Digests and the knowledge-gap report read this log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow


class QuestionLog(Base):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_channel_thread", "channel_id", "thread_ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.slack_user_id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32), index=True)
    lang: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    # [{"source": path, "title": str, "heading": str, "score": float}, ...] best first
    top_sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    answered: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Float)
    surface: Mapped[str | None] = mapped_column(String(32))  # dm, mention, slash, shortcut, home, cli
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # the thread the answer lives in
    rating: Mapped[int | None] = mapped_column(Integer)  # +1 helpful, -1 not helpful
    rating_reason: Mapped[str | None] = mapped_column(String(64))
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A "was this helpful?" scheduled in Slack (chat.scheduleMessage), withdrawn when the answer is rated.
    rating_reminder_id: Mapped[str | None] = mapped_column(String(64))
    rating_reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def thread_question(session: Session, channel_id: str, thread_ts: str) -> QuestionLog | None:
    """The latest question answered in this Slack thread (a reply there is a follow-up to it)."""
    return session.scalars(
        select(QuestionLog)
        .where(QuestionLog.channel_id == channel_id, QuestionLog.thread_ts == thread_ts)
        .order_by(QuestionLog.id.desc())
        .limit(1)
    ).first()


def reminded_since(session: Session, user_id: str, since: dt.datetime) -> bool:
    """Whether `user_id` had a rating reminder scheduled at or after `since`."""
    return (
        session.scalars(
            select(QuestionLog.id)
            .where(QuestionLog.slack_user_id == user_id, QuestionLog.rating_reminder_at >= since)
            .limit(1)
        ).first()
        is not None
    )


# Scheduling a reminder and rating the answer can cross: each side writes first and then reads what the
# other wrote, in one transaction, so whichever commits second sees the first (row locks on PostgreSQL,
# the single writer on SQLite) and exactly one of them withdraws the reminder.


def attach_rating_reminder(session: Session, question_id: int, scheduled_id: str, at: dt.datetime) -> bool:
    """Store the reminder scheduled for an answer; False if the answer was rated meanwhile (withdraw it)."""
    stored = session.execute(
        update(QuestionLog)
        .where(QuestionLog.id == question_id, QuestionLog.rating.is_(None))
        .values(rating_reminder_id=scheduled_id, rating_reminder_at=at)
    )
    return stored.rowcount == 1


def take_rating_reminder(session: Session, question_id: int) -> str | None:
    """After a rating (flushed in this transaction): the scheduled reminder to withdraw, now forgotten."""
    session.flush()
    scheduled_id = session.scalar(select(QuestionLog.rating_reminder_id).where(QuestionLog.id == question_id))
    if scheduled_id:
        session.execute(
            update(QuestionLog).where(QuestionLog.id == question_id).values(rating_reminder_id=None)
        )
    return scheduled_id


def log_question(session: Session, **fields: Any) -> QuestionLog:
    entry = QuestionLog(**fields)
    session.add(entry)
    session.flush()
    return entry


def rate_answer(session: Session, question_id: int, rating: int, reason: str | None = None) -> QuestionLog:
    if rating not in (1, -1):
        raise ValueError("rating must be +1 (helpful) or -1 (not helpful)")
    entry = session.get(QuestionLog, question_id)
    if entry is None:
        raise LookupError(f"no question #{question_id}")
    entry.rating = rating
    entry.rating_reason = reason
    entry.rated_at = utcnow()
    return entry


def recent_questions(session: Session, slack_user_id: str, limit: int = 5) -> list[QuestionLog]:
    stmt = (
        select(QuestionLog)
        .where(QuestionLog.slack_user_id == slack_user_id)
        .order_by(QuestionLog.created_at.desc(), QuestionLog.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
