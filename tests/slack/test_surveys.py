"""Surveys, training and digests as Slack sees them: jobs run directly (or by real scheduler processes),
people click and submit through signed requests, and we assert on the fake Slack's recorded calls."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from PIL import Image
from sqlalchemy import select

from bot import ids, jobs
from bot.delivery import SurveySender
from bot.services import Services
from feedback.db import Database, utcnow
from feedback.people import ensure_user
from feedback.questions import log_question
from feedback.scheduler import run_now
from feedback.surveys import (
    SurveyDelivery,
    SurveyResponse,
    fan_out,
    open_round,
    parse_survey,
)
from feedback.training import assign_plan, pending_trainings

SURVEY = {
    "id": "pulse",
    "title": {"zh-CN": "ERP 满意度调查", "en": "ERP pulse"},
    "audience": ["finance", "warehouse"],
    "schedule": "0 10 * * fri",
    "window": "5d",
    "remind_before": "2d",
    "anonymous": True,
    "questions": [
        {"id": "overall", "type": "satisfaction", "text": {"zh-CN": "总体满意度？", "en": "Overall?"}},
        {"id": "nps", "type": "nps", "text": {"zh-CN": "推荐意愿？", "en": "Recommend?"}},
        {
            "id": "modules",
            "type": "module_rating",
            "text": "模块评分",
            "modules": [{"id": "inventory", "label": {"zh-CN": "库存", "en": "Inventory"}}, "sales"],
        },
        {"id": "comments", "type": "text", "text": "意见"},
    ],
}


@pytest.fixture
def slack_overrides(tmp_path):
    # Every hour and day allowed, so sends are due now; quiet hours have their own tests.
    return {"QUIET_HOURS": "", "WORKING_DAYS": "mon-sun", "MANAGERS_CHANNEL": "CMANAGERS"}


@pytest.fixture
def team(slack_services, fake_slack):
    """Write surveys.yaml, bind the jobs, and add people: 3 finance, 2 warehouse, 2 sales (not surveyed)."""
    path = slack_services.settings.surveys_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"surveys": [SURVEY]}, allow_unicode=True), encoding="utf-8")
    jobs.bind(slack_services)
    people = {
        "finance": ["UFIN1", "UFIN2", "UFIN3"],
        "warehouse": ["UWH1", "UWH2"],
        "sales": ["USAL1", "USAL2"],
    }
    with slack_services.db.begin() as session:
        for role, ids_ in people.items():
            for uid in ids_:
                ensure_user(session, uid, role=role, slack_locale="zh-CN")
                fake_slack.add_user(uid, locale="zh-CN")
    return people


def _dms(fake):
    return Counter(c.args["channel"] for c in fake.calls("chat.postMessage"))


def _run_round(at=None):
    return run_now(jobs.run_survey_round, at or utcnow().replace(microsecond=0), survey_id="pulse")


def _answer_state(sat="4", nps="9", inventory="5", comment="库存查询太慢"):
    """Slack's view.state.values for the survey modal."""

    def select(value):
        return {"type": "static_select", "selected_option": {"value": value} if value else None}

    a = ids.SURVEY_ANSWER
    return {
        "q:overall": {f"{a}:overall": select(sat)},
        "q:nps": {f"{a}:nps": select(nps)},
        "q:modules:inventory": {f"{a}:modules:inventory": select(inventory)},
        "q:modules:sales": {f"{a}:modules:sales": select(None)},
        "q:comments": {f"{a}:comments": {"type": "plain_text_input", "value": comment}},
    }


def _round_id(db):
    with db.begin() as session:
        return session.scalar(select(SurveyDelivery.round_id))


def test_a_round_reaches_exactly_its_audience_once(slack_app, team):
    fake = slack_app.fake
    scheduled = utcnow().replace(microsecond=0)
    report = _run_round(scheduled)
    assert report.sent == 5
    _run_round(scheduled)  # the same firing again (a retry, a second replica): nobody twice
    jobs.tick()
    assert _dms(fake) == Counter(team["finance"] + team["warehouse"])
    dm = fake.calls("chat.postMessage")[0]
    assert "ERP 满意度调查" in dm.text and "匿名" in dm.text
    assert dm.action_ids() == [ids.SURVEY_OPEN]


def test_answering_in_the_modal_once_and_anonymously(slack_app, team):
    fake = slack_app.fake
    _run_round()
    round_id = _round_id(slack_app.db)
    dm = next(c for c in fake.calls("chat.postMessage") if c.args["channel"] == "UFIN1")
    r = slack_app.sender.block_action(
        ids.SURVEY_OPEN,
        user_id="UFIN1",
        value=str(round_id),
        channel_id="DUFIN1",
        message_ts=dm.response["ts"],
    )
    assert r.status == 200
    modal = fake.wait_for("views.open")
    assert modal.args["view"]["callback_id"] == ids.SURVEY_MODAL
    assert "库存" in modal.text and "5 - 非常满意" in modal.text
    meta = modal.args["view"]["private_metadata"]

    # A missing required answer is shown under its question, and nothing is stored.
    bad = _answer_state(sat=None)
    r = slack_app.sender.view_submission(ids.SURVEY_MODAL, bad, user_id="UFIN1", private_metadata=meta)
    assert r.json()["response_action"] == "errors" and "q:overall" in r.json()["errors"]

    r = slack_app.sender.view_submission(
        ids.SURVEY_MODAL, _answer_state(), user_id="UFIN1", private_metadata=meta
    )
    assert r.status == 200 and not r.text.strip()  # the modal closes
    update = fake.wait_for("chat.update")
    assert update.args["ts"] == dm.response["ts"] and "已填写" in update.text
    assert ids.SURVEY_OPEN not in update.action_ids()

    r = slack_app.sender.view_submission(
        ids.SURVEY_MODAL, _answer_state(sat="1"), user_id="UFIN1", private_metadata=meta
    )
    assert r.json()["response_action"] == "update" and "已经填写过" in json.dumps(
        r.json(), ensure_ascii=False
    )
    slack_app.settle()
    with slack_app.db.begin() as session:
        [response] = session.scalars(select(SurveyResponse)).all()
        assert response.slack_user_id is None  # anonymous: no user id next to the answers
        assert response.answers == {
            "overall": 4,
            "nps": 9,
            "modules": {"inventory": 5},
            "comments": "库存查询太慢",
        }
        assert response.role == "finance"


def test_a_reminder_reaches_only_non_responders(slack_app, team, fake_slack):
    db = slack_app.db
    start = utcnow().replace(microsecond=0) - dt.timedelta(
        days=4
    )  # the reminder (2 days before close) is due
    survey = parse_survey(SURVEY)
    round_ = open_round(db, survey, start, slack_app.services.send_window, now=start)
    # Invited when the round opened (an invitation sent just now would hold the reminder back a while).
    fan_out(
        db, round_.id, SurveySender(slack_app.services), slack_app.services.send_window, now=lambda: start
    )
    from feedback.surveys import submit_response

    for uid in ("UFIN1", "UWH2"):
        submit_response(db, round_.id, uid, {"overall": 5, "nps": 10, "modules": {"sales": 4}})
    mark = fake_slack.mark()
    jobs.tick()
    jobs.tick()  # a second tick (or replica) reminds nobody again
    reminders = [c for c in fake_slack.calls()[mark:] if c.method == "chat.postMessage"]
    assert Counter(c.args["channel"] for c in reminders) == Counter(["UFIN2", "UFIN3", "UWH1"])
    assert all("温馨提醒" in c.text for c in reminders)


def test_reminders_on_day_3_and_day_5_say_how_long_is_left(slack_app, team, fake_slack, monkeypatch):
    """Two weekly rounds with reminders on day 3 and day 5: one is at day 3, one at day 5."""
    db, services = slack_app.db, slack_app.services
    with db.begin() as session:
        ensure_user(session, "UFINEN", role="finance", slack_locale="en-US")
    weekly = parse_survey(
        {k: v for k, v in SURVEY.items() if k != "remind_before"}
        | {"window": "7d", "reminders": ["5d", "3d"]}
    )
    now = utcnow().replace(microsecond=0)
    day3_start = now - dt.timedelta(days=3, hours=1)
    day5_start = now - dt.timedelta(days=5, hours=1)
    rounds = {}
    for name, start in (("day3", day3_start), ("day5", day5_start)):
        round_ = open_round(db, weekly, start, services.send_window, now=start)
        fan_out(db, round_.id, SurveySender(services), services.send_window, now=lambda start=start: start)
        rounds[name] = round_.id
    from feedback.surveys import send_reminders, submit_response

    # The day-5 round already had its day-3 reminder, sent by the real sender two days ago.
    send_reminders(
        db,
        rounds["day5"],
        SurveySender(services),
        services.send_window,
        now=lambda: day5_start + dt.timedelta(days=3),
    )
    submit_response(db, rounds["day5"], "UFIN1", {"overall": 5, "nps": 10, "modules": {"sales": 4}})
    mark = fake_slack.mark()
    jobs.tick()
    jobs.tick()  # a second tick (or replica) reminds nobody again
    posts = [c for c in fake_slack.calls()[mark:] if c.method == "chat.postMessage"]
    by_round: dict[int, list] = {}
    for c in posts:
        by_round.setdefault(int(c.args["blocks"][-1]["elements"][0]["value"]), []).append(c)
    audience = ["UFIN1", "UFIN2", "UFIN3", "UFINEN", "UWH1", "UWH2"]
    assert Counter(c.args["channel"] for c in by_round[rounds["day3"]]) == Counter(audience)
    assert Counter(c.args["channel"] for c in by_round[rounds["day5"]]) == Counter(audience[1:])
    day3 = {c.args["channel"]: c.text for c in by_round[rounds["day3"]]}
    day5 = {c.args["channel"]: c.text for c in by_round[rounds["day5"]]}
    assert "温馨提醒" in day3["UFIN2"] and "还剩 4 天" in day3["UFIN2"] and "不再提醒" not in day3["UFIN2"]
    assert (
        "最后一次提醒" in day5["UFIN2"] and "还剩 2 天" in day5["UFIN2"] and "之后不再提醒" in day5["UFIN2"]
    )
    assert "closes in 4 days" in day3["UFINEN"] and "Last reminder" in day5["UFINEN"]

    # The operator sees it: two reminders planned, how many are due, who was reminded and how often.
    from typer.testing import CliRunner

    from bot.cli import app

    settings = services.settings
    monkeypatch.chdir(settings.data_dir.parent)
    for key, value in {
        "ERP_COACH_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(key, value)
    listing = CliRunner().invoke(app, ["surveys", "list"])
    assert listing.exit_code == 0, listing.output
    lines = {line.split("│")[1].strip(): line for line in listing.output.splitlines() if line.count("│") > 8}
    assert "1/2" in lines[str(rounds["day3"])] and "6 (6 DMs)" in lines[str(rounds["day3"])]
    assert "2/2" in lines[str(rounds["day5"])] and "6 (11 DMs)" in lines[str(rounds["day5"])]


def test_a_late_click_gets_a_polite_closed_note(slack_app, team, fake_slack):
    db = slack_app.db
    start = utcnow().replace(microsecond=0) - dt.timedelta(days=6)  # a 5-day window: closed yesterday
    round_ = open_round(db, parse_survey(SURVEY), start, slack_app.services.send_window, now=start)
    fan_out(
        db, round_.id, SurveySender(slack_app.services), slack_app.services.send_window, now=lambda: start
    )
    jobs.tick()  # closes the round
    slack_app.sender.block_action(ids.SURVEY_OPEN, user_id="UWH1", value=str(round_.id), channel_id="DUWH1")
    note = fake_slack.wait_for("response_url")
    assert "本轮调查已经结束" in note.text
    assert not fake_slack.calls("views.open")


def test_a_restart_mid_round_sends_nobody_twice(slack_app, team, fake_slack):
    db_url = slack_app.db.url
    first = Services(slack_app.services.settings)  # the first process
    round_ = open_round(first.db, parse_survey(SURVEY), utcnow().replace(microsecond=0), first.send_window)
    sender = SurveySender(first)
    sent = 0

    def dying_sender(item):
        nonlocal sent
        if sent == 3:
            raise SystemExit("killed")  # the process dies with this person's delivery claimed
        sent += 1
        return sender(item)

    with pytest.raises(SystemExit):
        fan_out(first.db, round_.id, dying_sender, first.send_window)
    first.db.dispose()

    second = Services(slack_app.services.settings.model_copy())  # the restarted process
    assert second.db.url == db_url
    jobs.bind(second)
    jobs.tick()
    from feedback.surveys import release_stale_claims

    release_stale_claims(second.db, utcnow() + dt.timedelta(minutes=11))
    jobs.tick()
    counts = _dms(fake_slack)
    assert set(counts.values()) == {1}  # nobody twice
    assert len(counts) == 4  # 3 before the crash, 1 after; the in-flight one is not resent
    second.db.dispose()


def _two_schedulers(postgres_url, tmp_path, fake_slack, expected_dms: int) -> list[str]:
    """Run two real `erp-coach scheduler` processes on one PostgreSQL until `expected_dms` DMs were
    posted, then a few more ticks; returns their outputs."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "surveys.yaml").write_text(
        yaml.safe_dump({"surveys": [SURVEY]}, allow_unicode=True), encoding="utf-8"
    )
    fake_slack.rate_limit(per_second=60, methods=["chat.postMessage"], retry_after=1)
    env = {
        **os.environ,
        "ERP_COACH_DATA_DIR": str(data),
        "DATABASE_URL": postgres_url,
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "QUIET_HOURS": "",
        "WORKING_DAYS": "mon-sun",
        "SCHEDULER_TICK_SECONDS": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),  # the code under test, not an installed copy
    }
    cli = [sys.executable, "-c", "from bot.cli import main; main()", "scheduler"]
    procs = [
        subprocess.Popen(cli, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(_dms(fake_slack).values()) < expected_dms:
            time.sleep(0.3)
        time.sleep(2.5)  # a few more ticks on both: still nobody twice
    finally:
        for p in procs:
            p.terminate()
        outputs = [p.communicate(timeout=20)[0].decode("utf-8", "replace") for p in procs]
    assert all("Scheduler running" in out for out in outputs), outputs
    return outputs


@pytest.mark.postgres
def test_two_scheduler_processes_on_postgresql_send_once(postgres_url, tmp_path, fake_slack):
    """Two real `erp-coach scheduler` processes, one PostgreSQL, one fake Slack (rate-limited)."""
    db = Database(postgres_url)
    users = [f"U{i:04d}" for i in range(120)]
    with db.begin() as session:
        for uid in users:
            ensure_user(session, uid, role="finance")
    survey = parse_survey({**SURVEY, "audience": ["finance"]})
    from feedback.scheduler import SendWindow

    anytime = SendWindow(quiet_hours=None, working_days=frozenset(range(7)))
    round_ = open_round(db, survey, utcnow().replace(microsecond=0), anytime)
    outputs = _two_schedulers(postgres_url, tmp_path, fake_slack, len(users))
    counts = _dms(fake_slack)
    assert counts == Counter(users), outputs
    with db.begin() as session:
        workers = set(
            session.scalars(select(SurveyDelivery.claimed_by).where(SurveyDelivery.round_id == round_.id))
        )
    print(f"deliveries claimed by {len(workers)} process(es); 429s answered: {fake_slack.rate_limited}")
    db.dispose()


@pytest.mark.postgres
def test_two_scheduler_processes_back_after_both_reminder_times_send_one_reminder_each(
    postgres_url, tmp_path, fake_slack
):
    """Invited 6 days ago (day-3 and day-5 reminders both passed, nobody answered): two real schedulers
    catch up at once, and each person gets one reminder, the last, from one of them."""
    db = Database(postgres_url)
    users = [f"U{i:04d}" for i in range(100)]
    with db.begin() as session:
        for uid in users:
            ensure_user(session, uid, role="finance", slack_locale="zh-CN")
    from feedback.scheduler import SendWindow
    from feedback.surveys import Sent, round_progress

    anytime = SendWindow(quiet_hours=None, working_days=frozenset(range(7)))
    start = utcnow().replace(microsecond=0) - dt.timedelta(days=6)
    weekly = {k: v for k, v in SURVEY.items() if k != "remind_before"} | {
        "audience": ["finance"],
        "window": "7d",
        "reminders": ["3d", "5d"],
    }
    round_ = open_round(db, parse_survey(weekly), start, anytime, now=start)
    fan_out(db, round_.id, lambda item: Sent("D" + item.slack_user_id, "1.0"), anytime, now=lambda: start)
    _two_schedulers(postgres_url, tmp_path, fake_slack, len(users))
    counts = _dms(fake_slack)
    assert counts == Counter(users)
    assert all("最后一次提醒" in c.text for c in fake_slack.calls("chat.postMessage"))
    with db.begin() as session:
        p = round_progress(session, round_.id)
        workers = set(
            session.scalars(select(SurveyDelivery.claimed_by).where(SurveyDelivery.round_id == round_.id))
        )
    assert (p.reminded, p.reminder_dms, p.reminders_due) == (100, 100, 2)
    print(f"reminders claimed by {len(workers)} process(es); 429s answered: {fake_slack.rate_limited}")
    db.dispose()


def test_training_plan_reminder_and_mark_as_done(slack_app, team, fake_slack):
    services = slack_app.services
    with services.db.begin() as session:
        assign_plan(session, services.training, "UFIN1", "finance", now=utcnow() - dt.timedelta(days=6))
    jobs.tick()  # fin-invoice is due within 2 days: one reminder DM
    reminder = fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "UFIN1")
    assert "即将到期" in reminder.text and "创建并确认客户发票" in reminder.text
    done_button = next(a for a in reminder.action_ids() if a.startswith(ids.TRAINING_DONE))

    r = slack_app.sender.command("/erp", "training", user_id="UFIN1")
    reply = json.dumps(r.json(), ensure_ascii=False)
    assert r.status == 200 and "您的培训计划" in reply and "银行对账" in reply

    assignment_id = done_button.split(":")[1]
    slack_app.sender.block_action(done_button, user_id="UFIN1", value=assignment_id, channel_id="DUFIN1")
    updated = fake_slack.wait_for("response_url")
    assert (
        "已将 *创建并确认客户发票* 标记为完成" in updated.text
        and updated.args.get("replace_original") is True
    )
    with services.db.begin() as session:
        assert [i.module_id for i in pending_trainings(session, "UFIN1")] == ["fin-reconcile"]
    # Somebody else's button press changes nothing.
    slack_app.sender.block_action(done_button, user_id="UFIN2", value=assignment_id, channel_id="DUFIN2")
    assert "已经标记为完成" in fake_slack.wait_for("response_url", count=2).text


def test_app_home_shows_pending_trainings(slack_app, team, fake_slack):
    with slack_app.db.begin() as session:
        assign_plan(session, slack_app.services.training, "UWH1", "warehouse")
    slack_app.sender.home_opened("UWH1")
    home = fake_slack.wait_for("views.publish")
    assert "处理采购入库" in home.text and "库存盘点" in home.text
    assert any(a.startswith(ids.TRAINING_DONE) for a in home.action_ids())


def test_the_digest_goes_to_the_managers_with_real_charts(slack_app, team, fake_slack):
    services = slack_app.services
    with services.db.begin() as session:
        ensure_user(session, "UMGR", role="manager", slack_locale="en-US")
    week_start = utcnow() - dt.timedelta(days=3)
    round_ = open_round(
        services.db,
        parse_survey({**SURVEY, "audience": "all"}),
        week_start,
        services.send_window,
        now=week_start,
    )
    fan_out(services.db, round_.id, SurveySender(services), services.send_window)
    from feedback.surveys import submit_response

    everyone = [u for ids_ in team.values() for u in ids_]
    for i, uid in enumerate(everyone[:6]):
        submit_response(
            services.db, round_.id, uid, {"overall": 3 + i % 3, "nps": 5 + i, "modules": {"inventory": 4}}
        )
    with services.db.begin() as session:
        for i in range(4):
            log_question(
                session,
                slack_user_id="UFIN1",
                role="finance",
                lang="zh-CN",
                question=f"如何冲销发票{i}？",
                top_sources=[{"source": "accounting/发票.md", "heading": "冲销"}],
                answered=False,
                latency_ms=3.0,
            )
    mark = fake_slack.mark()
    since, until = utcnow() - dt.timedelta(days=7), utcnow() + dt.timedelta(minutes=1)
    delivered = run_now(jobs.send_digest, utcnow(), since=since, until=until)
    assert delivered == 2
    posts = [c for c in fake_slack.calls()[mark:] if c.method == "chat.postMessage"]
    channel_post = next(c for c in posts if c.args["channel"] == "CMANAGERS")
    manager_post = next(c for c in posts if c.args["channel"] == "DUMGR")
    assert "ERP 上线每周摘要" in channel_post.text and "6/8" in channel_post.text
    assert "ERP roll-out weekly digest" in manager_post.text  # the manager's own language
    assert ids.GAP_TO_TRAINING + ":0" in channel_post.action_ids()
    completes = fake_slack.calls("files.completeUploadExternal")[-2:]
    assert {c.args["channel_id"] for c in completes} == {"CMANAGERS", "DUMGR"}
    pngs = [Image.open(io.BytesIO(b)) for b in fake_slack.uploads.values()]
    assert pngs and all(p.format == "PNG" for p in pngs)
    trend = next(
        json.loads(p.info["Description"]) for p in pngs if "trend" in json.loads(p.info["Description"])
    )
    expected = round(sum(3 + i % 3 for i in range(6)) / 6, 2)
    assert trend["trend"][-1]["satisfaction"] == expected

    # One click turns the knowledge gap into a training for the finance role.
    button = channel_post.element(ids.GAP_TO_TRAINING + ":0")
    slack_app.sender.block_action(
        button["action_id"], user_id="UMGR", value=button["value"], channel_id="CMANAGERS"
    )
    note = fake_slack.wait_for("response_url")
    assert "Added *冲销* to the finance training plan; assigned to 3 people." in note.text
    slack_app.sender.block_action(
        button["action_id"], user_id="UFIN2", value=button["value"], channel_id="CMANAGERS"
    )
    assert "只有管理员或经理" in fake_slack.wait_for("response_url", count=2).text  # UFIN2 reads Chinese


def test_run_now_from_the_cli_sends_the_round(slack_settings, team, fake_slack, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.chdir(slack_settings.data_dir.parent)
    env = {
        "ERP_COACH_DATA_DIR": str(slack_settings.data_dir),
        "DATABASE_URL": slack_settings.database_url,
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "QUIET_HOURS": "",
        "WORKING_DAYS": "mon-sun",
        "COLUMNS": "160",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["surveys", "run-now", "pulse"])
    assert result.exit_code == 0, result.output
    assert "audience 5, sent 5, failed 0, pending 0" in result.output
    assert _dms(fake_slack) == Counter(team["finance"] + team["warehouse"])
    listing = CliRunner().invoke(app, ["surveys", "list"])
    assert "Latest rounds" in listing.output and "pulse" in listing.output


def test_do_not_disturb_in_slack_holds_a_survey_dm_until_it_ends(slack_app, team, fake_slack):
    fake_slack.users["UFIN2"].dnd = (time.time() - 3600, time.time() + 2)  # in a focus block for 2 s more
    report = _run_round()
    assert (report.sent, report.deferred) == (4, 1) and "UFIN2" not in _dms(fake_slack)
    [lookup] = fake_slack.calls("dnd.teamInfo")  # everyone pending, in one call
    assert sorted(lookup.args["users"].split(",")) == sorted(team["finance"] + team["warehouse"])
    jobs.tick()
    assert "UFIN2" not in _dms(fake_slack)
    time.sleep(2.1)
    jobs.tick()  # do-not-disturb has ended: the invitation goes out, without asking Slack again
    assert _dms(fake_slack) == Counter(team["finance"] + team["warehouse"])
    assert len(fake_slack.calls("dnd.teamInfo")) == 1


def test_without_the_dnd_scope_survey_dms_go_out_and_the_log_says_what_to_add(
    slack_app, team, fake_slack, caplog
):
    caplog.set_level(logging.WARNING, logger="erp_coach.dnd")
    fake_slack.respond_with("dnd.teamInfo", {"ok": False, "error": "missing_scope", "needed": "dnd:read"})
    fake_slack.users["UFIN2"].dnd = (time.time() - 3600, time.time() + 3600)
    assert _run_round().sent == 5
    jobs.tick()
    assert _dms(fake_slack) == Counter(team["finance"] + team["warehouse"])
    assert len(fake_slack.calls("dnd.teamInfo")) == 1  # asked once, not on every tick
    assert [r.getMessage() for r in caplog.records if "dnd:read" in r.getMessage()]
