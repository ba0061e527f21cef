"""Colleague ratings: 👍/👎 from the people who read an answer in a channel (shared there, or in its thread).

The asker's own rating stays on the question log (`feedback.questions.rate_answer`); a colleague rating
is one row per person and answer, kept apart so the digest can tell the two numbers apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, and_, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow
from feedback.questions import QuestionLog


class ColleagueRating(Base):
    __tablename__ = "colleague_ratings"
    __table_args__ = (UniqueConstraint("question_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    # No foreign key to users: a colleague who never asked anything has no row there.
    slack_user_id: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int] = mapped_column(Integer)  # +1 helpful, -1 not helpful
    reason: Mapped[str | None] = mapped_column(String(64))
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class ColleagueTally:
    helpful: int = 0
    not_helpful: int = 0


def rate_as_colleague(
    session: Session,
    question_id: int,
    slack_user_id: str,
    rating: int,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Record `slack_user_id`'s vote on the answer to `question_id`; True if it changed anything.

    One vote per person: a different vote replaces theirs (a 👎 turned 👍 drops its reason), the same
    vote again is a no-op, and a reason given later lands on their 👎. One atomic INSERT .. ON CONFLICT,
    so a double click or two replicas racing on it never make two rows.
    """
    if rating not in (1, -1):
        raise ValueError("rating must be +1 (helpful) or -1 (not helpful)")
    if session.get(QuestionLog, question_id) is None:
        raise LookupError(f"no question #{question_id}")
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ColleagueRating.__table__
    stmt = insert(ColleagueRating).values(
        question_id=question_id,
        slack_user_id=slack_user_id,
        rating=rating,
        reason=reason,
        rated_at=now or utcnow(),
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["question_id", "slack_user_id"],
        set_={
            "rating": new.rating,
            "reason": case(
                (table.c.rating == new.rating, func.coalesce(new.reason, table.c.reason)), else_=new.reason
            ),
            "rated_at": new.rated_at,
        },
        where=or_(
            table.c.rating != new.rating,
            and_(new.reason.is_not(None), new.reason.is_distinct_from(table.c.reason)),
        ),
    ).returning(table.c.id)
    # RETURNING, not rowcount: psycopg reports no usable rowcount here; no row back means no change.
    return session.execute(stmt).first() is not None


def colleague_tally(session: Session, question_id: int) -> ColleagueTally:
    """How many colleagues found the answer to `question_id` helpful, and how many did not."""
    helpful, not_helpful = session.execute(
        select(
            func.count().filter(ColleagueRating.rating == 1),
            func.count().filter(ColleagueRating.rating == -1),
        ).where(ColleagueRating.question_id == question_id)
    ).one()
    return ColleagueTally(helpful, not_helpful)
