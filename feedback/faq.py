"""FAQ entries written by support (usually from a resolved ticket), kept in the database.

The database is the source of truth; the knowledge index is a copy of the active entries.
`active_entries` is what the index should hold (`erp-coach ingest --reset` puts them back after a
rebuild); `all_entries` includes the withdrawn ones, which stay on record (who took them back, why).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow
from feedback.tickets import InvalidTicket, TicketError, TicketEvent, _clean_text, _event, get_ticket

QUESTION_MAX = 1_000
ANSWER_MAX = 10_000
LANGS = ("zh-CN", "en")
REASON_MAX = 1_000
ACTOR_MAX = 32  # a Slack user id, or "cli:<login>"; the width of ticket_events.actor


class FaqNotFound(TicketError):
    """No FAQ entry has this id (a typo, or another database)."""

    code = "faq_not_found"


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
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String(32))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

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
    """Every FAQ entry in the database, withdrawn ones included, oldest first."""
    return list(session.scalars(select(FaqEntry).order_by(FaqEntry.id)))


def active_entries(session: Session) -> list[FaqEntry]:
    """The entries the bot may quote (not withdrawn), oldest first: what the knowledge index should hold."""
    return list(
        session.scalars(select(FaqEntry).where(FaqEntry.withdrawn_at.is_(None)).order_by(FaqEntry.id))
    )


def ticket_entries(session: Session, ticket_id: int) -> list[FaqEntry]:
    """The FAQ entries made from one ticket's resolutions, oldest first (what its triage card shows)."""
    return list(
        session.scalars(select(FaqEntry).where(FaqEntry.ticket_id == ticket_id).order_by(FaqEntry.id))
    )


def get_entry(session: Session, faq_id: int) -> FaqEntry:
    entry = session.get(FaqEntry, faq_id)
    if entry is None:
        raise FaqNotFound(
            f"no FAQ entry #{faq_id}; `erp-coach faq list --all` shows them all", id=str(faq_id)
        )  # an id, not a count: "#1234"
    return entry


@dataclass
class Withdrawal:
    """The outcome of `withdraw_entry`. `already`: it had been withdrawn before, and that first record
    (who, when, why) was kept. `events`: the audit events written on the entry's ticket (none if already)."""

    entry: FaqEntry
    already: bool
    events: list[TicketEvent] = field(default_factory=list)


def withdraw_entry(
    session: Session, faq_id: int, by: str, reason: str | None = None, *, require_reason: bool = False
) -> Withdrawal:
    """Take a FAQ entry back: the bot stops quoting it once the index copy is removed (the caller's job:
    `bot.faq_index.unindex_faq`). Idempotent: a second withdrawal, even a concurrent one (a double click
    in two threads, or the CLI and Slack at once), changes nothing and reports `already`.
    `require_reason`: a blank reason is an error (code `withdrawn_reason_empty`), not "no reason given"."""
    actor = (by or "").strip()[:ACTOR_MAX]
    if not actor:
        raise InvalidTicket("invalid", "say who withdraws the FAQ entry")
    why = _clean_text(reason, "withdrawn_reason", REASON_MAX, required=require_reason)
    entry = get_entry(session, faq_id)
    # One conditional UPDATE, not read-then-write: of two withdrawals racing, exactly one matches the row.
    won = session.execute(
        update(FaqEntry)
        .where(FaqEntry.id == faq_id, FaqEntry.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), withdrawn_by=actor, withdrawn_reason=why)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(entry)
    if not won:
        return Withdrawal(entry, already=True)
    events = []
    if entry.ticket_id is not None:
        ticket = get_ticket(session, entry.ticket_id)
        events.append(_event(ticket, actor, "faq_withdrawn", "faq", entry.faq_id, why, at=entry.withdrawn_at))
    return Withdrawal(entry, already=False, events=events)
