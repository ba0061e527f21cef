"""Role-specific training plans, assignments, reminders, and knowledge gaps turned into training.

Plans are defined per role in `training.yaml` under the data dir; modules an admin creates from a
knowledge gap (one click in the digest) are stored in `training_extra_modules` and join the role's plan.
Assigning a role assigns its plan; each module becomes a `TrainingAssignment` with a due date.
Reminders (before due, then while overdue) are claimed per assignment, so replicas never double-send.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Integer, String, UniqueConstraint, and_, case, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.colleague_ratings import ColleagueRating
from feedback.db import Base, Database, UTCDateTime, utcnow
from feedback.people import User
from feedback.questions import QuestionLog
from feedback.scheduler import SendWindow
from feedback.surveys import DeliveryFailed, Localized, copy_example_once, read_yaml

log = logging.getLogger("erp_coach.training")

REMIND_BEFORE = dt.timedelta(days=2)
OVERDUE_EVERY = dt.timedelta(days=3)


class TrainingConfigError(ValueError):
    """training.yaml cannot be used as written; the message names the role and module."""


@dataclass(frozen=True)
class TrainingModule:
    id: str
    title: Localized
    source: str | None = None  # a knowledge source path, e.g. "accounting/invoices.md"
    heading: str | None = None  # the section inside it
    due_days: int = 7


class TrainingAssignment(Base):
    __tablename__ = "training_assignments"
    __table_args__ = (
        UniqueConstraint(
            "slack_user_id", "module_id", name="uq_training_assignments_slack_user_id_module_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    module_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(500))
    heading: Mapped[str | None] = mapped_column(String(300))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_before_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    overdue_reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class TrainingExtraModule(Base):
    """A module added to a role's plan from the app (e.g. from a knowledge gap in the digest)."""

    __tablename__ = "training_extra_modules"
    __table_args__ = (UniqueConstraint("role", "module_id", name="uq_training_extra_modules_role_module_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    module_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(500))
    heading: Mapped[str | None] = mapped_column(String(300))
    due_days: Mapped[int] = mapped_column(Integer, default=7)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ---------------------------------------------------------------------------------------------------
# Plans


def _title(value: Any, where: str) -> Localized:
    if isinstance(value, str) and value.strip():
        return {"zh-CN": value, "en": value}
    if isinstance(value, dict) and value:
        return {str(k): str(v) for k, v in value.items()}
    raise TrainingConfigError(f"{where}: give a title, or a mapping like {{zh-CN: ..., en: ...}}")


class TrainingCatalog:
    """Training plans per role from one YAML file (re-read when it changes)."""

    def __init__(
        self,
        path: Path,
        roles: Iterable[str] | None = None,
        example: Path | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.path = Path(path)
        self.timezone = timezone  # the company's: due dates end at its midnight
        self.roles = set(roles) if roles is not None else None
        self._example = example
        self._cache: tuple[float, dict[str, list[TrainingModule]]] | None = None

    def ensure_file(self) -> bool:
        return copy_example_once(self._example, self.path)

    def plans(self) -> dict[str, list[TrainingModule]]:
        mtime = self.path.stat().st_mtime if self.path.exists() else 0.0
        if self._cache is None or self._cache[0] != mtime:
            self._cache = (mtime, self._load())
        return self._cache[1]

    def _load(self) -> dict[str, list[TrainingModule]]:
        if not self.path.exists():
            return {}
        data = read_yaml(self.path, TrainingConfigError) or {}
        raw_plans = data.get("plans") if isinstance(data, dict) else None
        if not isinstance(raw_plans, dict | None):
            raise TrainingConfigError(f"{self.path}: write `plans:` followed by one `ROLE:` list per role")
        if raw_plans is None and data:
            raise TrainingConfigError(f"{self.path}: write `plans:` followed by one `ROLE:` list per role")
        plans: dict[str, list[TrainingModule]] = {}
        for role, modules in (raw_plans or {}).items():
            if self.roles is not None and role not in self.roles:
                raise TrainingConfigError(f"{self.path}: unknown role {role!r}; known: {sorted(self.roles)}")
            if not isinstance(modules, list | None):
                raise TrainingConfigError(
                    f"{self.path}: role {role!r}: list its modules, one `- id: ...` each"
                )
            items = []
            for i, raw in enumerate(modules or []):
                where = f"{self.path}: role {role!r}, module {i + 1}"
                if not isinstance(raw, dict):
                    raise TrainingConfigError(f"{where}: give its fields (id, title, source, due_days)")
                if not raw.get("id"):
                    raise TrainingConfigError(f"{where}: every module needs an `id`")
                due = raw.get("due_days", 7)
                if not isinstance(due, int) or isinstance(due, bool) or due < 0:
                    raise TrainingConfigError(f"{where}: due_days must be a whole number of days, like 7")
                items.append(
                    TrainingModule(
                        id=str(raw["id"]),
                        title=_title(raw.get("title"), where),
                        source=raw.get("source"),
                        heading=raw.get("heading"),
                        due_days=due,
                    )
                )
            plans[role] = items
        return plans


def plan_for(session: Session, catalog: TrainingCatalog, role: str) -> list[TrainingModule]:
    modules = list(catalog.plans().get(role, []))
    known = {m.id for m in modules}
    for extra in session.scalars(select(TrainingExtraModule).where(TrainingExtraModule.role == role)):
        if extra.module_id not in known:
            modules.append(
                TrainingModule(extra.module_id, extra.title, extra.source, extra.heading, extra.due_days)
            )
    return modules


def assign_plan(
    session: Session,
    catalog: TrainingCatalog,
    slack_user_id: str,
    role: str | None,
    now: dt.datetime | None = None,
) -> list[TrainingAssignment]:
    """Assign `role`'s plan to a person (call after a role change or for a new employee). Idempotent:
    modules already assigned keep their due date and completion. Returns the newly created assignments."""
    if not role:
        return []
    now = now or utcnow()
    have = set(
        session.scalars(
            select(TrainingAssignment.module_id).where(TrainingAssignment.slack_user_id == slack_user_id)
        )
    )
    created = []
    plan = plan_for(session, catalog, role)
    for module in plan:
        if module.id in have:
            continue
        assignment = _new_assignment(slack_user_id, role, module, now, catalog.timezone)
        session.add(assignment)
        created.append(assignment)
    _retire_unfinished(session, {slack_user_id: (role, {m.id for m in plan})})
    session.flush()
    return created


def _retire_unfinished(session: Session, plans: dict[str, tuple[str | None, set[str]]]) -> int:
    """After a role change: the person's unfinished modules that their new role's plan lacks are no
    longer owed (and no longer reminded); those it shares count for the new role. Finished ones stay, as
    the record of what was done. `plans`: user id -> (current role or None, its plan's module ids)."""
    retired = 0
    if not plans:
        return retired
    for a in session.scalars(
        select(TrainingAssignment).where(
            TrainingAssignment.slack_user_id.in_(list(plans)), TrainingAssignment.completed_at.is_(None)
        )
    ):
        role, module_ids = plans[a.slack_user_id]
        if a.role == role:
            continue
        if role is not None and a.module_id in module_ids:
            a.role = role
        else:
            session.delete(a)
            retired += 1
    return retired


def assign_missing_plans(db: Database, catalog: TrainingCatalog, now: dt.datetime | None = None) -> int:
    """Give everyone with a role the modules of its plan they lack (new employees, role changes, modules
    added to a plan), and retire the unfinished ones a role change left behind (`_retire_unfinished`).
    Idempotent; the scheduler's tick runs it. Returns how many modules were assigned."""
    now = now or utcnow()
    created = 0
    with db.begin() as session:
        plans: dict[str, list[TrainingModule]] = {}
        have = {
            tuple(row)
            for row in session.execute(select(TrainingAssignment.slack_user_id, TrainingAssignment.module_id))
        }
        current: dict[str, tuple[str | None, set[str]]] = {}
        for user_id, role in session.execute(select(User.slack_user_id, User.role)):
            if role is None:
                current[user_id] = (None, set())
                continue
            if role not in plans:
                plans[role] = plan_for(session, catalog, role)
            current[user_id] = (role, {m.id for m in plans[role]})
            for module in plans[role]:
                if (user_id, module.id) in have:
                    continue
                session.add(_new_assignment(user_id, role, module, now, catalog.timezone))
                created += 1
        # Only people whose unfinished modules came with another role need looking at.
        moved = set(
            session.scalars(
                select(TrainingAssignment.slack_user_id)
                .join(User, User.slack_user_id == TrainingAssignment.slack_user_id)
                .where(
                    TrainingAssignment.completed_at.is_(None),
                    (User.role.is_(None)) | (User.role != TrainingAssignment.role),
                )
            )
        )
        _retire_unfinished(session, {u: current[u] for u in moved if u in current})
    return created


@dataclass(frozen=True)
class TrainingItem:
    """One module of one person's plan, as the views show it."""

    assignment_id: int
    module_id: str
    title: Localized
    source: str | None
    heading: str | None
    due_at: dt.datetime
    completed_at: dt.datetime | None
    overdue: bool


def _item(a: TrainingAssignment, now: dt.datetime) -> TrainingItem:
    return TrainingItem(
        a.id,
        a.module_id,
        a.title,
        a.source,
        a.heading,
        a.due_at,
        a.completed_at,
        a.completed_at is None and a.due_at < now,
    )


def training_plan(session: Session, slack_user_id: str, now: dt.datetime | None = None) -> list[TrainingItem]:
    """The person's whole plan, pending first (by due date), then done."""
    now = now or utcnow()
    rows = session.scalars(
        select(TrainingAssignment)
        .where(TrainingAssignment.slack_user_id == slack_user_id)
        .order_by(
            TrainingAssignment.completed_at.is_not(None), TrainingAssignment.due_at, TrainingAssignment.id
        )
    )
    return [_item(a, now) for a in rows]


def pending_trainings(
    session: Session, slack_user_id: str, now: dt.datetime | None = None
) -> list[TrainingItem]:
    """What the person still has to do (for App Home), soonest due first."""
    return [item for item in training_plan(session, slack_user_id, now) if item.completed_at is None]


def mark_done(
    session: Session, slack_user_id: str, assignment_id: int, now: dt.datetime | None = None
) -> bool:
    """Mark one of the person's own modules done; False if it is not theirs or already done."""
    result = session.execute(
        update(TrainingAssignment)
        .where(
            TrainingAssignment.id == assignment_id,
            TrainingAssignment.slack_user_id == slack_user_id,
            TrainingAssignment.completed_at.is_(None),
        )
        .values(completed_at=now or utcnow())
    )
    return result.rowcount == 1


# ---------------------------------------------------------------------------------------------------
# Reminders


@dataclass(frozen=True)
class TrainingReminder:
    kind: str  # "due_soon" or "overdue"
    slack_user_id: str
    lang: str
    items: tuple[TrainingItem, ...]


def send_training_reminders(
    db: Database,
    send: Callable[[TrainingReminder], object],
    window: SendWindow,
    now: Callable[[], dt.datetime] = utcnow,
    remind_before: dt.timedelta = REMIND_BEFORE,
    overdue_every: dt.timedelta = OVERDUE_EVERY,
) -> int:
    """DM people whose modules are due soon or overdue (one message per person and kind); returns messages.

    Each assignment's reminder marker is claimed with a compare-and-set before sending, so concurrent
    runs on several replicas remind each module once per period.
    """
    moment = now()
    with db.begin() as session:
        due_soon = list(
            session.scalars(
                select(TrainingAssignment).where(
                    TrainingAssignment.completed_at.is_(None),
                    TrainingAssignment.reminded_before_at.is_(None),
                    TrainingAssignment.due_at > moment,
                    TrainingAssignment.due_at <= moment + remind_before,
                )
            )
        )
        overdue = list(
            session.scalars(
                select(TrainingAssignment).where(
                    TrainingAssignment.completed_at.is_(None),
                    TrainingAssignment.due_at <= moment,
                    or_(
                        TrainingAssignment.overdue_reminded_at.is_(None),
                        TrainingAssignment.overdue_reminded_at <= moment - overdue_every,
                    ),
                )
            )
        )
        people = {
            u.slack_user_id: u
            for u in session.scalars(
                select(User).where(User.slack_user_id.in_({a.slack_user_id for a in due_soon + overdue}))
            )
        }
    messages = 0
    held = window.in_dnd([a.slack_user_id for a in due_soon + overdue], moment)
    for kind, rows, column in (
        ("due_soon", due_soon, TrainingAssignment.reminded_before_at),
        ("overdue", overdue, TrainingAssignment.overdue_reminded_at),
    ):
        by_person: dict[str, list[TrainingAssignment]] = defaultdict(list)
        for a in rows:
            by_person[a.slack_user_id].append(a)
        for user_id, assignments in by_person.items():
            person = people.get(user_id)
            if not window.allows(moment, person.tz if person else None) or user_id in held:
                continue
            claimed = []
            with db.begin() as session:
                for a in assignments:
                    previous = getattr(a, column.key)
                    condition = column.is_(None) if previous is None else column == previous
                    ok = session.execute(
                        update(TrainingAssignment)
                        .where(
                            TrainingAssignment.id == a.id,
                            TrainingAssignment.completed_at.is_(None),
                            condition,
                        )
                        .values({column.key: moment})
                    ).rowcount
                    if ok:
                        claimed.append(_item(a, moment))
            if not claimed:
                continue
            reminder = TrainingReminder(kind, user_id, person.language if person else "zh-CN", tuple(claimed))
            try:
                send(reminder)
            except DeliveryFailed as exc:
                if not exc.retry:  # e.g. a deactivated account: trying again would not help
                    log.warning("training reminder to %s failed: %s", user_id, exc.reason)
                    continue
                # Nothing reached Slack (it is down, or unreachable): hand the claims back so the next
                # run reminds again, and stop this one rather than fail person after person.
                with db.begin() as session:
                    for a in assignments:
                        session.execute(
                            update(TrainingAssignment)
                            .where(TrainingAssignment.id == a.id, column == moment)
                            .values({column.key: getattr(a, column.key)})
                        )
                log.warning("training reminders paused until the next run: %s", exc.reason)
                return messages
            messages += 1
    return messages


# ---------------------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class RoleCompletion:
    role: str
    assigned: int
    completed: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.completed / self.assigned if self.assigned else 0.0


def completion_by_role(session: Session, now: dt.datetime | None = None) -> list[RoleCompletion]:
    now = now or utcnow()
    rows = session.execute(
        select(
            TrainingAssignment.role,
            func.count(),
            func.count(TrainingAssignment.completed_at),
            func.sum(
                func.cast(
                    and_(TrainingAssignment.completed_at.is_(None), TrainingAssignment.due_at < now), Integer
                )
            ),
        )
        .group_by(TrainingAssignment.role)
        .order_by(TrainingAssignment.role)
    ).all()
    return [
        RoleCompletion(role, assigned, completed, int(overdue or 0))
        for role, assigned, completed, overdue in rows
    ]


@dataclass(frozen=True)
class KnowledgeGap:
    """Questions from one role that the bot could not answer well, grouped by the manual section."""

    role: str
    source: str | None
    heading: str | None
    count: int
    examples: tuple[str, ...]

    @property
    def key(self) -> str:
        raw = f"{self.role}|{self.source or ''}|{self.heading or ''}"
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]

    @property
    def topic(self) -> str:
        return self.heading or self.source or (self.examples[0] if self.examples else "?")


def knowledge_gaps(
    session: Session, since: dt.datetime, until: dt.datetime, min_count: int = 3, limit: int = 5
) -> list[KnowledgeGap]:
    """Topics with many unhelped questions from one role: training focus candidates. A question counts
    when it was abstained, its asker rated it 👎, or colleagues rated its answer in a channel 👎 more often
    than 👍 (a channel that read the answer and found it wanting is as telling as its asker)."""
    votes = ColleagueRating.rating
    disliked_by_colleagues = (
        select(ColleagueRating.question_id)
        .group_by(ColleagueRating.question_id)
        .having(func.sum(case((votes == -1, 1), else_=0)) > func.sum(case((votes == 1, 1), else_=0)))
    )
    rows = session.scalars(
        select(QuestionLog).where(
            QuestionLog.created_at >= since,
            QuestionLog.created_at < until,
            QuestionLog.role.is_not(None),
            or_(
                QuestionLog.answered.is_(False),
                QuestionLog.rating == -1,
                QuestionLog.id.in_(disliked_by_colleagues),
            ),
        )
    )
    groups: dict[tuple[str, str | None, str | None], list[str]] = defaultdict(list)
    for q in rows:
        best = (q.top_sources or [{}])[0]
        groups[(q.role, best.get("source"), best.get("heading"))].append(q.question)
    gaps = [
        KnowledgeGap(role, source, heading, len(qs), tuple(dict.fromkeys(qs))[:3])
        for (role, source, heading), qs in groups.items()
        if len(qs) >= min_count
    ]
    gaps.sort(key=lambda g: (-g.count, g.role, g.topic))
    return gaps[:limit]


def module_from_gap(
    db: Database,
    gap: KnowledgeGap,
    created_by: str | None,
    due_days: int = 7,
    now: dt.datetime | None = None,
    timezone: str = "Asia/Shanghai",
) -> tuple[TrainingModule, int]:
    """Turn a knowledge gap into a module of its role's plan and assign it to everyone holding the role.

    Idempotent (clicking twice adds nothing). Returns the module and how many people were newly assigned.
    """
    module_id = f"gap-{gap.key}"
    title = {"zh-CN": gap.topic, "en": gap.topic}
    with db.begin() as session:
        existing = session.scalar(
            select(TrainingExtraModule).where(
                TrainingExtraModule.role == gap.role, TrainingExtraModule.module_id == module_id
            )
        )
        if existing is None:
            session.add(
                TrainingExtraModule(
                    role=gap.role,
                    module_id=module_id,
                    title=title,
                    source=gap.source,
                    heading=gap.heading,
                    due_days=due_days,
                    created_by=created_by,
                )
            )
            session.flush()
        now = now or utcnow()
        have = set(
            session.scalars(
                select(TrainingAssignment.slack_user_id).where(TrainingAssignment.module_id == module_id)
            )
        )
        assigned = 0
        for user_id in session.scalars(select(User.slack_user_id).where(User.role == gap.role)):
            if user_id in have:
                continue
            session.add(
                TrainingAssignment(
                    slack_user_id=user_id,
                    role=gap.role,
                    module_id=module_id,
                    title=title,
                    source=gap.source,
                    heading=gap.heading,
                    assigned_at=now,
                    due_at=due_date(now, due_days, timezone),
                )
            )
            assigned += 1
    return TrainingModule(module_id, title, gap.source, gap.heading, due_days), assigned


def module_link(base_url: str, item: TrainingItem | TrainingModule) -> str | None:
    """A link to the manual section, if the docs have a base URL."""
    if not base_url or not item.source:
        return None
    anchor = f"#{item.heading}" if item.heading else ""
    return f"{base_url.rstrip('/')}/{item.source.lstrip('/')}{anchor}"


def due_date(assigned_at: dt.datetime, days: int, timezone: str) -> dt.datetime:
    """The end of the company's day `days` days after `assigned_at`, in UTC. Reminders and the plan show
    a date ("截止 11月9日"), so a module is due for the whole of that day, not from the hour it was
    assigned; a module assigned at 23:30 in Hangzhou counts its days from that date, not from UTC's."""
    zone = ZoneInfo(timezone)
    last_day = assigned_at.astimezone(zone).date() + dt.timedelta(days=days)
    next_midnight = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone)
    return (next_midnight - dt.timedelta(microseconds=1)).astimezone(dt.UTC)


def _new_assignment(
    slack_user_id: str, role: str, module: TrainingModule, now: dt.datetime, timezone: str
) -> TrainingAssignment:
    """The module's title, manual link and due date are copied so later plan edits don't rewrite history."""
    return TrainingAssignment(
        slack_user_id=slack_user_id,
        role=role,
        module_id=module.id,
        title=module.title,
        source=module.source,
        heading=module.heading,
        assigned_at=now,
        due_at=due_date(now, module.due_days, timezone),
    )
