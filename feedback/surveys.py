"""Satisfaction surveys: definitions (YAML), rounds, deliveries, reminders and responses.

A survey is defined in `surveys.yaml` under the data dir. Each scheduled firing opens a `SurveyRound`
holding a snapshot of the definition and one `SurveyDelivery` row per person in the audience. Sending
is a fan-out that claims each delivery row (compare-and-set on its status) before calling the sender,
so two processes, or one process resuming after a crash, never send the same person twice.

A round has several reminders (`reminders: [3d, 5d]`: day 3 and day 5 after the send), one
`SurveyReminder` row each. A delivery counts the reminders it was sent (`last_reminder`, `reminders_sent`)
and is claimed per reminder by a compare-and-set on that count, so each non-responder gets each due
reminder at most once, and one catch-up rather than a burst after downtime (see `send_reminders`).

Anonymous surveys keep "who has answered" (on the delivery, for reminders) apart from "what was
answered" (`SurveyResponse`, with no user id). Neither keeps when: both carry the round's scheduled time,
so an answer cannot be matched with a person by the day they answered (a day held the one answer after
a reminder). The role is kept for breakdowns, which the digest shows only for groups of 5 and more; in
the database a one-person role, or the order of the rows, can still point at someone.

Nothing here talks to Slack: the caller passes a `send(Outgoing) -> Sent` function.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, Database, UTCDateTime, utcnow
from feedback.people import User, users_with_roles
from feedback.scheduler import SendWindow, worker_name

log = logging.getLogger(__name__)

QUESTION_TYPES = ("satisfaction", "nps", "module_rating", "text")
SCALES = {"satisfaction": (1, 5), "nps": (0, 10), "module_rating": (1, 5)}
TEXT_LIMIT = 2000
# A delivery claimed longer ago than this belongs to a process that died mid-send.
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# Deliveries claimed per transaction during a fan-out. 1 = a crash leaves at most one person "uncertain";
# ~100 messages/s on SQLite or PostgreSQL here, above what Slack lets a workspace post anyway. 10 triples
# the local rate (benchmarks/fanout.py) at the cost of up to 10 uncertain people after a crash.
CLAIM_CHUNK = 1


# ---------------------------------------------------------------------------------------------------
# Definitions


class SurveyConfigError(ValueError):
    """surveys.yaml cannot be used as written; the message names the survey and the field."""


Localized = dict[str, str]


def localized(value: Localized | str, lang: str) -> str:
    """Pick `lang` from a {"zh-CN": ..., "en": ...} mapping (falling back sensibly) or return the str."""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get("zh-CN") or value.get("en") or next(iter(value.values()), "")


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Localized
    modules: tuple[tuple[str, Localized], ...] = ()  # module_rating: (module id, label)
    optional: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "text": self.text,
            "modules": [[m, label] for m, label in self.modules],
            "optional": self.optional,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(
            id=data["id"],
            type=data["type"],
            text=data["text"],
            modules=tuple((m, label) for m, label in data.get("modules", [])),
            optional=data.get("optional", False),
        )


@dataclass(frozen=True)
class Survey:
    id: str
    title: Localized
    schedule: str  # cron, five fields, in the company's time zone
    questions: tuple[Question, ...]
    audience: tuple[str, ...] = ()  # roles; empty = everyone
    window: dt.timedelta = dt.timedelta(days=5)
    # Reminders to non-responders, as offsets after the send, ascending, each inside the window.
    reminders: tuple[dt.timedelta, ...] = (dt.timedelta(days=3),)
    anonymous: bool = True
    paused: bool = False

    def trigger(self, tz: str) -> CronTrigger:
        return CronTrigger.from_crontab(self.schedule, timezone=tz)


_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_ID = re.compile(r"^[\w-]{1,60}$")  # ids become Slack block ids "q:<question>:<module>"


def parse_duration(text: str | int) -> dt.timedelta:
    """`"5d"`, `"36h"`, `"90m"` -> timedelta; a bare number means days."""
    if isinstance(text, int):
        return dt.timedelta(days=text)
    match = _DURATION.match(str(text))
    if not match:
        raise SurveyConfigError(f"duration {text!r}: write e.g. 5d, 36h or 90m")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "d": dt.timedelta(days=amount),
        "h": dt.timedelta(hours=amount),
        "m": dt.timedelta(minutes=amount),
    }[unit]


# Officevibe's rhythm: remind non-responders on day 3 and day 5 after the send.
DEFAULT_REMINDERS = (dt.timedelta(days=3), dt.timedelta(days=5))
_NONE = (None, False, "", "none", [])


def default_reminders(window: dt.timedelta) -> tuple[dt.timedelta, ...]:
    """The default reminders (day 3 and day 5) that fall inside `window`: both for 7d, day 3 for 5d."""
    return tuple(r for r in DEFAULT_REMINDERS if r < window)


def format_duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _text(value: Any, where: str) -> Localized:
    if isinstance(value, str) and value.strip():
        return {"zh-CN": value, "en": value}
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise SurveyConfigError(f"{where}: give a text, or a mapping like {{zh-CN: ..., en: ...}}")


def parse_survey(raw: dict[str, Any], roles: Iterable[str] | None = None) -> Survey:
    """One survey from its YAML mapping, validated; raises SurveyConfigError naming what is wrong."""
    if not isinstance(raw, dict) or not raw.get("id"):
        raise SurveyConfigError("every survey needs an `id`")
    sid = str(raw["id"])
    where = f"survey {sid!r}"
    schedule = str(raw.get("schedule", "")).strip()
    try:
        CronTrigger.from_crontab(schedule)
    except ValueError as exc:
        raise SurveyConfigError(
            f"{where}: schedule {schedule!r} is not a cron line (e.g. '0 10 * * mon')"
        ) from exc
    audience_raw = raw.get("audience", "all")
    if not (
        isinstance(audience_raw, str | None)
        or (isinstance(audience_raw, list) and all(isinstance(r, str) for r in audience_raw))
    ):
        raise SurveyConfigError(f"{where}: audience is `all`, a role, or a list of roles")
    if audience_raw in ("all", None, []):
        audience: tuple[str, ...] = ()
    else:
        audience = tuple([audience_raw] if isinstance(audience_raw, str) else audience_raw)
        unknown = [r for r in audience if roles is not None and r not in set(roles)]
        if unknown:
            raise SurveyConfigError(
                f"{where}: unknown audience role(s) {unknown}; known: {sorted(roles or [])}"
            )
    questions = []
    seen: set[str] = set()
    raw_questions = raw.get("questions") or []
    if not isinstance(raw_questions, list):
        raise SurveyConfigError(f"{where}: `questions` must be a list, one `- id: ...` per question")
    for i, q in enumerate(raw_questions):
        if not isinstance(q, dict):
            raise SurveyConfigError(
                f"{where}, question {i + 1}: give its fields (id, type, text), not {str(q)[:40]!r}"
            )
        qid = str(q.get("id") or f"q{i + 1}")
        if not _ID.match(qid):
            raise SurveyConfigError(f"{where}: question id {qid!r} may use letters, digits, - and _ only")
        qtype = q.get("type")
        if qtype not in QUESTION_TYPES:
            raise SurveyConfigError(
                f"{where}, question {qid!r}: type must be one of {', '.join(QUESTION_TYPES)}"
            )
        if qid in seen:
            raise SurveyConfigError(f"{where}: question id {qid!r} is used twice")
        seen.add(qid)
        modules: list[tuple[str, Localized]] = []
        if qtype == "module_rating":
            raw_modules = q.get("modules") or []
            if not isinstance(raw_modules, list) or not all(isinstance(m, str | dict) for m in raw_modules):
                raise SurveyConfigError(
                    f"{where}, question {qid!r}: `modules` must be a list of ids or of {{id, label}}"
                )
            for m in raw_modules:
                module_id = str(m if isinstance(m, str) else m.get("id", ""))
                if not _ID.match(module_id):
                    raise SurveyConfigError(
                        f"{where}: module id {module_id!r} may use letters, digits, - and _ only"
                    )
                if isinstance(m, str):
                    modules.append((m, {"zh-CN": m, "en": m}))
                else:
                    modules.append(
                        (str(m["id"]), _text(m.get("label", m["id"]), f"{where}, module {m.get('id')}"))
                    )
            if not modules:
                raise SurveyConfigError(
                    f"{where}, question {qid!r}: list the ERP modules to rate under `modules`"
                )
        questions.append(
            Question(
                id=qid,
                type=qtype,
                text=_text(q.get("text"), f"{where}, question {qid!r}"),
                modules=tuple(modules),
                optional=bool(q.get("optional", qtype == "text")),
            )
        )
    if not questions:
        raise SurveyConfigError(f"{where}: add at least one question")
    try:
        window = parse_duration(raw.get("window", "5d"))
    except SurveyConfigError as exc:
        raise SurveyConfigError(f"{where}: window: {exc}") from exc
    if window <= dt.timedelta(0):
        raise SurveyConfigError(f"{where}: window must be longer than 0 (e.g. 5d), not {raw.get('window')!r}")
    reminders = _parse_reminders(raw, window, where)
    return Survey(
        id=sid,
        title=_text(raw.get("title", sid), f"{where}, title"),
        schedule=schedule,
        questions=tuple(questions),
        audience=audience,
        window=window,
        reminders=reminders,
        anonymous=bool(raw.get("anonymous", True)),
        paused=bool(raw.get("paused", False)),
    )


def _parse_reminders(raw: dict[str, Any], window: dt.timedelta, where: str) -> tuple[dt.timedelta, ...]:
    """`reminders: [3d, 5d]` (after the send), or the older `remind_before: 2d` (one, before closing)."""
    if "reminders" in raw and "remind_before" in raw:
        raise SurveyConfigError(
            f"{where}: give `reminders` (after the send, e.g. [3d, 5d]) or the older `remind_before`, not both"
        )
    if "remind_before" in raw:
        before_raw = raw["remind_before"]
        if before_raw in _NONE:
            return ()
        before = parse_duration(before_raw)
        if not dt.timedelta(0) < before < window:
            raise SurveyConfigError(
                f"{where}: remind_before ({before_raw}) must be shorter than window ({format_duration(window)})"
            )
        return (window - before,)
    if "reminders" not in raw:
        return default_reminders(window)
    value = raw["reminders"]
    if value in _NONE:
        return ()
    items = value if isinstance(value, list) else [value]
    offsets = []
    for item in items:
        try:
            offset = parse_duration(item)
        except SurveyConfigError as exc:
            raise SurveyConfigError(f"{where}: reminders: {exc}") from exc
        if not dt.timedelta(0) < offset < window:
            raise SurveyConfigError(
                f"{where}: reminder {item} is outside the response window: each reminder is a time after "
                f"the send and must come before the round closes ({format_duration(window)} after the send)"
            )
        if offset in offsets:
            raise SurveyConfigError(f"{where}: reminder {item} is listed twice")
        offsets.append(offset)
    return tuple(sorted(offsets))


def copy_example_once(example: Path | None, path: Path) -> bool:
    """Copy a shipped example YAML to `path` unless the operator's file exists; True when it was copied."""
    if path.exists() or example is None or not example.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(example, path)
    return True


def read_yaml(path: Path, error: type[ValueError]) -> Any:
    """A config file's YAML: UTF-8 (with or without BOM), or GB18030/GBK as Chinese Windows editors save
    it. Problems raise `error` naming the file and what is wrong."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise error(f"{path}: not UTF-8 or GBK text; save it as UTF-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc


class SurveyCatalog:
    """The surveys in one YAML file; re-read when the file changes (the CLI edits it, the bot reads it)."""

    def __init__(self, path: Path, roles: Iterable[str] | None = None, example: Path | None = None) -> None:
        self.path = Path(path)
        self.roles = list(roles) if roles is not None else None
        self._example = example
        self._cache: tuple[float, list[Survey], dict[str | None, str]] | None = None

    def ensure_file(self) -> bool:
        """Copy the shipped example on first run; True when it was copied."""
        return copy_example_once(self._example, self.path)

    def mtime(self) -> float:
        return self.path.stat().st_mtime if self.path.exists() else 0.0

    def _raw(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"surveys": []}
        data = read_yaml(self.path, SurveyConfigError) or {}
        if not isinstance(data, dict) or not isinstance(data.get("surveys", []), list):
            raise SurveyConfigError(f"{self.path}: write `surveys:` followed by a list of surveys")
        data.setdefault("surveys", [])
        return data

    def all(self) -> list[Survey]:
        """The valid surveys. One with a mistake is left out (see `problems`) so that the others still
        run; a file that cannot be read at all raises SurveyConfigError."""
        return list(self._load()[0])

    def problems(self) -> dict[str | None, str]:
        """Survey id (None where there is none) -> what is wrong with it, for surveys left out."""
        return dict(self._load()[1])

    def _load(self) -> tuple[list[Survey], dict[str | None, str]]:
        mtime = self.mtime()
        if self._cache is None or self._cache[0] != mtime:
            surveys: list[Survey] = []
            problems: dict[str | None, str] = {}
            for raw in self._raw()["surveys"]:
                sid = str(raw["id"]) if isinstance(raw, dict) and raw.get("id") else None
                try:
                    survey = parse_survey(raw, self.roles)
                except SurveyConfigError as exc:
                    problems[sid] = str(exc)
                    continue
                except (TypeError, AttributeError, KeyError) as exc:  # a shape parse_survey did not foresee
                    problems[sid] = f"survey {sid!r}: cannot be read ({type(exc).__name__}: {exc})"
                    continue
                if any(s.id == survey.id for s in surveys):
                    problems[survey.id] = f"survey id {survey.id!r} is used twice; only the first is kept"
                    continue
                surveys.append(survey)
            self._cache = (mtime, surveys, problems)
        return self._cache[1], self._cache[2]

    def get(self, survey_id: str) -> Survey:
        surveys, problems = self._load()
        for survey in surveys:
            if survey.id == survey_id:
                return survey
        if survey_id in problems:
            raise SurveyConfigError(f"{self.path}: {problems[survey_id]}")
        raise LookupError(f"no survey {survey_id!r} in {self.path}; `erp-coach surveys list` shows the ids")

    def add(self, raw: dict[str, Any]) -> Survey:
        survey = parse_survey(raw, self.roles)
        data = self._raw()
        if any(str(s.get("id")) == survey.id for s in data["surveys"]):
            raise SurveyConfigError(f"a survey with id {survey.id!r} already exists")
        data["surveys"].append(raw)
        self._write(data)
        return survey

    def set_paused(self, survey_id: str, paused: bool) -> Survey:
        data = self._raw()
        for raw in data["surveys"]:
            if str(raw.get("id")) == survey_id:
                raw["paused"] = paused
                self._write(data)
                return self.get(survey_id)
        raise LookupError(f"no survey {survey_id!r} in {self.path}")

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        tmp.replace(self.path)
        self._cache = None


# ---------------------------------------------------------------------------------------------------
# Storage


class RoundStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for quiet hours / the next working day
    SENDING = "sending"
    OPEN = "open"  # everyone reached; collecting answers
    CLOSED = "closed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; the Slack call is in flight
    SENT = "sent"
    # The worker died between claiming and recording the send: it may or may not have arrived. We do not
    # resend (nobody may get a survey twice); the reminder still reaches them.
    UNCERTAIN = "uncertain"
    FAILED = "failed"  # Slack refused (user deactivated, ...)
    SKIPPED = "skipped"  # the round closed before their quiet hours ended


class SurveyRound(Base):
    __tablename__ = "survey_rounds"
    __table_args__ = (
        UniqueConstraint("survey_id", "scheduled_for", name="uq_survey_rounds_survey_id_scheduled_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(100), index=True)
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    send_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.SCHEDULED, index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    # The definition as it was when the round opened: later edits of the YAML don't change a running round.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    audience_size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def title(self) -> Localized:
        return self.definition["title"]

    @property
    def questions(self) -> list[Question]:
        return [Question.from_json(q) for q in self.definition["questions"]]


class SurveyReminder(Base):
    """One planned reminder of a round: its number (1, 2, ...) and when it is due (the send + offset)."""

    __tablename__ = "survey_reminders"
    __table_args__ = (UniqueConstraint("round_id", "number", name="uq_survey_reminders_round_id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SurveyDelivery(Base):
    """Who was sent a round, when, whether reminded, and whether they answered (not what)."""

    __tablename__ = "survey_deliveries"
    __table_args__ = (
        UniqueConstraint("round_id", "slack_user_id", name="uq_survey_deliveries_round_id_slack_user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    # The reminder claim, like `status` for the invitation: None (none yet), "sending" (claimed, the
    # Slack call is in flight), "sent" (the latest one went out), "failed" (Slack refused; no more).
    reminder_status: Mapped[str | None] = mapped_column(String(16))
    # The number of the round's latest reminder this person was sent (0 = none yet). A catch-up after
    # downtime jumps straight to the reminder due now, so it may skip numbers.
    last_reminder: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How many reminder DMs this person actually got (or that may have arrived, after a crash).
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Anonymous rounds keep the round's scheduled time, not when: it must not match an answer's time.
    responded_on: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SurveyResponse(Base):
    """What was answered. Anonymous rounds: `slack_user_id` is NULL and `submitted_at` is the round's
    scheduled time."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(32))  # for breakdowns; hidden below 5 respondents
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Rounds


def open_round(
    db: Database,
    survey: Survey,
    scheduled_for: dt.datetime,
    window: SendWindow,
    now: dt.datetime | None = None,
) -> SurveyRound:
    """The round of `survey` for `scheduled_for`, created with its audience on first call (idempotent).

    Two replicas opening the same round race on the unique (survey_id, scheduled_for); the loser reads
    the winner's round.
    """
    now = now or utcnow()
    with db.begin() as session:
        existing = session.scalar(
            select(SurveyRound).where(
                SurveyRound.survey_id == survey.id, SurveyRound.scheduled_for == scheduled_for
            )
        )
        if existing is not None:
            return existing
    send_after = window.next_send_time(max(scheduled_for, now)).astimezone(dt.UTC)
    closes_at = send_after + survey.window
    definition = {
        "id": survey.id,
        "title": survey.title,
        "questions": [q.to_json() for q in survey.questions],
        "anonymous": survey.anonymous,
        "audience": list(survey.audience),
    }
    try:
        with db.begin() as session:
            people = users_with_roles(session, list(survey.audience) or None)
            round_ = SurveyRound(
                survey_id=survey.id,
                scheduled_for=scheduled_for,
                send_after=send_after,
                closes_at=closes_at,
                status=RoundStatus.SCHEDULED,
                anonymous=survey.anonymous,
                definition=definition,
                audience_size=len(people),
            )
            session.add(round_)
            session.flush()
            session.add_all(
                SurveyReminder(round_id=round_.id, number=i, due_at=send_after + offset)
                for i, offset in enumerate(survey.reminders, start=1)
            )
            if people:
                session.execute(
                    SurveyDelivery.__table__.insert(),
                    [
                        {"round_id": round_.id, "slack_user_id": p.slack_user_id, "status": "pending"}
                        for p in people
                    ],
                )
            return round_
    except IntegrityError:
        with db.begin() as session:
            return session.scalars(
                select(SurveyRound).where(
                    SurveyRound.survey_id == survey.id, SurveyRound.scheduled_for == scheduled_for
                )
            ).one()


@dataclass(frozen=True)
class Outgoing:
    """One message to send: a survey invitation or a reminder, to one person."""

    kind: str  # "survey" or "reminder"
    round_id: int
    slack_user_id: str
    lang: str
    title: Localized
    questions: tuple[Question, ...]
    anonymous: bool
    closes_at: dt.datetime
    reminder: int = 0  # a reminder: which of the round's reminders (1-based)...
    reminders: int = 0  # ...of how many
    at: dt.datetime | None = None  # when it is being sent (for "closes in 2 days")

    @property
    def last_reminder(self) -> bool:
        """The round's last reminder (of several): no other one will follow."""
        return self.kind == "reminder" and self.reminders > 1 and self.reminder == self.reminders


@dataclass(frozen=True)
class Sent:
    channel_id: str
    message_ts: str


class DeliveryFailed(Exception):
    """Raised by a sender. `sent_maybe`: the request may have reached Slack (e.g. a timeout);
    `retry`: nothing was sent and a later attempt may succeed (e.g. Slack is down)."""

    def __init__(self, reason: str, *, retry: bool = False, sent_maybe: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.sent_maybe = sent_maybe


Sender = Callable[[Outgoing], Sent]


@dataclass
class FanOutReport:
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    deferred: int = 0  # held back by the person's quiet hours (or, reminders, too soon after the last DM)
    skipped_claimed: int = 0  # another worker had it
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)


def _people_info(session: Session, user_ids: list[str]) -> dict[str, User]:
    if not user_ids:
        return {}
    return {u.slack_user_id: u for u in session.scalars(select(User).where(User.slack_user_id.in_(user_ids)))}


def release_stale_claims(db: Database, now: dt.datetime | None = None) -> int:
    """Deliveries claimed by a process that died mid-send become 'uncertain' (never resent)."""
    cutoff = (now or utcnow()) - CLAIM_TIMEOUT
    with db.begin() as session:
        first = session.execute(
            update(SurveyDelivery)
            .where(SurveyDelivery.status == DeliveryStatus.SENDING, SurveyDelivery.claimed_at < cutoff)
            .values(status=DeliveryStatus.UNCERTAIN, error="claimed by a process that stopped mid-send")
        ).rowcount
        # A reminder that may have gone out is simply considered sent (never resent; the next one is
        # spaced from it as if it had arrived).
        second = session.execute(
            update(SurveyDelivery)
            .where(SurveyDelivery.reminder_status == "sending", SurveyDelivery.claimed_at < cutoff)
            .values(
                reminder_status="sent",
                reminders_sent=SurveyDelivery.reminders_sent + 1,
                reminded_at=SurveyDelivery.claimed_at,
            )
        ).rowcount
    return first + second


def fan_out(
    db: Database,
    round_id: int,
    send: Sender,
    window: SendWindow,
    now: Callable[[], dt.datetime] = utcnow,
    batch: int = 200,
    max_consecutive_errors: int = 5,
    claim_chunk: int = CLAIM_CHUNK,
) -> FanOutReport:
    """Send round `round_id` to everyone in its audience not yet reached; safe to run concurrently.

    Deliveries are claimed `claim_chunk` at a time (one commit), sent, then recorded (one commit). A process
    killed mid-chunk leaves at most `claim_chunk` deliveries "uncertain": never resent (nobody gets a survey
    twice), and the reminder still reaches them.
    People whose own time zone is in quiet hours (or on a non-working day) stay pending for a later call.
    """
    report = FanOutReport()
    me = worker_name()
    with db.begin() as session:
        round_ = session.get(SurveyRound, round_id)
        if round_ is None or round_.status == RoundStatus.CLOSED:
            report.stopped = "closed"
            return report
        if round_.send_after > now():
            report.stopped = "not yet"
            return report
        if round_.status == RoundStatus.SCHEDULED:
            round_.status = RoundStatus.SENDING
        questions = tuple(round_.questions)
        title, anonymous, closes_at = round_.title, round_.anonymous, round_.closes_at
    last_id = 0
    consecutive_errors = 0
    while True:
        with db.begin() as session:
            rows = session.execute(
                select(SurveyDelivery.id, SurveyDelivery.slack_user_id)
                .where(
                    SurveyDelivery.round_id == round_id,
                    SurveyDelivery.status == DeliveryStatus.PENDING,
                    SurveyDelivery.id > last_id,
                )
                .order_by(SurveyDelivery.id)
                .limit(batch)
            ).all()
            people = _people_info(session, [r.slack_user_id for r in rows])
        if not rows:
            break
        last_id = rows[-1].id
        moment = now()
        eligible = []
        for delivery_id, user_id in rows:
            person = people.get(user_id)
            if window.allows(moment, person.tz if person else None):
                eligible.append((delivery_id, user_id))
            else:
                report.deferred += 1
        held = window.in_dnd([user_id for _, user_id in eligible], moment)
        if held:  # their own do-not-disturb: pending, for a later call
            report.deferred += sum(1 for _, user_id in eligible if user_id in held)
            eligible = [(d, user_id) for d, user_id in eligible if user_id not in held]
        for start in range(0, len(eligible), claim_chunk):
            chunk = eligible[start : start + claim_chunk]
            claimed = _claim_chunk(db, [d for d, _ in chunk], me, now())
            report.skipped_claimed += len(chunk) - len(claimed)
            outcomes: list[tuple[int, dict[str, Any]]] = []
            stop = None
            for delivery_id, user_id in chunk:
                if delivery_id not in claimed:
                    continue
                if stop is not None:  # Slack is down: hand the rest of the chunk back, untouched
                    outcomes.append((delivery_id, {"status": DeliveryStatus.PENDING, "claimed_by": None}))
                    continue
                person = people.get(user_id)
                outgoing = Outgoing(
                    "survey",
                    round_id,
                    user_id,
                    person.language if person else "zh-CN",
                    title,
                    questions,
                    anonymous,
                    closes_at,
                )
                try:
                    sent = send(outgoing)
                except DeliveryFailed as exc:
                    status = (
                        DeliveryStatus.UNCERTAIN
                        if exc.sent_maybe
                        else DeliveryStatus.PENDING
                        if exc.retry
                        else DeliveryStatus.FAILED
                    )
                    outcomes.append((delivery_id, {"status": status, "error": exc.reason[:200]}))
                    report.errors.append(f"{user_id}: {exc.reason}")
                    if status == DeliveryStatus.FAILED:
                        report.failed += 1
                    elif status == DeliveryStatus.UNCERTAIN:
                        report.uncertain += 1
                    if exc.retry:
                        consecutive_errors += 1
                        if consecutive_errors >= max_consecutive_errors:
                            stop = f"stopped after {consecutive_errors} errors in a row: {exc.reason}"
                    continue
                consecutive_errors = 0
                outcomes.append(
                    (
                        delivery_id,
                        {
                            "status": DeliveryStatus.SENT,
                            "sent_at": now(),
                            "channel_id": sent.channel_id,
                            "message_ts": sent.message_ts,
                        },
                    )
                )
                report.sent += 1
            _record_outcomes(db, outcomes)
            if stop is not None:
                report.stopped = stop
                return report
    with db.begin() as session:
        remaining = session.scalar(
            select(func.count())
            .select_from(SurveyDelivery)
            .where(
                SurveyDelivery.round_id == round_id,
                SurveyDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
        )
        if not remaining:
            session.execute(
                update(SurveyRound)
                .where(SurveyRound.id == round_id, SurveyRound.status == RoundStatus.SENDING)
                .values(status=RoundStatus.OPEN)
            )
    return report


def _claim_chunk(db: Database, delivery_ids: list[int], me: str, moment: dt.datetime) -> set[int]:
    """Compare-and-set pending -> sending for each id, in one transaction; returns the ids we won."""
    won = set()
    with db.begin() as session:
        for delivery_id in delivery_ids:
            result = session.execute(
                update(SurveyDelivery)
                .where(SurveyDelivery.id == delivery_id, SurveyDelivery.status == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.SENDING, claimed_by=me, claimed_at=moment)
            )
            if result.rowcount == 1:
                won.add(delivery_id)
    return won


def _record_outcomes(db: Database, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    if not outcomes:
        return
    with db.begin() as session:
        for delivery_id, values in outcomes:
            session.execute(update(SurveyDelivery).where(SurveyDelivery.id == delivery_id).values(**values))


def _set_delivery(db: Database, delivery_id: int, **values: Any) -> None:
    with db.begin() as session:
        session.execute(update(SurveyDelivery).where(SurveyDelivery.id == delivery_id).values(**values))


def reminder_times(session: Session, round_id: int) -> list[dt.datetime]:
    """When each of the round's reminders is due, in order (reminder 1 first)."""
    return list(
        session.scalars(
            select(SurveyReminder.due_at)
            .where(SurveyReminder.round_id == round_id)
            .order_by(SurveyReminder.number)
        )
    )


def reminder_due(times: list[dt.datetime], moment: dt.datetime) -> int:
    """The number of the latest reminder due at `moment` (0 = none yet)."""
    return sum(1 for due_at in times if due_at <= moment)


def send_reminders(
    db: Database, round_id: int, send: Sender, window: SendWindow, now: Callable[[], dt.datetime] = utcnow
) -> FanOutReport:
    """Remind everyone reached who has not answered, once per reminder of the round that has come due.

    Each delivery is claimed before the send by a compare-and-set on (`last_reminder`, `reminder_status`),
    so two processes, or a restart after a crash, never send the same reminder twice. Someone who missed
    reminders (the scheduler was down over two reminder times, or their quiet hours held them) gets one
    catch-up reminder, numbered as the latest due, never one per missed reminder. Reminder k also waits
    until half its planned spacing (since reminder k-1, or the send) has passed since the person's last
    DM from this round, so a late invitation or a catch-up is never followed by another at once.
    Nothing is sent once the round has closed.
    """
    report = FanOutReport()
    me = worker_name()
    with db.begin() as session:
        round_ = session.get(SurveyRound, round_id)
        moment = now()
        times = reminder_times(session, round_id) if round_ is not None else []
        due = reminder_due(times, moment)
        if round_ is None or round_.status == RoundStatus.CLOSED or moment >= round_.closes_at or not due:
            report.stopped = "not due"
            return report
        questions = tuple(round_.questions)
        title, anonymous, closes_at = round_.title, round_.anonymous, round_.closes_at
        # The least time between the person's last DM from this round and reminder `due`.
        spacing = (times[due - 1] - (times[due - 2] if due > 1 else round_.send_after)) / 2
        rows = session.execute(
            select(
                SurveyDelivery.id,
                SurveyDelivery.slack_user_id,
                SurveyDelivery.last_reminder,
                SurveyDelivery.reminder_status,
                SurveyDelivery.reminded_at,
                SurveyDelivery.sent_at,
                SurveyDelivery.claimed_at,
            )
            .where(
                SurveyDelivery.round_id == round_id,
                SurveyDelivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN]),
                SurveyDelivery.responded_on.is_(None),
                SurveyDelivery.last_reminder < due,
                (SurveyDelivery.reminder_status.is_(None)) | (SurveyDelivery.reminder_status == "sent"),
            )
            .order_by(SurveyDelivery.id)
        ).all()
        people = _people_info(session, [r.slack_user_id for r in rows])
    held = window.in_dnd([r.slack_user_id for r in rows], now())
    for row in rows:
        moment = now()
        if moment >= closes_at:  # a long fan-out ran past the close: the rest would be too late
            report.stopped = "closed"
            break
        person = people.get(row.slack_user_id)
        last_dm = row.reminded_at or row.sent_at or row.claimed_at
        if (
            (last_dm is not None and moment - last_dm < spacing)
            or not window.allows(moment, person.tz if person else None)
            or row.slack_user_id in held
        ):
            report.deferred += 1
            continue
        # Claim only if nobody else has sent this person a reminder since we read the row, and they still
        # have not answered: an answer arriving now wins over the reminder.
        previous_status = (
            SurveyDelivery.reminder_status.is_(None)
            if row.reminder_status is None
            else (SurveyDelivery.reminder_status == row.reminder_status)
        )
        with db.begin() as session:
            claimed = session.execute(
                update(SurveyDelivery)
                .where(
                    SurveyDelivery.id == row.id,
                    SurveyDelivery.last_reminder == row.last_reminder,
                    previous_status,
                    SurveyDelivery.responded_on.is_(None),
                )
                .values(reminder_status="sending", last_reminder=due, claimed_by=me, claimed_at=moment)
            ).rowcount
        if not claimed:
            report.skipped_claimed += 1
            continue
        outgoing = Outgoing(
            "reminder",
            round_id,
            row.slack_user_id,
            person.language if person else "zh-CN",
            title,
            questions,
            anonymous,
            closes_at,
            reminder=due,
            reminders=len(times),
            at=moment,
        )
        try:
            send(outgoing)
        except DeliveryFailed as exc:
            if exc.sent_maybe:  # it may have arrived: count it, never resend it
                values = {
                    "reminder_status": "sent",
                    "reminders_sent": SurveyDelivery.reminders_sent + 1,
                    "reminded_at": moment,
                }
                report.uncertain += 1
            elif exc.retry:  # nothing went out: hand the claim back as it was
                values = {"reminder_status": row.reminder_status, "last_reminder": row.last_reminder}
            else:
                values = {"reminder_status": "failed"}
                report.failed += 1
            _set_delivery(db, row.id, error=exc.reason[:200], **values)
            report.errors.append(f"{row.slack_user_id}: {exc.reason}")
            continue
        _set_delivery(
            db,
            row.id,
            reminder_status="sent",
            reminders_sent=SurveyDelivery.reminders_sent + 1,
            reminded_at=now(),
        )
        report.sent += 1
    return report


def close_due_rounds(db: Database, now: dt.datetime | None = None) -> list[int]:
    """Close rounds whose window has passed; people never reached (quiet hours) are marked skipped."""
    now = now or utcnow()
    with db.begin() as session:
        ids = list(
            session.scalars(
                select(SurveyRound.id).where(
                    SurveyRound.status != RoundStatus.CLOSED, SurveyRound.closes_at <= now
                )
            )
        )
        if ids:
            session.execute(
                update(SurveyDelivery)
                .where(SurveyDelivery.round_id.in_(ids), SurveyDelivery.status == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.SKIPPED)
            )
            session.execute(
                update(SurveyRound)
                .where(SurveyRound.id.in_(ids), SurveyRound.status != RoundStatus.CLOSED)
                .values(status=RoundStatus.CLOSED, closed_at=now)
            )
    return ids


def active_rounds(db: Database, now: dt.datetime | None = None) -> list[SurveyRound]:
    """Rounds that may still need sending or reminding."""
    now = now or utcnow()
    with db.begin() as session:
        return list(
            session.scalars(
                select(SurveyRound)
                .where(SurveyRound.status != RoundStatus.CLOSED, SurveyRound.send_after <= now)
                .order_by(SurveyRound.id)
            )
        )


# ---------------------------------------------------------------------------------------------------
# Responses


class SubmitOutcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"
    NOT_INVITED = "not_invited"


class InvalidAnswer(ValueError):
    """An answer outside its scale or a missing required answer; `question_id` says which."""

    def __init__(self, question_id: str, message: str) -> None:
        super().__init__(message)
        self.question_id = question_id


def validate_answers(questions: Iterable[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """Answers keyed by question id (module ratings as {module: score}); returns the cleaned answers."""
    clean: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q.id)
        if value in (None, "", {}):
            if not q.optional:
                raise InvalidAnswer(q.id, f"question {q.id!r} needs an answer")
            continue
        if q.type == "text":
            clean[q.id] = str(value).strip()[:TEXT_LIMIT]
        elif q.type == "module_rating":
            low, high = SCALES[q.type]
            known = {m for m, _ in q.modules}
            scores = {}
            for module, score in dict(value).items():
                if module not in known:
                    raise InvalidAnswer(q.id, f"unknown module {module!r}")
                score = int(score)
                if not low <= score <= high:
                    raise InvalidAnswer(q.id, f"{module}: {score} is outside {low}-{high}")
                scores[module] = score
            clean[q.id] = scores
        else:
            low, high = SCALES[q.type]
            score = int(value)
            if not low <= score <= high:
                raise InvalidAnswer(q.id, f"{score} is outside {low}-{high}")
            clean[q.id] = score
    return clean


def submit_response(
    db: Database, round_id: int, slack_user_id: str, answers: dict[str, Any], now: dt.datetime | None = None
) -> SubmitOutcome:
    """Record one person's answers to one round, once. A double click or a retry returns ALREADY_ANSWERED."""
    now = now or utcnow()
    with db.begin() as session:
        round_ = session.get(SurveyRound, round_id)
        if round_ is None:
            return SubmitOutcome.NOT_INVITED
        if round_.status == RoundStatus.CLOSED or now >= round_.closes_at:
            return SubmitOutcome.CLOSED
        clean = validate_answers(round_.questions, answers)
        anonymous = round_.anonymous
        # The "has responded" marker and the answers are written in one transaction; the marker's
        # compare-and-set is what makes a second submission a no-op.
        marked = session.execute(
            update(SurveyDelivery)
            .where(
                SurveyDelivery.round_id == round_id,
                SurveyDelivery.slack_user_id == slack_user_id,
                SurveyDelivery.responded_on.is_(None),
            )
            .values(responded_on=round_.scheduled_for if anonymous else now)
        ).rowcount
        if not marked:
            exists = session.scalar(
                select(SurveyDelivery.id).where(
                    SurveyDelivery.round_id == round_id, SurveyDelivery.slack_user_id == slack_user_id
                )
            )
            return SubmitOutcome.ALREADY_ANSWERED if exists else SubmitOutcome.NOT_INVITED
        person = session.get(User, slack_user_id)
        comment = next((clean[q.id] for q in round_.questions if q.type == "text" and q.id in clean), None)
        session.add(
            SurveyResponse(
                round_id=round_id,
                slack_user_id=None if anonymous else slack_user_id,
                role=person.role if person else None,
                answers=clean,
                comment=comment,
                submitted_at=round_.scheduled_for if anonymous else now,
            )
        )
    return SubmitOutcome.ACCEPTED


def get_round(db: Database, round_id: int) -> SurveyRound | None:
    with db.begin() as session:
        return session.get(SurveyRound, round_id)


def has_responded(db: Database, round_id: int, slack_user_id: str) -> bool:
    with db.begin() as session:
        return bool(
            session.scalar(
                select(SurveyDelivery.responded_on).where(
                    SurveyDelivery.round_id == round_id, SurveyDelivery.slack_user_id == slack_user_id
                )
            )
        )


@dataclass(frozen=True)
class RoundProgress:
    round_id: int
    survey_id: str
    status: str
    audience: int
    sent: int
    failed: int
    pending: int
    reminded: int  # people sent at least one reminder
    responded: int
    reminder_dms: int = 0  # reminder messages sent in all (a person reminded twice counts twice)
    reminders_due: int = 0  # how many of the round's reminders have come due...
    reminders_planned: int = 0  # ...of how many


def round_progress(session: Session, round_id: int, now: dt.datetime | None = None) -> RoundProgress:
    round_ = session.get(SurveyRound, round_id)
    if round_ is None:
        raise LookupError(f"no survey round #{round_id}")
    counts = dict(
        session.execute(
            select(SurveyDelivery.status, func.count())
            .where(SurveyDelivery.round_id == round_id)
            .group_by(SurveyDelivery.status)
        ).all()
    )

    times = reminder_times(session, round_id)

    def _count(*conditions) -> int:
        return session.scalar(
            select(func.count())
            .select_from(SurveyDelivery)
            .where(SurveyDelivery.round_id == round_id, *conditions)
        )

    return RoundProgress(
        round_id=round_id,
        survey_id=round_.survey_id,
        status=round_.status,
        audience=round_.audience_size,
        sent=counts.get("sent", 0) + counts.get("uncertain", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0) + counts.get("sending", 0),
        reminded=_count(SurveyDelivery.reminders_sent > 0),
        responded=_count(SurveyDelivery.responded_on.is_not(None)),
        reminder_dms=session.scalar(
            select(func.coalesce(func.sum(SurveyDelivery.reminders_sent), 0)).where(
                SurveyDelivery.round_id == round_id
            )
        ),
        reminders_due=reminder_due(times, now or utcnow()),
        reminders_planned=len(times),
    )


def latest_rounds(session: Session, limit: int = 20) -> list[SurveyRound]:
    return list(session.scalars(select(SurveyRound).order_by(SurveyRound.id.desc()).limit(limit)))
