"""Survey definitions, rounds, fan-out (crash, concurrency, quiet hours), reminders, responses, anonymity."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import inspect, select

from feedback.db import Database
from feedback.people import ensure_user
from feedback.scheduler import QuietHours, SendWindow
from feedback.surveys import (
    DeliveryFailed,
    DeliveryStatus,
    InvalidAnswer,
    RoundStatus,
    Sent,
    SubmitOutcome,
    SurveyCatalog,
    SurveyConfigError,
    SurveyDelivery,
    SurveyReminder,
    SurveyResponse,
    SurveyRound,
    close_due_rounds,
    fan_out,
    open_round,
    parse_survey,
    release_stale_claims,
    round_progress,
    send_reminders,
    submit_response,
)

ROLES = ["finance", "warehouse", "sales", "manager"]
EXAMPLE = Path(__file__).resolve().parents[2] / "feedback" / "examples" / "surveys.yaml"
ANY_TIME = SendWindow(tz="Asia/Shanghai", quiet_hours=None, working_days=frozenset(range(7)))
OFFICE = SendWindow(
    tz="Asia/Shanghai", quiet_hours=QuietHours.parse("21:00-08:30"), working_days=frozenset(range(5))
)
SH = ZoneInfo("Asia/Shanghai")


def survey_raw(**overrides):
    raw = {
        "id": "pulse",
        "title": {"zh-CN": "ERP 满意度", "en": "ERP pulse"},
        "audience": "all",
        "schedule": "0 10 * * fri",
        "window": "5d",
        "remind_before": "2d",
        "anonymous": True,
        "questions": [
            {"id": "overall", "type": "satisfaction", "text": "总体满意度？"},
            {"id": "nps", "type": "nps", "text": "推荐意愿？"},
            {"id": "modules", "type": "module_rating", "text": "模块评分", "modules": ["sales", "inventory"]},
            {"id": "comments", "type": "text", "text": "意见"},
        ],
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}  # remind_before=None: the key is left out


class Recorder:
    """Stands in for Slack: records who was sent what."""

    def __init__(
        self,
        fail_for: dict[str, DeliveryFailed] | None = None,
        crash_after: int | None = None,
        delay: float = 0.0,
    ):
        self.sent: list[tuple[str, str, int]] = []
        self.items = []  # every Outgoing that reached "Slack"
        self.fail_for = fail_for or {}
        self.crash_after = crash_after
        self.delay = delay  # a Slack call takes time; widens races between workers
        self.lock = threading.Lock()

    def __call__(self, item):
        if item.slack_user_id in self.fail_for:
            raise self.fail_for[item.slack_user_id]
        with self.lock:
            if self.crash_after is not None and len(self.sent) >= self.crash_after:
                raise SystemExit("the process was killed mid-send")
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.sent.append((item.kind, item.slack_user_id, item.round_id))
            self.items.append(item)
        return Sent("D" + item.slack_user_id, "1.0")

    def users(self, kind="survey"):
        return Counter(u for k, u, _ in self.sent if k == kind)

    def reminders(self) -> Counter:
        """(person, reminder number) -> how many times it was sent."""
        return Counter((i.slack_user_id, i.reminder) for i in self.items if i.kind == "reminder")


def people(db: Database, spec: dict[str, int], tz: str | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with db.begin() as session:
        for role, n in spec.items():
            out[role] = []
            for i in range(n):
                uid = f"U{role[:3].upper()}{i:04d}"
                ensure_user(session, uid, role=role, slack_locale="zh-CN", tz=tz)
                out[role].append(uid)
    return out


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


# ---------------------------------------------------------------------------------------------------


def test_parse_survey_reads_the_shipped_example_and_rejects_mistakes():
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    survey = parse_survey(data["surveys"][0], ROLES)
    assert [q.type for q in survey.questions] == ["satisfaction", "nps", "module_rating", "text"]
    assert survey.anonymous and survey.window == dt.timedelta(days=7)
    assert survey.reminders == (dt.timedelta(days=3), dt.timedelta(days=5))  # day 3 and day 5
    assert survey.questions[2].modules[0] == ("sales", {"zh-CN": "销售", "en": "Sales"})

    with pytest.raises(SurveyConfigError, match="cron"):
        parse_survey(survey_raw(schedule="every friday"), ROLES)
    with pytest.raises(SurveyConfigError, match="unknown audience role"):
        parse_survey(survey_raw(audience=["财务"]), ROLES)
    with pytest.raises(SurveyConfigError, match="type must be one of"):
        parse_survey(survey_raw(questions=[{"id": "x", "type": "stars", "text": "?"}]), ROLES)
    with pytest.raises(SurveyConfigError, match="shorter than window"):
        parse_survey(survey_raw(window="1d", remind_before="2d"), ROLES)
    with pytest.raises(SurveyConfigError, match="letters, digits"):
        parse_survey(survey_raw(questions=[{"id": "q:1", "type": "nps", "text": "?"}]), ROLES)
    assert parse_survey(survey_raw(questions=[{"id": "满意度", "type": "nps", "text": "?"}]), ROLES)
    with pytest.raises(SurveyConfigError, match="modules"):
        parse_survey(survey_raw(questions=[{"id": "m", "type": "module_rating", "text": "?"}]), ROLES)


def test_several_reminders_after_the_send_and_the_older_remind_before():
    days = dt.timedelta(days=1)
    new = survey_raw(window="7d", reminders=["5d", "3d"], remind_before=None)
    assert parse_survey(new).reminders == (3 * days, 5 * days)
    assert parse_survey(survey_raw()).reminders == (3 * days,)  # remind_before: 2d of 5d: one on day 3
    assert parse_survey(survey_raw(remind_before="none")).reminders == ()
    without = survey_raw(window="7d", remind_before=None)
    assert parse_survey(without).reminders == (3 * days, 5 * days)  # the default: day 3 and day 5...
    assert parse_survey({**without, "window": "4d"}).reminders == (3 * days,)  # ...inside the window
    assert parse_survey({**without, "reminders": "none"}).reminders == ()
    assert parse_survey({**without, "reminders": "36h"}).reminders == (dt.timedelta(hours=36),)

    def bad(**raw):
        return parse_survey(survey_raw(id="季度调查", **raw))

    with pytest.raises(SurveyConfigError, match="'季度调查'.*reminder 5d is outside the response window"):
        bad(window="5d", reminders=["3d", "5d"], remind_before=None)
    with pytest.raises(SurveyConfigError, match="'季度调查'.*reminder 0d is outside the response window"):
        bad(window="5d", reminders=["0d"], remind_before=None)
    with pytest.raises(SurveyConfigError, match="'季度调查'.*listed twice"):
        bad(window="7d", reminders=["3d", "72h"], remind_before=None)
    with pytest.raises(SurveyConfigError, match="'季度调查'.*reminders: duration '三天'"):
        bad(window="7d", reminders=["三天"], remind_before=None)
    with pytest.raises(SurveyConfigError, match="'季度调查'.*not both"):
        bad(window="7d", reminders=["3d"], remind_before="2d")


def test_catalog_copies_the_example_on_first_run_and_edits_the_file(tmp_path):
    catalog = SurveyCatalog(tmp_path / "data" / "surveys.yaml", ROLES, EXAMPLE)
    assert catalog.ensure_file() is True
    assert catalog.ensure_file() is False
    assert [s.id for s in catalog.all()] == ["erp-pulse"]
    catalog.add(survey_raw(id="仓库调查", audience=["warehouse"], title="仓库满意度"))
    assert catalog.get("仓库调查").audience == ("warehouse",)
    catalog.set_paused("erp-pulse", True)
    fresh = SurveyCatalog(catalog.path, ROLES)  # another process reads the file
    assert fresh.get("erp-pulse").paused is True
    assert "仓库满意度" in catalog.path.read_text(encoding="utf-8")  # stays readable Chinese
    with pytest.raises(SurveyConfigError, match="already exists"):
        catalog.add(survey_raw(id="erp-pulse"))
    with pytest.raises(LookupError, match="surveys list"):
        catalog.get("nope")


def test_one_broken_survey_is_left_out_and_the_others_still_run(tmp_path):
    path = tmp_path / "surveys.yaml"
    surveys = [
        survey_raw(id="月度调查"),
        survey_raw(id="草稿", questions=[{"id": "q1", "type": "satisfaction"}]),  # no question text
        survey_raw(id="坏形状", questions=["总体满意度？"]),
        survey_raw(id="负窗口", window=-1),
        survey_raw(id="月度调查"),
    ]
    # As a Chinese Windows editor saves it (GBK), which must read as well as UTF-8.
    path.write_bytes(yaml.safe_dump({"surveys": surveys}, allow_unicode=True).encode("gbk"))
    catalog = SurveyCatalog(path, ROLES)
    assert [s.id for s in catalog.all()] == ["月度调查"]
    assert catalog.get("月度调查").title["zh-CN"] == "ERP 满意度"
    problems = catalog.problems()
    assert set(problems) == {"草稿", "坏形状", "负窗口", "月度调查"}
    assert "give a text" in problems["草稿"] and "give its fields" in problems["坏形状"]
    assert "longer than 0" in problems["负窗口"] and "used twice" in problems["月度调查"]
    with pytest.raises(SurveyConfigError, match="give a text"):
        catalog.get("草稿")


@pytest.mark.parametrize("text", ["- a\n- b\n", "surveys: {a: 1}\n", "surveys: [\n"])
def test_a_surveys_file_that_cannot_be_read_says_so(tmp_path, text):
    path = tmp_path / "surveys.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SurveyConfigError, match="surveys.yaml: (write `surveys:`|not valid YAML)"):
        SurveyCatalog(path, ROLES).all()


def test_a_round_reaches_exactly_its_audience_once(db):
    staff = people(db, {"finance": 4, "warehouse": 3, "sales": 2})
    survey = parse_survey(survey_raw(audience=["finance", "warehouse"]), ROLES)
    scheduled = now_utc()
    round_ = open_round(db, survey, scheduled, ANY_TIME)
    again = open_round(db, survey, scheduled, ANY_TIME)  # a second replica / a retry
    assert again.id == round_.id
    rec = Recorder()
    report = fan_out(db, round_.id, rec, ANY_TIME)
    assert report.sent == 7
    assert fan_out(db, round_.id, rec, ANY_TIME).sent == 0  # running it again sends nothing
    assert rec.users() == Counter(staff["finance"] + staff["warehouse"])
    with db.begin() as session:
        p = round_progress(session, round_.id)
        assert (p.audience, p.sent, p.pending, p.status) == (7, 7, 0, RoundStatus.OPEN)


def test_a_restart_mid_round_sends_nobody_twice(db_url):
    first = Database(db_url)
    staff = people(first, {"finance": 30})
    round_ = open_round(first, parse_survey(survey_raw()), now_utc(), ANY_TIME)
    crashing = Recorder(crash_after=12)
    with pytest.raises(SystemExit):
        fan_out(first, round_.id, crashing, ANY_TIME)
    first.dispose()

    second = Database(db_url)  # the restarted process
    rec = Recorder()
    # Right after the restart the in-flight delivery still looks claimed: it is neither resent...
    fan_out(second, round_.id, rec, ANY_TIME)
    # ...nor later, once its claim is stale; it becomes "uncertain" instead.
    assert release_stale_claims(second, now_utc() + dt.timedelta(minutes=11)) == 1
    fan_out(second, round_.id, rec, ANY_TIME)
    total = crashing.users() + rec.users()
    assert set(total.values()) == {1}
    assert len(total) == 29  # 12 before the crash + 17 after; the one in flight is not resent
    with second.begin() as session:
        statuses = Counter(
            session.scalars(select(SurveyDelivery.status).where(SurveyDelivery.round_id == round_.id))
        )
        assert statuses == {DeliveryStatus.SENT: 29, DeliveryStatus.UNCERTAIN: 1}
        uncertain = session.scalar(
            select(SurveyDelivery.slack_user_id).where(SurveyDelivery.status == "uncertain")
        )
    assert uncertain in staff["finance"] and uncertain not in total
    second.dispose()


@pytest.mark.postgres
def test_two_processes_fanning_out_one_round_concurrently_send_once(postgres_url):
    setup = Database(postgres_url)
    staff = people(setup, {"finance": 150})
    round_ = open_round(setup, parse_survey(survey_raw()), now_utc(), ANY_TIME)
    rec = Recorder()
    barrier = threading.Barrier(3)

    def worker():
        db = Database(postgres_url)
        barrier.wait()
        fan_out(db, round_.id, rec, ANY_TIME, batch=20)
        db.dispose()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert rec.users() == Counter(staff["finance"])
    setup.dispose()


def test_quiet_hours_hold_the_round_and_each_persons_time_zone_counts(db):
    people(db, {"finance": 2}, tz="Asia/Shanghai")
    with db.begin() as session:
        ensure_user(session, "UNY", role="finance", tz="America/New_York")
    survey = parse_survey(survey_raw())
    friday_night = dt.datetime(2026, 11, 27, 23, 0, tzinfo=SH).astimezone(dt.UTC)
    round_ = open_round(db, survey, friday_night, OFFICE, now=friday_night)
    assert round_.send_after == dt.datetime(2026, 11, 30, 8, 30, tzinfo=SH)
    assert round_.closes_at == round_.send_after + dt.timedelta(days=5)
    rec = Recorder()
    assert fan_out(db, round_.id, rec, OFFICE, now=lambda: friday_night).stopped == "not yet"
    monday_morning = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SH)  # Sunday 20:00 in New York
    report = fan_out(db, round_.id, rec, OFFICE, now=lambda: monday_morning)
    assert (report.sent, report.deferred) == (2, 1)
    monday_evening = dt.datetime(2026, 11, 30, 22, 0, tzinfo=SH)  # Monday 09:00 in New York
    assert fan_out(db, round_.id, rec, OFFICE, now=lambda: monday_evening).sent == 1
    assert rec.users()["UNY"] == 1


def test_a_reminder_reaches_only_non_responders_once(db):
    staff = people(db, {"finance": 6})["finance"]
    start = now_utc() - dt.timedelta(days=4)  # opened 4 days ago; 5-day window, reminder 2 days before
    round_ = open_round(db, parse_survey(survey_raw()), start, ANY_TIME, now=start)
    rec = Recorder()
    fan_out(db, round_.id, rec, ANY_TIME, now=lambda: start)
    answers = {"overall": 4, "nps": 9, "modules": {"sales": 4}}
    for uid in staff[:2]:
        assert submit_response(db, round_.id, uid, answers) == SubmitOutcome.ACCEPTED
    report = send_reminders(db, round_.id, rec, ANY_TIME)
    assert report.sent == 4
    assert rec.users("reminder") == Counter(staff[2:])
    assert send_reminders(db, round_.id, rec, ANY_TIME).sent == 0  # never twice
    # Not before the reminder time:
    other = open_round(db, parse_survey(survey_raw(id="other")), now_utc(), ANY_TIME)
    fan_out(db, other.id, rec, ANY_TIME)
    assert send_reminders(db, other.id, rec, ANY_TIME).stopped == "not due"


def test_answers_once_per_person_and_late_answers_are_refused(db):
    staff = people(db, {"finance": 2, "sales": 1})
    start = now_utc()
    survey = parse_survey(survey_raw(audience=["finance"], anonymous=False))
    round_ = open_round(db, survey, start, ANY_TIME)
    fan_out(db, round_.id, Recorder(), ANY_TIME)
    alice, bob = staff["finance"]
    good = {
        "overall": 5,
        "nps": 10,
        "modules": {"sales": 5, "inventory": 3},
        "comments": "库存模块 <b>很慢</b>",
    }
    assert submit_response(db, round_.id, alice, good) == SubmitOutcome.ACCEPTED
    assert submit_response(db, round_.id, alice, good) == SubmitOutcome.ALREADY_ANSWERED  # double click
    assert submit_response(db, round_.id, staff["sales"][0], good) == SubmitOutcome.NOT_INVITED
    with pytest.raises(InvalidAnswer) as bad:
        submit_response(db, round_.id, bob, {**good, "nps": 11})
    assert bad.value.question_id == "nps"
    with pytest.raises(InvalidAnswer):
        submit_response(db, round_.id, bob, {"nps": 3, "modules": {"sales": 1}})  # satisfaction missing
    after_close = round_.closes_at + dt.timedelta(minutes=1)
    assert submit_response(db, round_.id, bob, good, now=after_close) == SubmitOutcome.CLOSED
    assert close_due_rounds(db, after_close) == [round_.id]
    assert submit_response(db, round_.id, bob, good) == SubmitOutcome.CLOSED
    with db.begin() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.slack_user_id == alice  # a named survey keeps the name
        assert response.answers["modules"] == {"sales": 5, "inventory": 3}
        assert response.comment == "库存模块 <b>很慢</b>"


def test_anonymous_answers_cannot_be_linked_to_people(db):
    staff = people(db, {"finance": 5})["finance"]
    round_ = open_round(db, parse_survey(survey_raw()), now_utc(), ANY_TIME)
    fan_out(db, round_.id, Recorder(), ANY_TIME)
    # Two answer on the first day, one after the day-3 reminder: on its own day, that one answer
    # would name its author.
    for i, uid in enumerate(staff[:3]):
        at = now_utc() + dt.timedelta(days=0 if i < 2 else 3, hours=i)
        submit_response(db, round_.id, uid, {"overall": i + 3, "nps": 8, "modules": {"sales": 4}}, now=at)
    with db.begin() as session:
        responses = list(session.scalars(select(SurveyResponse)))
        assert len(responses) == 3
        columns = {c.key for c in inspect(SurveyResponse).columns}
        assert {"slack_user_id", "round_id", "answers"} <= columns
        for r in responses:
            assert r.slack_user_id is None
            assert staff[0] not in str(r.answers)
        markers = session.scalars(
            select(SurveyDelivery).where(SurveyDelivery.responded_on.is_not(None))
        ).all()
        assert {m.slack_user_id for m in markers} == set(staff[:3])  # reminders still know who answered
        # ...but neither side says when: every answer and every marker carries the round's time.
        times = {r.submitted_at for r in responses} | {m.responded_on for m in markers}
        assert times == {session.get(SurveyRound, round_.id).scheduled_for}


def test_delivery_failures_are_recorded_and_slack_outages_stop_the_fan_out(db):
    staff = people(db, {"finance": 10})["finance"]
    round_ = open_round(db, parse_survey(survey_raw()), now_utc(), ANY_TIME)
    gone = DeliveryFailed("account_inactive")
    rec = Recorder(fail_for={staff[0]: gone})
    report = fan_out(db, round_.id, rec, ANY_TIME)
    assert (report.sent, report.failed) == (9, 1)

    other = open_round(db, parse_survey(survey_raw(id="other")), now_utc(), ANY_TIME)
    down = DeliveryFailed("internal_error", retry=True)
    outage = Recorder(fail_for={uid: down for uid in staff})
    report = fan_out(db, other.id, outage, ANY_TIME, max_consecutive_errors=3)
    assert report.stopped and "internal_error" in report.stopped
    later = Recorder()
    assert fan_out(db, other.id, later, ANY_TIME).sent == 10  # nothing was lost, nothing doubled
    with db.begin() as session:
        assert session.get(SurveyRound, other.id).status == RoundStatus.OPEN


def test_closing_a_round_skips_people_still_waiting_for_quiet_hours_to_end(db):
    with db.begin() as session:
        ensure_user(session, "UNIGHT", role="finance", tz="America/New_York")
    start = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    round_ = open_round(
        db, parse_survey(survey_raw(window="1h", remind_before="none")), start, OFFICE, now=start
    )
    fan_out(db, round_.id, Recorder(), OFFICE, now=lambda: start)
    close_due_rounds(db, start + dt.timedelta(hours=2))
    with db.begin() as session:
        assert session.scalar(select(SurveyDelivery.status)) == DeliveryStatus.SKIPPED


def test_claiming_in_chunks_still_sends_once_and_bounds_the_uncertain_after_a_crash(db):
    people(db, {"finance": 25})
    round_ = open_round(db, parse_survey(survey_raw()), now_utc(), ANY_TIME)
    crashing = Recorder(crash_after=12)
    with pytest.raises(SystemExit):
        fan_out(db, round_.id, crashing, ANY_TIME, claim_chunk=10)
    release_stale_claims(db, now_utc() + dt.timedelta(minutes=11))
    rec = Recorder()
    fan_out(db, round_.id, rec, ANY_TIME, claim_chunk=10)
    total = crashing.users() + rec.users()
    assert set(total.values()) == {1}
    with db.begin() as session:
        statuses = Counter(session.scalars(select(SurveyDelivery.status)))
    # The chunk in flight (deliveries 11-20) is uncertain, two of them were in fact sent; the rest went out.
    assert statuses == {DeliveryStatus.SENT: 15, DeliveryStatus.UNCERTAIN: 10}
    assert len(total) == 17


# ---------------------------------------------------------------------------------------------------
# Several reminders: day 3 and day 5 of a 7-day window

DAY = dt.timedelta(days=1)
ANSWERS = {"overall": 4, "nps": 9, "modules": {"sales": 4}}


def weekly_round(db: Database, n: int, survey_id: str = "pulse", window: SendWindow = ANY_TIME):
    """A 7-day round with reminders on day 3 and day 5, sent to `n` finance people at its start."""
    staff = people(db, {"finance": n})["finance"]
    start = dt.datetime(2026, 11, 27, 10, 0, tzinfo=SH).astimezone(dt.UTC)  # a Friday, 10:00
    survey = parse_survey(survey_raw(id=survey_id, window="7d", reminders=["3d", "5d"], remind_before=None))
    round_ = open_round(db, survey, start, window, now=start)
    fan_out(db, round_.id, Recorder(), window, now=lambda: start)
    return staff, round_, start


def remind(db, round_id, rec, at, window=ANY_TIME):
    return send_reminders(db, round_id, rec, window, now=lambda: at)


def test_each_non_responder_gets_the_day_3_and_the_day_5_reminder_once(db):
    staff, round_, start = weekly_round(db, 6)
    with db.begin() as session:
        due = list(session.scalars(select(SurveyReminder.due_at).order_by(SurveyReminder.number)))
    assert due == [start + 3 * DAY, start + 5 * DAY]  # Monday and Wednesday 10:00
    for uid in staff[:2]:
        submit_response(db, round_.id, uid, ANSWERS, now=start + DAY)
    rec = Recorder()
    assert remind(db, round_.id, rec, start + 2 * DAY).stopped == "not due"
    assert remind(db, round_.id, rec, start + 3 * DAY).sent == 4
    assert remind(db, round_.id, rec, start + 3 * DAY + dt.timedelta(hours=5)).sent == 0  # never twice
    assert rec.reminders() == Counter({(u, 1): 1 for u in staff[2:]})
    submit_response(db, round_.id, staff[2], ANSWERS, now=start + 4 * DAY)  # 周二有人填了

    assert remind(db, round_.id, rec, start + 5 * DAY).sent == 3
    assert remind(db, round_.id, rec, start + 6 * DAY).sent == 0
    assert rec.reminders() == Counter({(u, 1): 1 for u in staff[2:]} | {(u, 2): 1 for u in staff[3:]})
    assert not any(u in staff[:2] for u, _ in rec.reminders())  # nobody who answered gets any
    last = [i for i in rec.items if i.reminder == 2]
    assert all(i.last_reminder and i.reminders == 2 and i.at == start + 5 * DAY for i in last)
    assert not any(i.last_reminder for i in rec.items if i.reminder == 1)
    with db.begin() as session:
        p = round_progress(session, round_.id, now=start + 6 * DAY)
    assert (p.reminded, p.reminder_dms, p.reminders_due, p.reminders_planned) == (4, 7, 2, 2)
    assert remind(db, round_.id, rec, start + 7 * DAY).stopped == "not due"  # closed: nothing more


def test_a_scheduler_down_over_both_reminder_times_sends_one_catch_up_reminder(db):
    staff, round_, start = weekly_round(db, 5)
    rec = Recorder()
    # Down from Friday to Thursday: both reminder times passed. One reminder each, the latest (the last).
    assert remind(db, round_.id, rec, start + 6 * DAY).sent == 5
    assert remind(db, round_.id, rec, start + 6 * DAY + dt.timedelta(hours=3)).sent == 0
    assert rec.reminders() == Counter({(u, 2): 1 for u in staff})
    with db.begin() as session:
        p = round_progress(session, round_.id, now=start + 6 * DAY)
    assert (p.reminded, p.reminder_dms) == (5, 5)


def test_a_catch_up_just_before_the_next_reminder_is_not_followed_by_it_at_once(db):
    staff, round_, start = weekly_round(db, 3)
    rec = Recorder()
    late = start + 5 * DAY - dt.timedelta(minutes=10)  # back up ten minutes before the day-5 reminder
    assert remind(db, round_.id, rec, late).sent == 3
    report = remind(db, round_.id, rec, start + 5 * DAY)
    assert (report.sent, report.deferred) == (0, 3)  # not ten minutes after the first
    assert remind(db, round_.id, rec, late + dt.timedelta(hours=23)).sent == 0
    assert remind(db, round_.id, rec, late + DAY).sent == 3  # a day later (half the 2-day spacing)
    assert rec.reminders() == Counter({(u, n): 1 for u in staff for n in (1, 2)})


def test_a_reminder_held_by_quiet_hours_past_the_close_is_not_sent(db):
    with db.begin() as session:
        ensure_user(session, "UNY", role="finance", slack_locale="zh-CN", tz="America/New_York")
        ensure_user(session, "USH", role="finance", slack_locale="zh-CN", tz="Asia/Shanghai")
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SH)  # 20:00 Sunday in New York
    # Closes Friday 21:00 Shanghai; the reminder is due Friday 20:00 Shanghai = 07:00 in New York (quiet).
    survey = parse_survey(survey_raw(window="108h", reminders=["107h"], remind_before=None))
    round_ = open_round(db, survey, monday, OFFICE, now=monday)
    fan_out(db, round_.id, Recorder(), OFFICE, now=lambda: monday)
    fan_out(db, round_.id, Recorder(), OFFICE, now=lambda: monday + dt.timedelta(hours=13))  # NY morning
    rec = Recorder()
    friday_8pm = monday + dt.timedelta(hours=107)
    report = remind(db, round_.id, rec, friday_8pm, OFFICE)
    assert (report.sent, report.deferred) == (1, 1) and rec.users("reminder") == Counter(["USH"])
    # New York's 08:30 is 21:30 in Shanghai: the round closed at 21:00, so no late reminder.
    assert remind(db, round_.id, rec, friday_8pm + dt.timedelta(hours=1, minutes=30), OFFICE).sent == 0
    assert rec.users("reminder") == Counter(["USH"])


def test_a_crash_mid_reminders_sends_nobody_a_reminder_twice(db_url):
    first = Database(db_url)
    staff, round_, start = weekly_round(first, 20)
    crashing = Recorder(crash_after=7)
    with pytest.raises(SystemExit):
        remind(first, round_.id, crashing, start + 3 * DAY)
    first.dispose()

    second = Database(db_url)  # the restarted process
    rec = Recorder()
    assert remind(second, round_.id, rec, start + 3 * DAY + dt.timedelta(minutes=1)).sent == 12
    # The one in flight when the process died may have arrived: counted as sent, never resent.
    assert release_stale_claims(second, start + 3 * DAY + dt.timedelta(minutes=11)) == 1
    assert remind(second, round_.id, rec, start + 3 * DAY + dt.timedelta(minutes=12)).sent == 0
    first_reminders = crashing.reminders() + rec.reminders()
    assert len(first_reminders) == 19 and set(first_reminders.values()) == {1}
    with second.begin() as session:
        p = round_progress(session, round_.id, now=start + 4 * DAY)
    assert (p.reminded, p.reminder_dms, p.reminders_due) == (20, 20, 1)
    # Day 5 reaches all 20, the uncertain one too.
    assert remind(second, round_.id, rec, start + 5 * DAY).sent == 20
    assert Counter(u for u, n in rec.reminders() if n == 2) == Counter(staff)
    second.dispose()


def test_a_slack_outage_hands_the_reminder_back_and_a_gone_account_gets_no_more(db):
    staff, round_, start = weekly_round(db, 5)
    down = DeliveryFailed("internal_error", retry=True)
    gone = DeliveryFailed("account_inactive")
    timeout = DeliveryFailed("timeout: read", sent_maybe=True)
    outage = Recorder(fail_for={staff[0]: down, staff[1]: gone, staff[4]: timeout})
    report = remind(db, round_.id, outage, start + 3 * DAY)
    assert (report.sent, report.failed, report.uncertain) == (2, 1, 1)
    rec = Recorder()
    assert remind(db, round_.id, rec, start + 3 * DAY + dt.timedelta(hours=1)).sent == 1  # staff[0], later
    assert remind(db, round_.id, rec, start + 5 * DAY).sent == 4  # the timed-out one too; not the gone one
    assert rec.reminders() == Counter({(staff[0], 1): 1} | {(u, 2): 1 for u in (staff[0], *staff[2:])})
    with db.begin() as session:
        p = round_progress(session, round_.id, now=start + 5 * DAY)
    assert (p.reminded, p.reminder_dms) == (4, 8)  # the timed-out reminder may have arrived: counted


@pytest.mark.postgres
def test_replicas_reminding_at_once_send_each_person_each_reminder_once(postgres_url):
    setup = Database(postgres_url)
    staff, round_, start = weekly_round(setup, 60)
    rec = Recorder(delay=0.002)

    def race(moments):
        barrier = threading.Barrier(len(moments))

        def worker(at):
            db = Database(postgres_url)
            barrier.wait()
            remind(db, round_.id, rec, at)
            db.dispose()

        threads = [threading.Thread(target=worker, args=(at,)) for at in moments]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    # Back after a long outage, three replicas tick around the day-5 reminder time: some still see only
    # reminder 1 due, others reminder 2. Everyone gets one reminder, never both back to back.
    day5 = start + 5 * DAY
    race([day5 - dt.timedelta(seconds=1), day5, day5 + dt.timedelta(seconds=1)])
    assert Counter(u for u, _ in rec.reminders()) == Counter(staff)
    # A day later the ones who got reminder 1 get reminder 2, once, however many replicas tick.
    got_first = {u for u, n in rec.reminders() if n == 1}
    race([day5 + DAY] * 3)
    assert Counter(u for u, n in rec.reminders() if n == 2) == Counter(staff)
    assert sum(rec.reminders().values()) == 60 + len(got_first)
    setup.dispose()


def dnd_until(periods: dict[str, tuple[dt.datetime, dt.datetime]]):
    """A do-not-disturb lookup over fixed periods per person, as Slack's dnd.teamInfo reports them."""
    asked: list[list[str]] = []

    def lookup(user_ids, moment):
        asked.append(list(user_ids))
        return {u for u in user_ids if u in periods and periods[u][0] <= moment < periods[u][1]}

    lookup.asked = asked
    return lookup


def test_do_not_disturb_holds_the_invitation_and_the_reminder_until_it_ends(db):
    staff = people(db, {"finance": 3})["finance"]
    start = dt.datetime(2026, 11, 27, 10, 0, tzinfo=SH).astimezone(dt.UTC)
    focus = {staff[0]: (start - DAY, start + dt.timedelta(hours=2))}  # a focus block this morning
    window = SendWindow(tz="Asia/Shanghai", working_days=frozenset(range(7)), dnd=dnd_until(focus))
    survey = parse_survey(survey_raw(window="7d", reminders=["3d"], remind_before=None))
    round_ = open_round(db, survey, start, window, now=start)
    rec = Recorder()
    report = fan_out(db, round_.id, rec, window, now=lambda: start)
    assert (report.sent, report.deferred) == (2, 1) and staff[0] not in rec.users()
    assert window.dnd.asked == [staff]  # one lookup for the batch, not one per person
    assert fan_out(db, round_.id, rec, window, now=lambda: start + dt.timedelta(hours=2)).sent == 1
    assert rec.users() == Counter(staff)

    # Day 3: the second person is in do-not-disturb for the afternoon; the reminder waits for its end.
    focus[staff[1]] = (start + 3 * DAY, start + 3 * DAY + dt.timedelta(hours=4))
    report = remind(db, round_.id, rec, start + 3 * DAY, window)
    assert (report.sent, report.deferred) == (2, 1) and staff[1] not in rec.users("reminder")
    assert remind(db, round_.id, rec, start + 3 * DAY + dt.timedelta(hours=4), window).sent == 1
    assert rec.reminders() == Counter({(u, 1): 1 for u in staff})


def test_a_do_not_disturb_lookup_that_fails_holds_nobody(db):
    staff = people(db, {"finance": 2})["finance"]

    def broken(user_ids, moment):
        raise ConnectionError("slack is unreachable")

    window = SendWindow(tz="Asia/Shanghai", working_days=frozenset(range(7)), dnd=broken)
    round_ = open_round(db, parse_survey(survey_raw()), now_utc(), window)
    rec = Recorder()
    assert fan_out(db, round_.id, rec, window).sent == 2 and rec.users() == Counter(staff)
