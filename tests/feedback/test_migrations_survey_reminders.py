"""0008 survey_reminders on a database with rounds in flight: the round's one reminder becomes reminder 1,
and whoever was already reminded counts as reminded once, so nobody is reminded twice by the upgrade."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from alembic import command
from sqlalchemy import select, text

from feedback.db import Database, alembic_config
from feedback.people import ensure_user
from feedback.scheduler import SendWindow
from feedback.surveys import (
    Sent,
    SurveyDelivery,
    SurveyReminder,
    fan_out,
    open_round,
    parse_survey,
    round_progress,
    send_reminders,
)

ANY_TIME = SendWindow(tz="Asia/Shanghai", quiet_hours=None, working_days=frozenset(range(7)))
START = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
SURVEY = {
    "id": "老调查",
    "title": "ERP 满意度",
    "schedule": "0 10 * * fri",
    "window": "5d",
    "reminders": ["3d"],
    "questions": [{"id": "overall", "type": "satisfaction", "text": "总体满意度？"}],
}


def _send(sent):
    def send(item):
        sent.append((item.slack_user_id, item.kind, item.reminder))
        return Sent("D" + item.slack_user_id, "1.0")

    return send


def test_an_old_round_keeps_its_one_reminder_and_who_had_it(db_url):
    db = Database(db_url)
    with db.begin() as session:
        for uid in ("U已提醒", "U失败", "U未提醒", "U发送中"):
            ensure_user(session, uid, role="finance")
    round_ = open_round(db, parse_survey(SURVEY), START, ANY_TIME, now=START)
    fan_out(db, round_.id, _send([]), ANY_TIME, now=lambda: START)
    db.dispose()

    # Back to the schema before this branch, where the old code had already reminded some people.
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "channel_settings")
    db = Database(db_url)
    with db.engine.begin() as conn:
        remind_at = conn.execute(text("SELECT remind_at FROM survey_rounds")).scalar_one()
        assert remind_at is not None  # the downgrade kept reminder 1 as the old single reminder
        for uid, status in (("U已提醒", "sent"), ("U失败", "failed"), ("U发送中", "sending")):
            conn.execute(
                text(
                    "UPDATE survey_deliveries SET reminder_status = :s, reminded_at = :at, claimed_at = :at "
                    "WHERE slack_user_id = :u"
                ),
                {"s": status, "u": uid, "at": remind_at},
            )
    db.dispose()

    command.upgrade(cfg, "heads")
    db = Database(db_url)
    with db.begin() as session:
        reminders = session.execute(select(SurveyReminder.number, SurveyReminder.due_at)).all()
        assert reminders == [(1, START + dt.timedelta(days=3))]
        counts = {
            d.slack_user_id: (d.last_reminder, d.reminders_sent)
            for d in session.scalars(select(SurveyDelivery))
        }
        assert counts == {"U已提醒": (1, 1), "U失败": (1, 0), "U未提醒": (0, 0), "U发送中": (1, 0)}
        assert round_progress(session, round_.id, now=START + dt.timedelta(days=4)).reminded == 1

    sent: list = []
    day4 = START + dt.timedelta(days=4)
    send_reminders(db, round_.id, _send(sent), ANY_TIME, now=lambda: day4)
    send_reminders(db, round_.id, _send(sent), ANY_TIME, now=lambda: day4 + dt.timedelta(hours=1))
    assert Counter(sent) == Counter([("U未提醒", "reminder", 1)])  # only the one never reminded
    with db.begin() as session:
        p = round_progress(session, round_.id, now=day4)
    assert (p.reminded, p.reminder_dms, p.reminders_due, p.reminders_planned) == (2, 2, 1, 1)
    db.dispose()
