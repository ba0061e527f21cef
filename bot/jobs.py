"""Scheduled jobs and the scheduler's start-up.

The SQLAlchemy job store keeps jobs as textual references (`bot.jobs:run_survey_round`) plus plain
kwargs, so nothing unpicklable is stored. A job finds the process's `Services` through `bind()`,
called once by `start_scheduler` (in `erp-coach scheduler`, or in-process by `erp-coach serve`).

Jobs:
- `survey:<id>`  cron per active survey: opens the round (idempotent) and starts sending it.
- `digest:weekly` cron (DIGEST_CRON): the manager digest to the managers' channel and managers' DMs.
- `tick`          every SCHEDULER_TICK_SECONDS: resumes unfinished fan-outs (after a crash or quiet
                  hours), sends due reminders, closes rounds, reminds training, re-syncs surveys.yaml.
- `tickets:sla`   every 15 minutes, `tickets:stale` daily 09:30: the tickets feature's jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from feedback import surveys as survey_store
from feedback import training as training_store
from feedback.db import utcnow
from feedback.scheduler import build_scheduler, current_run_time, sync_jobs

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("erp_coach.jobs")

SURVEY_PREFIX = "survey:"
DIGEST_JOB = "digest:weekly"
TICK_JOB = "tick"
TICKET_SLA_JOB = "tickets:sla"
TICKET_STALE_JOB = "tickets:stale"
_MANAGED = (SURVEY_PREFIX, DIGEST_JOB, TICK_JOB, TICKET_SLA_JOB, TICKET_STALE_JOB)


class JobsNotBound(RuntimeError):
    def __init__(self) -> None:
        super().__init__("scheduled jobs need the services: call bot.jobs.start_scheduler(services) first")


_binding: dict[str, object] = {}
_lock = threading.Lock()


def bind(services: Services, scheduler: BackgroundScheduler | None = None) -> None:
    """Give this process's jobs their services (and the scheduler, for re-syncing survey jobs)."""
    with _lock:
        _binding["services"] = services
        _binding["scheduler"] = scheduler
        _binding["surveys_mtime"] = None


def bound() -> Services:
    services = _binding.get("services")
    if services is None:
        raise JobsNotBound()
    return services  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------
# Start-up


def _base_specs(services: Services) -> list[tuple[str, str, object, dict]]:
    settings = services.settings
    tz = settings.timezone
    return [
        (
            TICK_JOB,
            "bot.jobs:tick",
            IntervalTrigger(seconds=settings.scheduler_tick_seconds, timezone=tz),
            {},
        ),
        (DIGEST_JOB, "bot.jobs:send_digest", CronTrigger.from_crontab(settings.digest_cron, timezone=tz), {}),
        # The tickets feature's jobs (bot/ticket_messages.py): SLA reminders, closing stale waiting tickets.
        (TICKET_SLA_JOB, "bot.jobs:ticket_sla_reminders", IntervalTrigger(minutes=15, timezone=tz), {}),
        (TICKET_STALE_JOB, "bot.jobs:close_stale_tickets", CronTrigger(hour=9, minute=30, timezone=tz), {}),
    ]


def job_specs(services: Services) -> list[tuple[str, str, object, dict]]:
    """Every job this deployment should have: the fixed ones and one per valid, active survey; raises
    SurveyConfigError when surveys.yaml cannot be read at all."""
    tz = services.settings.timezone
    specs = _base_specs(services)
    for survey in services.surveys.all():
        if not survey.paused:
            job_id = f"{SURVEY_PREFIX}{survey.id}"
            specs.append((job_id, "bot.jobs:run_survey_round", survey.trigger(tz), {"survey_id": survey.id}))
    return specs


def start_scheduler(services: Services) -> BackgroundScheduler:
    """Start the scheduler in this process (a background thread) and bind the jobs to `services`.

    Safe to call in every replica: all share the job store, and every run is leased in `job_runs`.
    """
    services.db.upgrade()
    scheduler = build_scheduler(services.db, services.settings.timezone)
    bind(services, scheduler)
    scheduler.start(paused=True)
    _sync(services, scheduler)
    scheduler.resume()
    log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
    return scheduler


def _sync(services: Services, scheduler: BackgroundScheduler) -> None:
    _binding["surveys_mtime"] = services.surveys.mtime()
    try:
        sync_jobs(scheduler, job_specs(services), _MANAGED)
        for survey_id, problem in services.surveys.problems().items():
            # The other surveys keep running; this one has no schedule until surveys.yaml is fixed.
            log.error("survey %s left out until surveys.yaml is fixed: %s", survey_id or "(no id)", problem)
    except survey_store.SurveyConfigError as exc:
        # A typo in surveys.yaml must not stop the bot, reminders or digests: survey schedules stay as
        # they were until the file is fixed (the tick re-reads it when it changes).
        log.error("surveys.yaml not reloaded; survey schedules unchanged: %s", exc)
        sync_jobs(scheduler, _base_specs(services), (DIGEST_JOB, TICK_JOB, TICKET_SLA_JOB, TICKET_STALE_JOB))


# ---------------------------------------------------------------------------------------------------
# Jobs


def run_survey_round(survey_id: str) -> survey_store.FanOutReport | None:
    """Open this firing's round of `survey_id` and send it (the rest goes out in later ticks)."""
    services = bound()
    try:
        survey = services.surveys.get(survey_id)
    except LookupError:
        log.warning("survey %s is no longer defined; skipping", survey_id)
        return None
    except survey_store.SurveyConfigError as exc:  # broken since the last sync: no round until it is fixed
        log.error("survey %s not sent: %s", survey_id, exc)
        return None
    if survey.paused:
        return None
    scheduled_for = current_run_time() or utcnow()
    round_ = survey_store.open_round(services.db, survey, scheduled_for, services.send_window)
    return survey_store.fan_out(services.db, round_.id, _survey_sender(services), services.send_window)


def run_survey_now(services: Services, survey_id: str) -> survey_store.SurveyRound:
    """`erp-coach surveys run-now`: open a round now (quiet hours still apply) and send it."""
    bind(services, _binding.get("scheduler"))  # type: ignore[arg-type]
    survey = services.surveys.get(survey_id)
    now = utcnow().replace(microsecond=0)
    round_ = survey_store.open_round(services.db, survey, now, services.send_window)
    survey_store.fan_out(services.db, round_.id, _survey_sender(services), services.send_window)
    return round_


def tick() -> None:
    """The frequent housekeeping job (see the module doc). Each step is safe to run on every replica."""
    services = bound()
    scheduler = _binding.get("scheduler")
    if scheduler is not None and services.surveys.mtime() != _binding.get("surveys_mtime"):
        _sync(services, scheduler)  # type: ignore[arg-type]
    db, window = services.db, services.send_window
    survey_store.release_stale_claims(db)
    survey_store.close_due_rounds(db)
    sender = _survey_sender(services)
    for round_ in survey_store.active_rounds(db):
        survey_store.fan_out(db, round_.id, sender, window)
        survey_store.send_reminders(db, round_.id, sender, window)
    try:
        training_store.assign_missing_plans(db, services.training)
    except training_store.TrainingConfigError as exc:
        # New plans wait for the fix; reminders for the trainings already assigned still go out.
        log.error("training.yaml not applied: %s", exc)
    training_store.send_training_reminders(db, _training_sender(services), window)


def send_digest(since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    """The weekly digest; returns how many conversations received it."""
    from bot.digest_delivery import deliver_digest

    services = bound()
    return deliver_digest(services, since=since, until=until, now=current_run_time() or utcnow())


def ticket_sla_reminders() -> int:
    from bot.ticket_messages import send_sla_reminders

    return send_sla_reminders(bound(), now=current_run_time() or utcnow())


def close_stale_tickets() -> int:
    from bot.ticket_messages import close_stale_tickets as close

    return close(bound(), now=current_run_time() or utcnow())


def _survey_sender(services: Services):
    from bot.delivery import SurveySender

    return SurveySender(services)


def _training_sender(services: Services):
    from bot.delivery import TrainingReminderSender

    return TrainingReminderSender(services)
