"""Feedback tickets: an employee's ERP problem, tracked from report to closure.

One public face: plain functions that take a `Session` (the caller owns the transaction) and return
plain model objects or small dataclasses. Every change writes a `TicketEvent` in the same transaction,
so an audit row exists exactly when the change does.

Numbers (ERP-1, ERP-2, ...) come from a one-row counter table that is locked by an
`UPDATE ... RETURNING` before the ticket is inserted: on PostgreSQL the row lock serializes concurrent
creators, on SQLite the write lock does; no two tickets ever share a number, and none is skipped.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from feedback.db import Base, UTCDateTime, utcnow
from feedback.people import User, ensure_user, get_user

TICKET_PREFIX = "ERP"
TITLE_MAX = 200
DESCRIPTION_MAX = 40_000  # Slack's own message limit; a longer text is a paste accident, not a report.
RESOLUTION_MAX = 10_000
COMMENT_MAX = 10_000
MODULE_MAX = 64
IDEMPOTENCY_KEY_MAX = 255
TRIAGE_ROLES = ("support", "admin")
# Satisfaction rating (CSAT) with the closure notice: nobody is asked again within the cooldown, and a
# rating counts within the window after the ask (Zendesk: 28 days). Settings pass their own values.
CSAT_COOLDOWN_DAYS = 7.0
CSAT_WINDOW_DAYS = 28.0
_E = TypeVar("_E", bound=enum.StrEnum)


class Status(enum.StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting_on_reporter"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Category(enum.StrEnum):
    HOW_TO = "how_to_gap"
    BUG = "bug"
    DATA = "data_problem"
    ACCESS = "access_permission"
    FEATURE = "feature_request"
    TRAINING = "training_need"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.IN_PROGRESS, Status.WAITING)
# Statuses whose SLA clock runs (`sla_elapsed`): waiting on the reporter pauses it, as do resolved and
# closed spells before a reopen.
SLA_STATUSES = (Status.NEW, Status.TRIAGED, Status.IN_PROGRESS)

# Moves support may make with the Status control. RESOLVED needs a resolution (resolve_ticket) and
# leaving RESOLVED/CLOSED is a reopen (reopen_ticket), so neither appears here as a target/source.
_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.TRIAGED, Status.IN_PROGRESS, Status.WAITING, Status.CLOSED}),
    Status.TRIAGED: frozenset({Status.IN_PROGRESS, Status.WAITING, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.TRIAGED, Status.WAITING, Status.CLOSED}),
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


# --------------------------------------------------------------------------------------------- errors


class TicketError(ValueError):
    """Base of every ticket error. `code` names an i18n key (`tickets.error.<code>`), `params` fill it."""

    code = "invalid"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params


class InvalidTicket(TicketError):
    """Input a user can fix: empty or oversized text, an unknown category, priority or status."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.code = code


class TicketNotFound(TicketError):
    code = "not_found"


class InvalidTransition(TicketError):
    code = "invalid_transition"


class NotAllowed(TicketError):
    code = "not_allowed"


class RatingClosed(TicketError):
    """A rating after its window (or for a closure nobody asked to rate): refused, nothing stored.

    `until` is when the window closed, or None when this ticket never asked its reporter to rate."""

    code = "rating_closed"

    def __init__(self, message: str, *, ticket: str, until: dt.datetime | None) -> None:
        super().__init__(message, ticket=ticket)
        self.until = until


# --------------------------------------------------------------------------------------------- models


class TicketCounter(Base):
    __tablename__ = "ticket_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), index=True)
    erp_module: Mapped[str | None] = mapped_column(String(MODULE_MAX))
    priority: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.slack_user_id"), index=True)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.slack_user_id"), index=True)
    lang: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))  # slash, shortcut, reaction, answer, cli
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    # Sources the bot showed before the user asked for a human: [{"title":..., "source":...}, ...]
    shown_sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    origin_ts: Mapped[str | None] = mapped_column(String(32))
    origin_permalink: Mapped[str | None] = mapped_column(String(500))
    triage_channel: Mapped[str | None] = mapped_column(String(32))
    triage_ts: Mapped[str | None] = mapped_column(String(32))
    # The reporter's confirmation DM: status notices go in its thread, and a reply there is a comment.
    reporter_channel: Mapped[str | None] = mapped_column(String(32))
    reporter_ts: Mapped[str | None] = mapped_column(String(32), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    affected_count: Mapped[int] = mapped_column(Integer, default=1)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    satisfaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Unique: a Slack retry or a double click carries the same key and finds the first ticket.
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX), unique=True)
    # float32 unit vector of title + description, for "similar open tickets".
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    overdue_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set once the confirmation and triage post went out, so a retried submission never announces twice.
    announced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="ticket", order_by="Comment.id", cascade="all, delete-orphan"
    )

    @property
    def key(self) -> str:
        return format_key(self.number)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(Base):
    """The audit log: who did what to which field, the value before and after, and when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(32))  # a Slack user id, or "system"
    kind: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Comment(Base):
    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="comments")


class RatingRequest(Base):
    """One "how satisfied are you?" put to a reporter with a closure notice, and the answer.

    The cooldown (was this person asked lately?), the rating window and the response rate all read
    these rows. A duplicate's reporter is asked on the duplicate's own ticket. A reopened ticket that is
    resolved again may get a new row; a rating always lands on the ticket's latest one."""

    __tablename__ = "ticket_rating_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(ForeignKey("users.slack_user_id"), index=True)
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    open_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


# ------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    created: bool  # False when the idempotency key matched an existing ticket


@dataclass(frozen=True)
class SimilarTicket:
    ticket: Ticket
    score: float


@dataclass(frozen=True)
class ClosureNotice:
    """What to tell a reporter when their ticket is resolved or closed without them."""

    ticket: Ticket
    recipient: str
    reason: str  # resolved, duplicate_resolved, stale_closed
    resolved_by: str | None = None
    # Set when this notice asks for a rating: the end of its rating window. None: no rating request
    # (the reporter was asked within the cooldown, or the ticket closed without a resolution).
    rating_until: dt.datetime | None = None


@dataclass(frozen=True)
class RatingState:
    """Where a reporter's rating of a ticket stands: what they gave (if anything) and until when."""

    rating: int | None
    open_until: dt.datetime

    def is_open(self, now: dt.datetime) -> bool:
        return now < self.open_until


@dataclass(frozen=True)
class RatingCounts:
    """Ticket CSAT for a period, as counts (the digest decides what may be shown)."""

    asked: int  # rating requests sent in the period
    answered: int  # of those, the ones rated so far
    ratings: tuple[int, ...]  # ratings given (or last changed) in the period


@dataclass(frozen=True)
class OverdueReminder:
    ticket: Ticket
    recipient: str | None  # the assignee; None means nobody owns it, so only triage is told
    overdue_by: dt.timedelta
    sla_hours: float


@dataclass
class Change:
    """A change made by a triage action: the ticket and the events it wrote (for the triage thread)."""

    ticket: Ticket
    events: list[TicketEvent] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ helpers


def format_key(number: int) -> str:
    return f"{TICKET_PREFIX}-{number}"


def parse_key(text: str) -> int:
    """'ERP-12', 'erp-12', '12' -> 12."""
    raw = text.strip().upper()
    if raw.startswith(f"{TICKET_PREFIX}-"):
        raw = raw[len(TICKET_PREFIX) + 1 :]
    if not raw.isdigit():
        raise InvalidTicket("bad_key", f"{text!r} is not a ticket number like {TICKET_PREFIX}-12", key=text)
    return int(raw)


def parse_enum(kind: type[_E], value: str | _E, what: str) -> _E:
    """Coerce payload text to an enum member, or raise a message listing the valid choices."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise InvalidTicket(
            f"bad_{what}", f"unknown {what} {value!r}; choose one of: {choices}", value=value, choices=choices
        ) from None


def _clean_text(value: str | None, what: str, limit: int, *, required: bool) -> str | None:
    text = (value or "").replace("\x00", "").strip()
    if not text:
        if required:
            raise InvalidTicket(f"{what}_empty", f"the {what} is empty; describe the problem in a few words")
        return None
    if len(text) > limit:
        raise InvalidTicket(
            f"{what}_too_long",
            f"the {what} has {len(text):,} characters; the limit is {limit:,}",
            length=len(text),
            limit=limit,
        )
    return text


def _title_from(description: str) -> str:
    first = description.strip().splitlines()[0].strip()
    return first if len(first) <= 80 else first[:79].rstrip() + "…"


def _event(
    ticket: Ticket,
    actor: str,
    kind: str,
    fld: str | None = None,
    before=None,
    after=None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    ev = TicketEvent(
        actor=actor,
        kind=kind,
        field=fld,
        before=None if before is None else str(before),
        after=None if after is None else str(after),
        created_at=at or utcnow(),
    )
    ticket.events.append(ev)
    return ev


def _vector_bytes(vector: np.ndarray | Sequence[float] | None) -> bytes | None:
    if vector is None:
        return None
    arr = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(arr))
    return (arr / norm if norm else arr).astype(np.float32).tobytes()


def vector_of(ticket: Ticket) -> np.ndarray | None:
    return None if ticket.embedding is None else np.frombuffer(ticket.embedding, dtype=np.float32)


def _next_number(session: Session) -> int:
    stmt = (
        update(TicketCounter)
        .where(TicketCounter.name == "ticket")
        .values(value=TicketCounter.value + 1)
        .returning(TicketCounter.value)
    )
    number = session.execute(stmt).scalar_one_or_none()
    if number is None:
        # Only a database created without the migration's seed row gets here.
        start = session.scalar(select(func.coalesce(func.max(Ticket.number), 0))) or 0
        session.add(TicketCounter(name="ticket", value=start + 1))
        session.flush()
        number = start + 1
    return number


def _give_back_number(session: Session, number: int) -> None:
    session.execute(
        update(TicketCounter)
        .where(TicketCounter.name == "ticket", TicketCounter.value == number)
        .values(value=number - 1)
    )


def by_idempotency_key(session: Session, key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.idempotency_key == key))


# ------------------------------------------------------------------------------------------ creating


def create_ticket(
    session: Session,
    *,
    reporter: str,
    description: str,
    title: str | None = None,
    category: str | Category = Category.HOW_TO,
    priority: str | Priority = Priority.NORMAL,
    erp_module: str | None = None,
    lang: str | None = None,
    source: str | None = None,
    idempotency_key: str | None = None,
    origin_channel: str | None = None,
    origin_ts: str | None = None,
    origin_permalink: str | None = None,
    question_id: int | None = None,
    shown_sources: list[dict[str, Any]] | None = None,
    embedding: np.ndarray | Sequence[float] | None = None,
) -> Created:
    """Validate everything first, then store the ticket and its "created" event, or nothing at all.

    With an `idempotency_key` (the Slack event id, action id + user, or view id) a second call returns
    the first ticket with `created=False` instead of making another.
    """
    text = _clean_text(description, "description", DESCRIPTION_MAX, required=True)
    assert text is not None
    head = _clean_text(title, "title", TITLE_MAX, required=False) or _title_from(text)
    module = _clean_text(erp_module, "module", MODULE_MAX, required=False)
    cat = parse_enum(Category, category, "category")
    prio = parse_enum(Priority, priority, "priority")
    key = (idempotency_key or "").strip()[:IDEMPOTENCY_KEY_MAX] or None

    if key and (existing := by_idempotency_key(session, key)) is not None:
        return Created(existing, created=False)
    number = _next_number(session)  # takes the lock: from here on, creators are serialized
    if key and (existing := by_idempotency_key(session, key)) is not None:
        _give_back_number(session, number)
        return Created(existing, created=False)
    ensure_user(session, reporter)
    now = utcnow()
    ticket = Ticket(
        number=number,
        title=head,
        description=text,
        category=cat.value,
        priority=prio.value,
        status=Status.NEW.value,
        erp_module=module,
        reporter_id=reporter,
        lang=lang,
        source=source,
        idempotency_key=key,
        origin_channel=origin_channel,
        origin_ts=origin_ts,
        origin_permalink=origin_permalink,
        question_id=question_id,
        shown_sources=list(shown_sources or []),
        embedding=_vector_bytes(embedding),
        affected_count=1,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    _event(ticket, reporter, "created", "status", None, Status.NEW.value)
    session.flush()
    return Created(ticket, created=True)


def set_embedding(session: Session, ticket_id: int, vector: np.ndarray | Sequence[float]) -> Ticket:
    """Store the vector computed after the fact (the listener embeds after Slack's ack)."""
    ticket = get_ticket(session, ticket_id)
    ticket.embedding = _vector_bytes(vector)
    return ticket


# ------------------------------------------------------------------------------------------- reading


def get_ticket(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalar(stmt)
    if ticket is None:
        raise TicketNotFound(f"no ticket with id {ticket_id}", ticket=str(ticket_id))
    return ticket


def get_by_number(session: Session, number: int | str) -> Ticket:
    num = parse_key(number) if isinstance(number, str) else number
    ticket = session.scalar(select(Ticket).where(Ticket.number == num))
    if ticket is None:
        raise TicketNotFound(f"no ticket {format_key(num)}", ticket=format_key(num))
    return ticket


def list_tickets(
    session: Session, *, status: Iterable[str | Status] | None = None, limit: int | None = None
) -> list[Ticket]:
    stmt = select(Ticket).order_by(Ticket.number)
    if status is not None:
        wanted = [parse_enum(Status, s, "status").value for s in status]
        stmt = stmt.where(Ticket.status.in_(wanted))
    if limit:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def open_tickets_of(session: Session, reporter: str, limit: int = 5) -> list[Ticket]:
    """The person's open tickets, newest first (for their App Home)."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.reporter_id == reporter, Ticket.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(Ticket.number.desc())
            .limit(limit)
        )
    )


def events_of(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    )


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


# A Chinese and an English report of one problem share no words, and the bundled English model puts their
# cosine near 0.1, so such a pair is scored on its ERP terms alone (see `cross_language_score`). On the 14
# mixed pairs of benchmarks/ticket_pairs.jsonl, 0.3 finds 7 of 7 duplicates with one unrelated pair
# (two expense-approval problems); few pairs, so a rough setting.
CROSS_LANGUAGE_THRESHOLD = 0.3


def similar_text(ticket: Ticket) -> str:
    """The text tickets are compared on (embedded and tokenized the same way)."""
    return _compared_text(ticket.title, ticket.description)


def _compared_text(title: str, description: str) -> str:
    return f"{title}\n{description}"


def cross_language_score(
    a: tuple[str, str | None], b: tuple[str, str | None], tokenize: Callable[[str], Iterable[str]]
) -> float | None:
    """Each side is (text, rendering): a Chinese text's English ERP terms ("" when it names none), None for
    a text that is not Chinese. For a Chinese and a non-Chinese text: the word overlap (Dice) of the
    Chinese one's rendering with the other's words; None when both are in one language."""
    if (a[1] is None) == (b[1] is None):
        return None
    rendering, other = (a[1], b[0]) if a[1] is not None else (b[1], a[0])
    return _dice(set(tokenize(rendering)), set(tokenize(other)))


def similar_open_tickets(
    session: Session,
    vector: np.ndarray | Sequence[float],
    *,
    threshold: float,
    limit: int = 3,
    exclude_id: int | None = None,
    text: str | None = None,
    tokenize: Callable[[str], Iterable[str]] | None = None,
    render: Callable[[str], str | None] | None = None,
) -> list[SimilarTicket]:
    """Open, non-duplicate tickets close to this one, best first.

    The score is the cosine of the embeddings; with `text` and `tokenize` (the search's tokenizer) it is
    the mean of that cosine and the word overlap (Dice). The bundled model is an English one, so on
    Chinese tickets the two overlap: benchmarks/ticket_similarity.py (130 labelled pairs) puts
    same-problem Chinese pairs at 0.35-0.78 and different ones at 0.30-0.66; 0.45 has the best F1 and
    F0.5 there. With `render` (a Chinese text's English ERP terms), a Chinese and an English ticket are
    compared by `cross_language_score` against `CROSS_LANGUAGE_THRESHOLD` instead."""
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(query))
    if not norm:
        return []
    query = query / norm
    words = set(tokenize(text)) if text is not None and tokenize is not None else None
    rendered = render(text) if words is not None and render is not None else None
    # Only the columns compared, not whole rows: building ORM objects for every open ticket was most of
    # a card render's time (benchmarks/similar_tickets.py); the few shown are loaded at the end.
    stmt = select(Ticket.id, Ticket.number, Ticket.title, Ticket.description, Ticket.embedding).where(
        Ticket.status.in_([s.value for s in OPEN_STATUSES]),
        Ticket.duplicate_of_id.is_(None),
        Ticket.embedding.is_not(None),
    )
    if exclude_id is not None:
        stmt = stmt.where(Ticket.id != exclude_id)
    scored: list[tuple[float, int, int]] = []  # (score, number, id)
    for ticket_id, number, title, description, blob in session.execute(stmt):
        other = np.frombuffer(blob, dtype=np.float32)
        if other.shape != query.shape:
            continue  # embedded by another model; not comparable
        theirs = _compared_text(title, description)
        if words is not None and render is not None:
            cross = cross_language_score((text, rendered), (theirs, render(theirs)), tokenize)
            if cross is not None:
                if cross >= CROSS_LANGUAGE_THRESHOLD:
                    scored.append((cross, number, ticket_id))
                continue
        score = float(np.dot(query, other))
        if words is not None:
            score = (score + _dice(words, set(tokenize(theirs)))) / 2
        if score >= threshold:
            scored.append((score, number, ticket_id))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [SimilarTicket(session.get(Ticket, ticket_id), score) for score, _, ticket_id in scored[:limit]]


# ------------------------------------------------------------------------------------------- triage


def can_triage(session: Session, user_id: str, roles: Sequence[str] = TRIAGE_ROLES) -> bool:
    user = get_user(session, user_id)
    return user is not None and user.role in roles


def require_triager(session: Session, user_id: str, roles: Sequence[str] = TRIAGE_ROLES) -> None:
    if not can_triage(session, user_id, roles):
        raise NotAllowed(
            f"{user_id} may not triage tickets; only {', '.join(roles)} may",
            user=user_id,
            roles=", ".join(roles),
        )


def _set_status(
    ticket: Ticket, actor: str, new: Status, kind: str = "status", at: dt.datetime | None = None
) -> TicketEvent:
    ev = _event(ticket, actor, kind, "status", ticket.status, new.value, at=at)
    ticket.status = new.value
    ticket.status_changed_at = ev.created_at
    if new == Status.CLOSED:
        ticket.closed_at = ticket.status_changed_at
    return ev


def set_status(session: Session, ticket_id: int, status: str | Status, actor: str) -> Change:
    ticket = get_ticket(session, ticket_id, for_update=True)
    new = parse_enum(Status, status, "status")
    current = Status(ticket.status)
    if new == current:
        return Change(ticket)
    if new == Status.RESOLVED:
        raise InvalidTransition(
            f"{ticket.key}: resolving needs a resolution; use Resolve",
            ticket=ticket.key,
            before=current,
            after=new,
        )
    if new not in _ALLOWED[current]:
        raise InvalidTransition(
            f"{ticket.key} cannot go from {current.value} to {new.value}"
            + ("; reopen it first" if current in (Status.RESOLVED, Status.CLOSED) else ""),
            ticket=ticket.key,
            before=current.value,
            after=new.value,
        )
    return Change(ticket, [_set_status(ticket, actor, new)])


def assign(session: Session, ticket_id: int, assignee: str | None, actor: str) -> Change:
    ticket = get_ticket(session, ticket_id, for_update=True)
    if ticket.assignee_id == assignee:
        return Change(ticket)
    if assignee is not None:
        ensure_user(session, assignee)
    events = [_event(ticket, actor, "assigned", "assignee", ticket.assignee_id, assignee)]
    ticket.assignee_id = assignee
    if assignee and ticket.status == Status.NEW:
        events.append(_set_status(ticket, actor, Status.TRIAGED))
    return Change(ticket, events)


def set_priority(session: Session, ticket_id: int, priority: str | Priority, actor: str) -> Change:
    ticket = get_ticket(session, ticket_id, for_update=True)
    new = parse_enum(Priority, priority, "priority")
    if ticket.priority == new:
        return Change(ticket)
    ev = _event(ticket, actor, "priority", "priority", ticket.priority, new.value)
    ticket.priority = new.value
    ticket.overdue_notified_at = None  # a new SLA: remind again if this one is missed too
    return Change(ticket, [ev])


def claim_announcement(session: Session, ticket_id: int) -> bool:
    """True exactly once per ticket: the caller then sends the confirmation and the triage post."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.announced_at.is_(None))
        .values(announced_at=utcnow())
    )
    return result.rowcount == 1


def set_triage_message(session: Session, ticket_id: int, channel: str, ts: str) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    ticket.triage_channel, ticket.triage_ts = channel, ts
    return ticket


def set_reporter_thread(session: Session, ticket_id: int, channel: str, ts: str) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    ticket.reporter_channel, ticket.reporter_ts = channel, ts
    return ticket


def ticket_in_reporter_thread(session: Session, channel: str, thread_ts: str) -> Ticket | None:
    """The ticket whose confirmation DM starts this thread, if any."""
    return session.scalars(
        select(Ticket).where(Ticket.reporter_channel == channel, Ticket.reporter_ts == thread_ts)
    ).first()


def add_comment(session: Session, ticket_id: int, author: str, body: str) -> Change:
    """A comment; a reporter's reply while we wait on them puts the ticket back in progress."""
    text = _clean_text(body, "comment", COMMENT_MAX, required=True)
    ticket = get_ticket(session, ticket_id, for_update=True)
    ticket.comments.append(Comment(author_id=author, body=text, created_at=utcnow()))
    events = [_event(ticket, author, "commented", None, None, text[:500])]
    if ticket.status == Status.WAITING and author == ticket.reporter_id:
        events.append(_set_status(ticket, author, Status.IN_PROGRESS, kind="reporter_replied"))
    return Change(ticket, events)


def followers(session: Session, ticket: Ticket) -> list[Ticket]:
    """Tickets merged into this one (recursively): their reporters hear the outcome too."""
    out: list[Ticket] = []
    frontier = [ticket.id]
    while frontier:
        dups = list(session.scalars(select(Ticket).where(Ticket.duplicate_of_id.in_(frontier))))
        out.extend(dups)
        frontier = [d.id for d in dups]
    return out


def resolve_ticket(
    session: Session,
    ticket_id: int,
    resolution: str,
    actor: str,
    *,
    now: dt.datetime | None = None,
    csat_cooldown_days: float = CSAT_COOLDOWN_DAYS,
    csat_window_days: float = CSAT_WINDOW_DAYS,
) -> list[ClosureNotice]:
    """Resolve with a resolution text; returns the closure notices to send (reporter and duplicates').

    In the same transaction it decides who is asked to rate: everyone told, except people asked (for
    any ticket) within the last `csat_cooldown_days` (0 = ask every time). Each ask is a
    `RatingRequest` open for `csat_window_days`, with a "rating_requested" event on its ticket."""
    text = _clean_text(resolution, "resolution", RESOLUTION_MAX, required=True)
    now = now or utcnow()
    ticket = get_ticket(session, ticket_id, for_update=True)
    current = Status(ticket.status)
    if current not in OPEN_STATUSES:
        raise InvalidTransition(
            f"{ticket.key} is already {current.value}",
            ticket=ticket.key,
            before=current.value,
            after=Status.RESOLVED.value,
        )
    _event(ticket, actor, "resolution", "resolution", ticket.resolution, text, at=now)
    ticket.resolution = text
    ticket.resolved_by = actor
    ticket.resolved_at = now
    _set_status(ticket, actor, Status.RESOLVED, kind="resolved", at=now)  # the SLA clock reads it
    _ask_for_ratings(session, ticket, now, csat_cooldown_days, csat_window_days)
    return closure_notices(session, ticket)


def _told(session: Session, ticket: Ticket) -> list[tuple[Ticket, str, str]]:
    """(ticket the notice is about, recipient, reason) for a resolution: the reporter, then the
    reporters of tickets merged into it, each person once."""
    told = [(ticket, ticket.reporter_id, "resolved")]
    seen = {ticket.reporter_id}
    for dup in followers(session, ticket):
        if dup.reporter_id not in seen:
            seen.add(dup.reporter_id)
            told.append((dup, dup.reporter_id, "duplicate_resolved"))
    return told


def _ask_for_ratings(
    session: Session, ticket: Ticket, now: dt.datetime, cooldown_days: float, window_days: float
) -> None:
    told = _told(session, ticket)
    # Write first (SQLite then holds its write lock), then lock the recipients' rows in a fixed order
    # (PostgreSQL): two resolutions for one person, in any two processes, decide one after the other.
    session.flush()
    recipients = sorted({recipient for _, recipient, _ in told})
    for recipient in recipients:
        ensure_user(session, recipient)
    session.flush()
    session.execute(
        select(User.slack_user_id)
        .where(User.slack_user_id.in_(recipients))
        .order_by(User.slack_user_id)
        .with_for_update()
    ).all()
    since = now - dt.timedelta(days=cooldown_days)
    for about, recipient, _ in told:
        if cooldown_days > 0 and asked_since(session, recipient, since):
            continue
        open_until = now + dt.timedelta(days=window_days)
        session.add(
            RatingRequest(ticket_id=about.id, recipient=recipient, asked_at=now, open_until=open_until)
        )
        _event(about, "system", "rating_requested", None, None, recipient)
        session.flush()


def asked_since(session: Session, recipient: str, since: dt.datetime) -> bool:
    """Was `recipient` asked to rate any closure after `since`? (the CSAT cooldown)"""
    stmt = select(RatingRequest.id).where(
        RatingRequest.recipient == recipient, RatingRequest.asked_at > since
    )
    return session.scalar(stmt.limit(1)) is not None


def latest_rating_request(session: Session, ticket_id: int) -> RatingRequest | None:
    return session.scalar(
        select(RatingRequest)
        .where(RatingRequest.ticket_id == ticket_id)
        .order_by(RatingRequest.id.desc())
        .limit(1)
    )


def rating_state(session: Session, ticket_id: int) -> RatingState | None:
    """The rating its current resolution asked for (a duplicate: its original's), as plain values; None
    when that resolution did not ask (the cooldown) or there is none."""
    ticket = get_ticket(session, ticket_id)
    root = ticket
    while root.duplicate_of_id is not None:
        root = get_ticket(session, root.duplicate_of_id)
    if root.resolved_at is None:
        return None
    request = session.scalar(
        select(RatingRequest)
        .where(RatingRequest.ticket_id == ticket.id, RatingRequest.asked_at >= root.resolved_at)
        .order_by(RatingRequest.id.desc())
        .limit(1)
    )
    return None if request is None else RatingState(request.rating, request.open_until)


def closure_notices(session: Session, ticket: Ticket) -> list[ClosureNotice]:
    """Who hears about a resolution: the reporter, and the reporters of tickets merged into it.

    A notice asks for a rating when the resolution made a rating request for its recipient."""
    notices = []
    for about, recipient, reason in _told(session, ticket):
        until = None
        if ticket.resolved_at is not None:
            until = session.scalar(
                select(RatingRequest.open_until).where(
                    RatingRequest.ticket_id == about.id,
                    RatingRequest.recipient == recipient,
                    RatingRequest.asked_at >= ticket.resolved_at,
                )
            )
        notices.append(ClosureNotice(about, recipient, reason, ticket.resolved_by, rating_until=until))
    return notices


def reopen_ticket(session: Session, ticket_id: int, actor: str, reason: str | None = None) -> Change:
    """Back to work: in progress when someone owns it, otherwise back to triage."""
    ticket = get_ticket(session, ticket_id, for_update=True)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise InvalidTransition(
            f"{ticket.key} is {ticket.status}, not resolved or closed",
            ticket=ticket.key,
            before=ticket.status,
        )
    if ticket.duplicate_of_id is not None:
        raise InvalidTransition(
            f"{ticket.key} was merged as a duplicate; reopen the original instead", ticket=ticket.key
        )
    target = Status.IN_PROGRESS if ticket.assignee_id else Status.TRIAGED
    events = [_set_status(ticket, actor, target, kind="reopened")]
    if reason:
        events.append(_event(ticket, actor, "reopen_reason", None, None, reason[:500]))
    ticket.closed_at = None
    ticket.overdue_notified_at = None
    return Change(ticket, events)


def confirm_fixed(session: Session, ticket_id: int, actor: str) -> Change:
    """The reporter says "That fixed it": a resolved ticket becomes closed."""
    ticket = get_ticket(session, ticket_id, for_update=True)
    if actor != ticket.reporter_id:
        raise NotAllowed(f"only the reporter may confirm {ticket.key}", user=actor, ticket=ticket.key)
    if ticket.status == Status.CLOSED:
        return Change(ticket)
    if ticket.status != Status.RESOLVED:
        raise InvalidTransition(
            f"{ticket.key} is {ticket.status}, not resolved", ticket=ticket.key, before=ticket.status
        )
    return Change(ticket, [_set_status(ticket, actor, Status.CLOSED, kind="confirmed")])


def rate_ticket(
    session: Session, ticket_id: int, actor: str, rating: int | str, *, now: dt.datetime | None = None
) -> Change:
    """The reporter's 1-5 satisfaction rating of a resolved ticket, on its latest rating request.

    Changeable (a new rating replaces the last, with its own "rated" event) until the request's window
    closes; after that, or when the reporter was never asked, `RatingClosed` and nothing is stored."""
    now = now or utcnow()
    ticket = get_ticket(session, ticket_id, for_update=True)
    if actor != ticket.reporter_id:
        raise NotAllowed(f"only the reporter may rate {ticket.key}", user=actor, ticket=ticket.key)
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidTicket("bad_rating", f"rating must be 1 to 5, got {rating!r}", value=rating)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise InvalidTransition(f"{ticket.key} is not resolved yet; rate it afterwards", ticket=ticket.key)
    request = latest_rating_request(session, ticket.id)
    if request is None:
        raise RatingClosed(
            f"{ticket.key}: its reporter was not asked to rate it", ticket=ticket.key, until=None
        )
    if now >= request.open_until:
        raise RatingClosed(
            f"{ticket.key}: the rating window closed at {request.open_until:%Y-%m-%d %H:%M} UTC",
            ticket=ticket.key,
            until=request.open_until,
        )
    if request.rating == value:
        return Change(ticket)  # a double click
    ev = _event(ticket, actor, "rated", "satisfaction", request.rating, value)
    request.rating, request.rated_at = value, now
    ticket.satisfaction, ticket.satisfaction_at = value, now
    return Change(ticket, [ev])


def rating_counts(session: Session, since: dt.datetime, until: dt.datetime) -> RatingCounts:
    """Requests sent in [since, until) and how many are rated so far; the ratings given in the period."""
    asked, answered = session.execute(
        select(func.count(), func.count(RatingRequest.rating)).where(
            RatingRequest.asked_at >= since, RatingRequest.asked_at < until
        )
    ).one()
    ratings = session.scalars(
        select(RatingRequest.rating).where(
            RatingRequest.rating.is_not(None), RatingRequest.rated_at >= since, RatingRequest.rated_at < until
        )
    )
    return RatingCounts(asked=asked, answered=answered, ratings=tuple(ratings))


def merge_duplicate(session: Session, duplicate_id: int, original_id: int, actor: str) -> Change:
    """Close `duplicate_id` as a duplicate of `original_id`; the original counts everyone affected."""
    if duplicate_id == original_id:
        raise InvalidTransition("a ticket cannot be a duplicate of itself")
    # Lock in id order so two opposite merges cannot deadlock.
    first, second = sorted((duplicate_id, original_id))
    locked = {
        first: get_ticket(session, first, for_update=True),
        second: get_ticket(session, second, for_update=True),
    }
    dup, orig = locked[duplicate_id], locked[original_id]
    while orig.duplicate_of_id is not None:  # merge into the root of a chain
        orig = get_ticket(session, orig.duplicate_of_id, for_update=True)
        if orig.id == dup.id:
            raise InvalidTransition(f"{orig.key} is already merged into {dup.key}")
    if dup.duplicate_of_id is not None:
        raise InvalidTransition(f"{dup.key} is already a duplicate", ticket=dup.key)
    if dup.status not in OPEN_STATUSES:
        raise InvalidTransition(f"{dup.key} is {dup.status}; only open tickets can be merged", ticket=dup.key)
    if orig.status == Status.CLOSED:
        raise InvalidTransition(f"{orig.key} is closed; reopen it before merging into it", ticket=orig.key)
    dup.duplicate_of_id = orig.id
    events = [_event(dup, actor, "merged", "duplicate_of", None, orig.key)]
    dup.resolution = f"duplicate of {orig.key}"
    events.append(_set_status(dup, actor, Status.CLOSED))
    before = orig.affected_count
    orig.affected_count = before + dup.affected_count
    events.append(_event(orig, actor, "duplicate_added", "affected_count", before, orig.affected_count))
    return Change(orig, events)


# ----------------------------------------------------------------------------------- scheduled jobs


def _sla_clock(ticket: Ticket, now: dt.datetime) -> tuple[dt.timedelta, str | None]:
    """(time on the SLA clock, status) as of `now`, from the status events up to then; status None when
    the ticket did not exist yet."""
    if ticket.created_at > now:
        return dt.timedelta(0), None
    running = {s.value for s in SLA_STATUSES}
    changes = sorted(
        (e for e in ticket.events if e.field == "status" and e.created_at <= now),
        key=lambda e: (e.created_at, e.id or 0),
    )
    elapsed, status, since = dt.timedelta(0), Status.NEW.value, ticket.created_at
    for ev in changes:
        if status in running:
            elapsed += max(ev.created_at - since, dt.timedelta(0))
        status, since = ev.after, ev.created_at
    if status in running:
        elapsed += max(now - since, dt.timedelta(0))
    return elapsed, status


def sla_elapsed(ticket: Ticket, now: dt.datetime) -> dt.timedelta:
    """Time on the ticket's SLA clock at `now`: since it was reported, less the spells it was out of
    support's hands (waiting on the reporter; resolved or closed before a reopen), read off its status
    events."""
    return _sla_clock(ticket, now)[0]


def sla_overdue_by(ticket: Ticket, now: dt.datetime, hours: float) -> dt.timedelta | None:
    """How far past its SLA of `hours` the ticket's clock is at `now`; None while within it or paused."""
    elapsed, status = _sla_clock(ticket, now)
    if status not in {s.value for s in SLA_STATUSES}:
        return None
    late = elapsed - dt.timedelta(hours=hours)
    return late if late > dt.timedelta(0) else None


def overdue_tickets(
    session: Session, now: dt.datetime, sla_hours: dict[str, float]
) -> list[tuple[Ticket, dt.timedelta]]:
    """Tickets whose SLA clock (`sla_elapsed`, per priority) had run out at `now`, most overdue first.
    `now` may be past (a digest's period end): status changes since then do not count."""
    out = []
    running = [s.value for s in SLA_STATUSES]
    stmt = (
        select(Ticket)
        .where(
            Ticket.created_at <= now,
            # Running now, or changed since `now` (so possibly running then).
            Ticket.status.in_(running) | (Ticket.status_changed_at > now),
        )
        .options(selectinload(Ticket.events))
    )
    for ticket in session.scalars(stmt):
        hours = sla_hours.get(ticket.priority)
        late = None if hours is None else sla_overdue_by(ticket, now, hours)
        if late is not None:
            out.append((ticket, late))
    out.sort(key=lambda pair: (-pair[1], pair[0].number))
    return out


def sla_reminders(
    session: Session, now: dt.datetime, sla_hours: dict[str, float], *, repeat_after_hours: float = 24
) -> list[OverdueReminder]:
    """The overdue tickets nobody was reminded of lately; marks them reminded (with an audit event)."""
    reminders = []
    for ticket, late in overdue_tickets(session, now, sla_hours):
        last = ticket.overdue_notified_at
        if last is not None and now - last < dt.timedelta(hours=repeat_after_hours):
            continue
        _event(ticket, "system", "sla_overdue", None, None, f"{late.total_seconds() / 3600:.1f}h")
        ticket.overdue_notified_at = now
        reminders.append(OverdueReminder(ticket, ticket.assignee_id, late, sla_hours[ticket.priority]))
    return reminders


def close_stale_waiting(session: Session, now: dt.datetime, days: float) -> list[ClosureNotice]:
    """Close tickets waiting on their reporter for more than `days` with no reply; notices to send."""
    cutoff = now - dt.timedelta(days=days)
    stmt = select(Ticket).where(Ticket.status == Status.WAITING.value, Ticket.status_changed_at < cutoff)
    notices = []
    for ticket in session.scalars(stmt.order_by(Ticket.number)):
        _set_status(ticket, "system", Status.CLOSED, kind="stale_closed")
        notices.append(ClosureNotice(ticket, ticket.reporter_id, "stale_closed"))
    return notices
