"""Scheduled jobs that survive restarts and run once across replicas.

Three layers keep a scheduled send exactly-once:

1. APScheduler 3 keeps its jobs in the project database (SQLAlchemyJobStore), so a restart loses nothing.
2. Several bot processes may share that job store (HTTP mode behind a load balancer). APScheduler 3 does
   not coordinate them, so two replicas can both see a job due. `LeasedThreadPoolExecutor` therefore
   claims every run in the `job_runs` table, keyed by (job_id, scheduled_for) with a unique constraint,
   by INSERT before running it: one replica wins, the others skip that run.
3. A fan-out (e.g. a survey round) claims each recipient's delivery row before sending, so a crash in
   the middle resumes later without sending twice (see `feedback.surveys`).

Quiet hours and working days are a pure function, `next_send_time`, used by the jobs themselves.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Integer, String, UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Base, Database, UTCDateTime, utcnow

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
JOBS_TABLE = "apscheduler_jobs"

# A survey or digest missed while every replica was down for a deploy still goes out when one comes
# back within this window; one missed by longer is skipped rather than arriving at a surprising time.
MISFIRE_GRACE_SECONDS = 6 * 3600
# If the process was down across several firings of one job, send once, not once per missed firing.
COALESCE = True


class JobRun(Base):
    """One claimed run of one scheduled job; the unique key is the lease."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_for", name="uq_job_runs_job_id_scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))  # ok, error, missed (past the grace time)


def worker_name() -> str:
    """Who claimed a run or a delivery: host and process id, for the operator reading the tables."""
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------------------------------
# Quiet hours and working days


class InvalidSchedule(ValueError):
    """A schedule setting that cannot be understood; the message says what to write instead."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window with no sends, e.g. 21:00-08:30 (may wrap past midnight)."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`"21:00-08:30"` -> QuietHours; empty -> None (no quiet hours)."""
        text = (text or "").strip()
        if not text:
            return None
        try:
            start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError as exc:
            raise InvalidSchedule(f"quiet hours {text!r}: write HH:MM-HH:MM, e.g. 21:00-08:30") from exc
        if start == end:
            raise InvalidSchedule(f"quiet hours {text!r}: start and end are equal")
        return cls(start, end)

    def contains(self, moment: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse_working_days(text: str | Iterable[str]) -> frozenset[int]:
    """`"mon,tue,wed,thu,fri"`, `"mon-fri"` or `"monday,saturday"` -> day numbers (Monday is 0)."""
    parts = [p.strip().lower() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    days: set[int] = set()
    for part in parts:
        ends = [_weekday(end.strip(), part) for end in part.split("-")]
        if len(ends) == 1:
            days.add(ends[0])
        elif len(ends) == 2:
            first, last = ends
            days.update(d % 7 for d in range(first, first + (last - first) % 7 + 1))
        else:
            raise InvalidSchedule(f"working days {part!r}: use names such as mon,tue,wed,thu,fri or mon-fri")
    if not days:
        raise InvalidSchedule("working days are empty; name at least one, e.g. mon,tue,wed,thu,fri")
    return frozenset(days)


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(name: str, part: str) -> int:
    for i, full in enumerate(_FULL_NAMES):
        if len(name) >= 3 and full.startswith(name):
            return i
    raise InvalidSchedule(f"working day {part!r}: use names such as mon,tue,wed,thu,fri or mon-fri")


def next_send_time(
    due: dt.datetime,
    tz: str | dt.tzinfo,
    quiet_hours: QuietHours | None,
    working_days: Iterable[int] = range(5),
) -> dt.datetime:
    """The first moment at or after `due` that is on a working day and outside quiet hours, in `tz`.

    A send due at 23:00 on Friday with quiet hours 21:00-08:30 and working days Mon-Fri goes out on
    Monday at 08:30. The result is aware (in `tz`); `due` must be aware.
    """
    if due.tzinfo is None:
        raise ValueError("due must be an aware datetime")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    days = frozenset(working_days) or frozenset(range(7))
    local = due.astimezone(zone)
    for _ in range(15):  # at most one week of skipped days, plus the quiet night around it
        if local.weekday() not in days:
            local = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
            continue
        if quiet_hours is not None and quiet_hours.contains(local.time().replace(tzinfo=None)):
            end_day = local.date()
            if quiet_hours.start > quiet_hours.end and local.time() >= quiet_hours.start:
                end_day += dt.timedelta(days=1)  # the evening part of a window that wraps midnight
            local = dt.datetime.combine(end_day, quiet_hours.end, tzinfo=zone)
            continue
        return local
    raise InvalidSchedule("no allowed send time within two weeks; check quiet hours and working days")


# Who of these people has do-not-disturb on at this moment, as Slack tells it (the bot's dnd.teamInfo).
DndLookup = Callable[[Sequence[str], dt.datetime], set[str]]


@dataclass(frozen=True)
class SendWindow:
    """The sending rules from the settings, bundled for the jobs; `dnd`: each person's own do-not-disturb,
    which holds their scheduled DMs (surveys, reminders, training) as quiet hours do."""

    tz: str = "Asia/Shanghai"
    quiet_hours: QuietHours | None = None
    working_days: frozenset[int] = frozenset(range(5))
    dnd: DndLookup | None = field(default=None, compare=False)

    def in_dnd(self, user_ids: Sequence[str], moment: dt.datetime) -> set[str]:
        """Who of `user_ids` is in do-not-disturb at `moment`. Nobody when that cannot be told (no lookup,
        Slack down): a scheduled DM then goes out as it would have without the check, not never."""
        if self.dnd is None or not user_ids:
            return set()
        try:
            return set(self.dnd(list(dict.fromkeys(user_ids)), moment))
        except Exception as exc:  # noqa: BLE001 - a failed lookup must not stop the sends
            log.warning("do-not-disturb lookup failed, sending without it: %s", exc)
            return set()

    def next_send_time(self, due: dt.datetime, tz: str | None = None) -> dt.datetime:
        return next_send_time(due, _valid_zone(tz) or self.tz, self.quiet_hours, self.working_days)

    def allows(self, moment: dt.datetime, tz: str | None = None) -> bool:
        return self.next_send_time(moment, tz) <= moment


def _valid_zone(name: str | None) -> str | None:
    """A user's Slack tz if it is one we know; otherwise None (the company's zone is used)."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return None
    return name


# ---------------------------------------------------------------------------------------------------
# Leases


def claim_run(db: Database, job_id: str, scheduled_for: dt.datetime) -> bool:
    """Claim one run of one job for this process; False when another process already has it."""
    try:
        with db.begin() as session:
            session.add(JobRun(job_id=job_id, scheduled_for=scheduled_for, claimed_by=worker_name()))
    except IntegrityError:
        return False
    return True


def _finish_run(db: Database, job_id: str, scheduled_for: dt.datetime, outcome: str) -> None:
    with db.begin() as session:
        session.execute(
            update(JobRun)
            .where(JobRun.job_id == job_id, JobRun.scheduled_for == scheduled_for)
            .values(finished_at=utcnow(), outcome=outcome)
        )


_scheduled_for: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar(
    "scheduled_for", default=None
)


def current_run_time() -> dt.datetime | None:
    """Inside a scheduled job: the time this run was scheduled for (the same on every replica)."""
    return _scheduled_for.get()


class LeasedThreadPoolExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, but each run is claimed in `job_runs` first (see the module doc)."""

    def __init__(self, db: Database, max_workers: int = 4) -> None:
        super().__init__(max_workers)
        self._db = db

    def _do_submit_job(self, job, run_times):
        def leased_run(job, jobstore_alias, run_times, logger_name):
            events = []
            for run_time in run_times:
                if not claim_run(self._db, job.id, run_time):
                    log.info("job %s at %s already claimed by another process", job.id, run_time)
                    continue
                token = _scheduled_for.set(run_time)
                try:
                    result = run_job(job, jobstore_alias, [run_time], logger_name)
                finally:
                    _scheduled_for.reset(token)
                codes = {e.code for e in result}
                outcome = (
                    "error" if EVENT_JOB_ERROR in codes else "missed" if EVENT_JOB_MISSED in codes else "ok"
                )
                _finish_run(self._db, job.id, run_time, outcome)
                events.extend(result)
            return events

        def callback(future):
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(leased_run, job, job._jobstore_alias, run_times, self._logger.name)
        future.add_done_callback(callback)


def build_scheduler(db: Database, tz: str, *, max_workers: int = 4) -> BackgroundScheduler:
    """A scheduler whose jobs live in `db` and whose runs are leased; not started."""
    store = SQLAlchemyJobStore(engine=db.engine, tablename=JOBS_TABLE)
    # APScheduler creates its table on start; two processes starting together on PostgreSQL both tried,
    # and one died on the duplicate CREATE TABLE. Create it first, under the migration lock.
    with db.migration_lock():
        store.jobs_t.create(db.engine, checkfirst=True)
    return BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": LeasedThreadPoolExecutor(db, max_workers)},
        job_defaults={
            "coalesce": COALESCE,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            # One run of a job at a time per process; across processes the lease decides.
            "max_instances": 1,
        },
        timezone=ZoneInfo(tz),
    )


JobSpec = tuple[str, str, object, dict]  # (job_id, "module:function", trigger, kwargs)


def sync_jobs(
    scheduler: BackgroundScheduler, specs: Iterable[JobSpec], managed_prefixes: tuple[str, ...]
) -> None:
    """Make the job store hold exactly `specs` among jobs whose id starts with one of `managed_prefixes`.

    Functions are given by textual reference so the SQLAlchemy job store can store them. Re-adding a job
    with an unchanged trigger keeps its next run time, so every replica can call this at start-up.
    """
    wanted = {job_id: (func, trigger, kwargs) for job_id, func, trigger, kwargs in specs}
    for job in scheduler.get_jobs():
        if job.id.startswith(managed_prefixes) and job.id not in wanted:
            scheduler.remove_job(job.id)
    for job_id, (func, trigger, kwargs) in wanted.items():
        existing = scheduler.get_job(job_id)
        if existing is not None and _same_trigger(existing.trigger, trigger) and existing.kwargs == kwargs:
            continue
        scheduler.add_job(func, trigger=trigger, id=job_id, kwargs=kwargs, replace_existing=True, name=job_id)


def _same_trigger(a: object, b: object) -> bool:
    """Same schedule in the same zone: a cron trigger's text leaves its time zone out, and a changed
    TIMEZONE must move every survey and digest to the new zone's clock."""
    return str(a) == str(b) and str(getattr(a, "timezone", None)) == str(getattr(b, "timezone", None))


def run_now(func: Callable[..., object], scheduled_for: dt.datetime, *args, **kwargs) -> object:
    """Run a job function outside the scheduler as if it had been scheduled for `scheduled_for`."""
    token = _scheduled_for.set(scheduled_for)
    try:
        return func(*args, **kwargs)
    finally:
        _scheduled_for.reset(token)
