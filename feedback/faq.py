"""FAQ entries written by support (usually from a resolved ticket), kept in the database.

The database is the source of truth; the knowledge index is a copy. `all_entries` lets
`erp-coach ingest --reset` put them back into the index after a rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow
from feedback.tickets import InvalidTicket, _clean_text, _event, get_ticket

QUESTION_MAX = 1_000
ANSWER_MAX = 10_000
LANGS = ("zh-CN", "en")


class FaqEntry(Base):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty = everyone
    lang: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def faq_id(self) -> str:
        """The id under which the knowledge index holds this entry."""
        return f"db-faq-{self.id}"

    @property
    def source(self) -> str:
        return f"faq/db/{self.id}"


def add_entry(
    session: Session,
    *,
    question: str,
    answer: str,
    roles: Sequence[str] = (),
    lang: str = "zh-CN",
    ticket_id: int | None = None,
    created_by: str | None = None,
    allowed_roles: Sequence[str] | None = None,
) -> FaqEntry:
    q = _clean_text(question, "faq_question", QUESTION_MAX, required=True)
    a = _clean_text(answer, "faq_answer", ANSWER_MAX, required=True)
    if lang not in LANGS:
        raise InvalidTicket(
            "bad_lang", f"unknown language {lang!r}; choose one of: {', '.join(LANGS)}", value=lang
        )
    wanted = sorted({r.strip() for r in roles if r and r.strip()})
    if allowed_roles is not None and (unknown := [r for r in wanted if r not in allowed_roles]):
        raise InvalidTicket(
            "bad_roles",
            f"unknown role(s) {', '.join(unknown)}; choose from: {', '.join(allowed_roles)}",
            value=", ".join(unknown),
            choices=", ".join(allowed_roles),
        )
    entry = FaqEntry(
        question=q, answer=a, roles=wanted, lang=lang, ticket_id=ticket_id, created_by=created_by
    )
    session.add(entry)
    session.flush()
    if ticket_id is not None:
        _event(get_ticket(session, ticket_id), created_by or "system", "faq_added", "faq", None, entry.faq_id)
    return entry


def all_entries(session: Session) -> list[FaqEntry]:
    """Every FAQ entry in the database, oldest first (for re-indexing after `ingest --reset`)."""
    return list(session.scalars(select(FaqEntry).order_by(FaqEntry.id)))
