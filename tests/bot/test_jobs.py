"""The scheduler's start-up and job registry: textual job references, surveys.yaml changes, bad files."""

from __future__ import annotations

import os

import pytest

from bot import jobs
from bot.config import Settings
from bot.services import Services
from feedback.people import ensure_user


@pytest.fixture
def services(tmp_path, db_url):
    services = Services(Settings(_env_file=None, ERP_COACH_DATA_DIR=tmp_path / "data", DATABASE_URL=db_url))
    yield services
    services.db.dispose()


def _bump(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later mtime, as an edit makes


def test_jobs_unbound_say_what_to_do():
    jobs._binding.clear()
    with pytest.raises(jobs.JobsNotBound, match="start_scheduler"):
        jobs.tick()


def test_scheduler_registers_jobs_by_reference_and_follows_surveys_yaml(services):
    scheduler = jobs.start_scheduler(services)
    try:
        registered = {job.id: job for job in scheduler.get_jobs()}
        assert set(registered) == {
            "tick",
            "digest:weekly",
            "survey:erp-pulse",
            "tickets:sla",
            "tickets:stale",
        }
        assert registered["tickets:sla"].func_ref == "bot.jobs:ticket_sla_reminders"
        assert registered["survey:erp-pulse"].func_ref == "bot.jobs:run_survey_round"
        assert str(registered["survey:erp-pulse"].trigger.timezone) == "Asia/Shanghai"

        path = services.surveys.path
        path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [broken\n", encoding="utf-8")
        _bump(path)
        jobs.tick()  # a typo: logged, and the survey keeps its schedule
        assert scheduler.get_job("survey:erp-pulse") is not None

        path.write_text(path.read_text(encoding="utf-8").replace("\n  - id: [broken\n", ""), encoding="utf-8")
        services.surveys.set_paused("erp-pulse", True)
        _bump(path)
        jobs.tick()
        assert scheduler.get_job("survey:erp-pulse") is None
        assert scheduler.get_job("tick") is not None
    finally:
        scheduler.shutdown(wait=False)


def test_a_broken_survey_or_training_file_leaves_the_rest_running(services, caplog):
    scheduler = jobs.start_scheduler(services)
    try:
        path = services.surveys.path
        path.write_text(
            path.read_text(encoding="utf-8")
            + "  - id: 草稿\n    schedule: '0 9 * * mon'\n    questions:\n      - id: q1\n        type: nps\n",
            encoding="utf-8",
        )
        _bump(path)
        with services.db.begin() as session:  # someone whose plan the tick would assign
            ensure_user(session, "U_NEW", role="finance")
        services.training.path.write_text("plans: [finance]\n", encoding="utf-8")
        jobs.tick()  # neither file stops the tick
        assert scheduler.get_job("survey:erp-pulse") is not None  # the good survey keeps its schedule
        assert scheduler.get_job("survey:草稿") is None
        assert "survey 草稿 left out until surveys.yaml is fixed" in caplog.text
        assert "training.yaml not applied" in caplog.text
        assert jobs.run_survey_round("草稿") is None  # fired before the sync noticed: not sent, logged
    finally:
        scheduler.shutdown(wait=False)
