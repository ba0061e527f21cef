"""Quiet hours, job-run leases, and two schedulers on one PostgreSQL sending once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_SUBMITTED
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from feedback.db import Database
from feedback.people import ensure_user
from feedback.scheduler import (
    COALESCE,
    MISFIRE_GRACE_SECONDS,
    InvalidSchedule,
    JobRun,
    QuietHours,
    build_scheduler,
    claim_run,
    next_send_time,
    parse_working_days,
    sync_jobs,
)
from tests.feedback import scheduled_jobs

SH = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours.parse("21:00-08:30")
WEEKDAYS = parse_working_days("mon,tue,wed,thu,fri")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (local(2026, 11, 27, 23, 0), local(2026, 11, 30, 8, 30)),  # Friday night -> Monday morning
        (local(2026, 11, 24, 23, 0), local(2026, 11, 25, 8, 30)),  # Tuesday night -> Wednesday morning
        (local(2026, 11, 25, 7, 0), local(2026, 11, 25, 8, 30)),  # early Wednesday -> same morning
        (local(2026, 11, 25, 10, 0), local(2026, 11, 25, 10, 0)),  # working hours: unchanged
        (local(2026, 11, 28, 12, 0), local(2026, 11, 30, 8, 30)),  # Saturday noon -> Monday morning
        (local(2026, 11, 25, 21, 0), local(2026, 11, 26, 8, 30)),  # the first quiet minute
        (local(2026, 11, 25, 8, 30), local(2026, 11, 25, 8, 30)),  # the first allowed minute
    ],
)
def test_next_send_time_moves_sends_out_of_quiet_hours_and_weekends(due, expected):
    assert next_send_time(due, "Asia/Shanghai", NIGHT, WEEKDAYS) == expected


def test_next_send_time_takes_any_zone_and_returns_it_in_the_target_zone():
    due_utc = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)  # 23:00 Friday in Shanghai
    result = next_send_time(due_utc, "Asia/Shanghai", NIGHT, WEEKDAYS)
    assert result == local(2026, 11, 30, 8, 30)
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_next_send_time_in_a_zone_with_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")
    # Saturday 28 March 2026 23:00 -> Monday 30 March 08:30, after the switch to summer time
    result = next_send_time(dt.datetime(2026, 3, 28, 23, 0, tzinfo=berlin), berlin, NIGHT, WEEKDAYS)
    assert (result.date(), result.time()) == (dt.date(2026, 3, 30), dt.time(8, 30))
    assert result.utcoffset() == dt.timedelta(hours=2)


def test_quiet_hours_within_one_day_and_no_quiet_hours():
    lunch = QuietHours.parse("12:00-13:30")
    assert next_send_time(local(2026, 11, 25, 12, 15), SH, lunch, WEEKDAYS) == local(2026, 11, 25, 13, 30)
    assert next_send_time(local(2026, 11, 29, 3, 0), SH, None, WEEKDAYS) == local(2026, 11, 30, 0, 0)
    assert QuietHours.parse("") is None


def test_schedule_settings_are_validated_with_actionable_messages():
    with pytest.raises(InvalidSchedule, match="HH:MM-HH:MM"):
        QuietHours.parse("9pm to 8am")
    with pytest.raises(InvalidSchedule, match="mon,tue"):
        parse_working_days("mon,moon")
    with pytest.raises(ValueError, match="aware"):
        next_send_time(dt.datetime(2026, 1, 1, 10), SH, NIGHT, WEEKDAYS)
    assert parse_working_days("Mon, TUE,saturday") == frozenset({0, 1, 5})
    assert parse_working_days("mon-fri") == frozenset(range(5))
    assert parse_working_days("fri-mon") == frozenset({4, 5, 6, 0})


def test_a_run_is_claimed_once(db):
    when = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    assert claim_run(db, "survey:pulse", when) is True
    assert claim_run(db, "survey:pulse", when) is False
    assert claim_run(db, "survey:pulse", when + dt.timedelta(days=7)) is True
    assert claim_run(db, "digest:weekly", when) is True


def test_scheduler_defaults_are_deliberate(db):
    scheduler = build_scheduler(db, "Asia/Shanghai")
    assert scheduler._job_defaults["coalesce"] is COALESCE is True
    assert scheduler._job_defaults["misfire_grace_time"] == MISFIRE_GRACE_SECONDS
    assert str(scheduler.timezone) == "Asia/Shanghai"


def test_jobs_survive_a_restart_and_sync_replaces_only_managed_jobs(db):
    first = build_scheduler(db, "Asia/Shanghai")
    first.start(paused=True)
    specs = [
        (
            "survey:a",
            "tests.feedback.scheduled_jobs:send_round",
            IntervalTrigger(hours=1),
            {"db_url": db.url},
        ),
        (
            "survey:b",
            "tests.feedback.scheduled_jobs:send_round",
            IntervalTrigger(hours=2),
            {"db_url": db.url},
        ),
    ]
    sync_jobs(first, specs, ("survey:",))
    first.add_job(
        "tests.feedback.scheduled_jobs:send_round",
        IntervalTrigger(hours=3),
        id="other",
        kwargs={"db_url": ""},
    )
    next_a = first.get_job("survey:a").next_run_time
    first.shutdown(wait=False)

    second = build_scheduler(Database(db.url), "Asia/Shanghai")  # a new process, the same database
    second.start(paused=True)
    assert {j.id for j in second.get_jobs()} == {"survey:a", "survey:b", "other"}
    assert second.get_job("survey:a").next_run_time == next_a
    sync_jobs(second, specs[:1], ("survey:",))  # survey b was removed from surveys.yaml
    assert {j.id for j in second.get_jobs()} == {"survey:a", "other"}
    assert second.get_job("survey:a").next_run_time == next_a  # unchanged trigger keeps its time
    second.shutdown(wait=False)


def test_a_changed_time_zone_moves_a_survey_to_the_new_clock(db):
    from apscheduler.triggers.cron import CronTrigger

    scheduler = build_scheduler(db, "UTC")
    scheduler.start(paused=True)
    try:
        spec = ("survey:a", "tests.feedback.scheduled_jobs:send_round", {"db_url": db.url})
        sync_jobs(
            scheduler, [(spec[0], spec[1], CronTrigger(hour=10, timezone="UTC"), spec[2])], ("survey:",)
        )
        sync_jobs(
            scheduler,
            [(spec[0], spec[1], CronTrigger(hour=10, timezone="Asia/Shanghai"), spec[2])],
            ("survey:",),
        )
        job = scheduler.get_job("survey:a")
        assert str(job.trigger.timezone) == "Asia/Shanghai"
        assert job.next_run_time.astimezone(ZoneInfo("Asia/Shanghai")).hour == 10  # 10:00 in Hangzhou
    finally:
        scheduler.shutdown(wait=False)


def _audience(db: Database, n: int) -> list[str]:
    ids = [f"U{i:05d}" for i in range(n)]
    with db.begin() as session:
        for uid in ids:
            ensure_user(session, uid, role="finance")
    return ids


@pytest.mark.postgres
def test_two_schedulers_on_one_postgresql_send_each_scheduled_round_once(postgres_url):
    """Two bot processes (two Database objects, two schedulers, one job store) fire the same jobs."""
    setup = Database(postgres_url)
    people = _audience(setup, 40)
    scheduled_jobs.SENT.clear()
    replicas = [Database(postgres_url), Database(postgres_url)]
    schedulers = [build_scheduler(d, "Asia/Shanghai") for d in replicas]
    submitted = Counter()
    for i, s in enumerate(schedulers):
        s.add_listener(lambda event, i=i: submitted.update([i]), EVENT_JOB_SUBMITTED)

    schedulers[0].start(paused=True)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    for k in range(3):  # three surveys due at the same moment
        schedulers[0].add_job(
            "tests.feedback.scheduled_jobs:send_round",
            IntervalTrigger(hours=1, start_date=due, timezone="Asia/Shanghai"),
            id=f"survey:pulse{k}",
            kwargs={"db_url": postgres_url},
            next_run_time=due,
        )
    schedulers[1].start()  # loads the three jobs from the shared store
    schedulers[0].resume()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with setup.begin() as session:
            finished = session.scalar(
                select(func.count()).select_from(JobRun).where(JobRun.finished_at.is_not(None))
            )
        if finished == 3:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # let a late second replica show itself
    for s in schedulers:
        s.shutdown(wait=True)

    with setup.begin() as session:
        runs = session.execute(select(JobRun.job_id, JobRun.outcome)).all()
    assert sorted(runs) == [("survey:pulse0", "ok"), ("survey:pulse1", "ok"), ("survey:pulse2", "ok")]
    # One round (the jobs share a survey id and a run time) sent to each person exactly once.
    counts = Counter(user for user, _ in scheduled_jobs.SENT)
    assert set(counts) == set(people)
    assert set(counts.values()) == {1}
    assert sum(submitted.values()) >= 3
    for d in [setup, *replicas]:
        d.dispose()


@pytest.mark.postgres
def test_the_lease_stops_a_second_replica_that_sees_the_same_run(postgres_url):
    """Deterministic version of the race: both executors get the same job and run time."""
    from apscheduler.job import Job  # noqa: F401  (the executor receives real Job objects)

    setup = Database(postgres_url)
    people = _audience(setup, 25)
    scheduled_jobs.SENT.clear()
    replicas = [Database(postgres_url), Database(postgres_url)]
    schedulers = [build_scheduler(d, "Asia/Shanghai") for d in replicas]
    run_time = (dt.datetime.now(SH) - dt.timedelta(minutes=1)).replace(microsecond=0)
    for s in schedulers:
        s.start(paused=True)
    job = schedulers[0].add_job(
        "tests.feedback.scheduled_jobs:send_round",
        IntervalTrigger(hours=1),
        id="survey:pulse",
        kwargs={"db_url": postgres_url},
        misfire_grace_time=None,
    )
    job._jobstore_alias = "default"
    barrier = threading.Barrier(2)

    def fire(scheduler):
        barrier.wait()
        scheduler._lookup_executor("default").submit_job(job, [run_time])

    threads = [threading.Thread(target=fire, args=(s,)) for s in schedulers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for s in schedulers:
        s.shutdown(wait=True)

    counts = Counter(user for user, _ in scheduled_jobs.SENT)
    assert set(counts) == set(people) and set(counts.values()) == {1}
    with setup.begin() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 1
    for d in [setup, *replicas]:
        d.dispose()


def test_a_run_missed_beyond_the_grace_time_is_recorded_not_run(db):
    scheduled_jobs.SENT.clear()
    _audience(db, 3)
    scheduler = build_scheduler(db, "Asia/Shanghai")
    scheduler.start(paused=True)
    job = scheduler.add_job(
        "tests.feedback.scheduled_jobs:send_round",
        IntervalTrigger(hours=1),
        id="survey:late",
        kwargs={"db_url": db.url},
    )
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=MISFIRE_GRACE_SECONDS + 60)
    scheduler._lookup_executor("default").submit_job(job, [long_ago])
    scheduler.shutdown(wait=True)
    with db.begin() as session:
        assert session.execute(select(JobRun.job_id, JobRun.outcome)).all() == [("survey:late", "missed")]
    assert scheduled_jobs.SENT == []
