"""One "was this helpful?" in the answer's thread when nobody rated it: scheduled with Slack, withdrawn
by the rating, never more than one per person per cooldown."""

from __future__ import annotations

import time

import pytest

from bot import ids
from feedback.questions import QuestionLog


def _ask(app, user: str, text: str) -> tuple:
    mark = app.fake.mark()
    app.sender.dm(user, text, channel=f"D{user}")
    answer = app.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == f"D{user}", after=mark)
    return answer, mark


def test_an_answer_schedules_one_reminder_in_its_thread_in_the_askers_language(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    answer, mark = _ask(app, "UZH", "怎么提交报销单？")
    reminder = fake.wait_for("chat.scheduleMessage", after=mark)
    assert reminder.args["channel"] == "DUZH" and reminder.args["thread_ts"] == answer.response["ts"]
    assert 29 * 60 < int(reminder.args["post_at"]) - time.time() <= 30 * 60
    assert "这个回答有帮助吗" in reminder.text
    helpful = reminder.element(ids.FEEDBACK_HELPFUL)["value"]
    assert helpful == answer.element(ids.FEEDBACK_HELPFUL)["value"]  # the same question's 👍


def test_rating_the_answer_withdraws_the_reminder(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    answer, mark = _ask(app, "U1", "How do I validate a receipt?")
    scheduled = fake.wait_for("chat.scheduleMessage", after=mark)
    qid = answer.element(ids.FEEDBACK_HELPFUL)["value"]
    app.sender.block_action(
        ids.FEEDBACK_HELPFUL, user_id="U1", value=qid, channel_id="DU1", message=answer.response["message"]
    )
    withdrawn = fake.wait_for("chat.deleteScheduledMessage")
    assert withdrawn.args["scheduled_message_id"] == scheduled.response["scheduled_message_id"]
    assert withdrawn.args["channel"] == "DU1"
    with app.db.begin() as s:
        entry = s.get(QuestionLog, int(qid))
        assert entry.rating == 1 and entry.rating_reminder_id is None


def test_nobody_is_reminded_twice_within_the_cooldown(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    _, mark = _ask(app, "U1", "How do I validate a receipt?")
    fake.wait_for("chat.scheduleMessage", after=mark)
    _ask(app, "U1", "How do I return goods to a vendor?")
    app.settle()
    assert len(fake.calls("chat.scheduleMessage")) == 1


def test_an_abstained_question_gets_no_reminder(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    _ask(app, "U1", "what's for lunch in the canteen today")
    app.settle()
    assert fake.calls("chat.scheduleMessage") == []


@pytest.mark.parametrize("slack_overrides", [{"RATING_REMINDER_MINUTES": 0}])
def test_reminders_can_be_switched_off(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    _ask(app, "U1", "How do I validate a receipt?")
    app.settle()
    assert fake.calls("chat.scheduleMessage") == []
