"""Colleague ratings, end to end: an answer shared to a channel, or posted in a channel's thread, takes
👍/👎 from anyone there, one vote per person, and shows the tally in place; the asker's click stays the
asker's rating."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot import ids
from feedback.colleague_ratings import ColleagueRating
from feedback.questions import QuestionLog


def _share(app, asker: str, question: str, *, channel: str = "C0GEN") -> tuple[int, dict]:
    """Ask with /erp, press Share: the question id and the shared message as Slack sends it back."""
    fake = app.fake
    mark = fake.mark()
    app.sender.command("/erp", question, user_id=asker, channel_id=channel)
    answer = fake.wait_for("response_url", after=mark)
    mark = fake.mark()
    value = answer.element(ids.SHARE_ANSWER)["value"]
    app.sender.block_action(ids.SHARE_ANSWER, user_id=asker, value=value, channel_id=channel)
    public = fake.wait_for("response_url", lambda c: c.args.get("response_type") == "in_channel", after=mark)
    message = {"type": "message", "ts": "1700000000.000900", "text": public.args["text"]}
    return int(value), message | {"blocks": public.args["blocks"]}


def _click(app, action_id: str, user: str, qid: int | str | None, message: dict, *, channel: str = "C0GEN"):
    """A click on the shared message; returns (the message redrawn or None, the clicker's note or None)."""
    fake = app.fake
    mark = fake.mark()
    value = None if qid is None else str(qid)
    r = app.sender.block_action(action_id, user_id=user, value=value, message=message, channel_id=channel)
    assert r.status == 200
    app.settle()
    calls = fake.calls()[mark:]
    redrawn = [c for c in calls if c.method == "response_url" and c.args.get("replace_original") is True]
    notes = [c for c in calls if c.method == "response_url" and c.args.get("response_type") == "ephemeral"]
    return (redrawn[-1] if redrawn else None), (notes[-1] if notes else None)


def _votes(app, qid: int) -> list[tuple[str, int, str | None]]:
    with app.db.begin() as s:
        rows = s.scalars(
            select(ColleagueRating)
            .where(ColleagueRating.question_id == qid)
            .order_by(ColleagueRating.slack_user_id)
        )
        return [(r.slack_user_id, r.rating, r.reason) for r in rows]


def _asker_rating(app, qid: int) -> tuple[int | None, str | None]:
    with app.db.begin() as s:
        entry = s.get(QuestionLog, qid)
        return entry.rating, entry.rating_reason


def test_a_colleague_rates_a_shared_answer_once_and_the_message_shows_the_tally(answering_app):
    app, fake = answering_app, answering_app.fake
    for user in ("U1", "U2", "U3"):
        fake.add_user(user, locale="en-US")
    qid, message = _share(app, "U1", "I forgot my ERP password")
    public_ids = {
        el["action_id"] for b in message["blocks"] for el in b.get("elements", []) if "action_id" in el
    }
    assert {ids.SHARED_HELPFUL, ids.SHARED_NOT_HELPFUL, ids.OPEN_TICKET} <= public_ids
    assert "Colleague ratings: none yet" in str(message["blocks"])

    redrawn, note = _click(app, ids.SHARED_HELPFUL, "U2", qid, message)
    assert "Colleague ratings: 👍 1 · 👎 0" in redrawn.text
    assert ids.SHARED_HELPFUL in redrawn.action_ids()  # still there for the next colleague
    assert "Your colleague rating is recorded: helpful" in note.text
    assert _votes(app, qid) == [("U2", 1, None)]
    assert _asker_rating(app, qid) == (None, None)

    # A double click (or the same click again on the redrawn message): still one vote.
    message = message | {"blocks": redrawn.blocks}
    redrawn, _ = _click(app, ids.SHARED_HELPFUL, "U2", qid, message)
    assert "Colleague ratings: 👍 1 · 👎 0" in redrawn.text
    assert _votes(app, qid) == [("U2", 1, None)]

    # A second colleague's 👎 opens the reason dialog; the reason lands on their vote.
    mark = fake.mark()
    redrawn, note = _click(app, ids.SHARED_NOT_HELPFUL, "U3", qid, message)
    modal = fake.wait_for("views.open", after=mark)
    assert modal.args["view"]["callback_id"] == ids.FEEDBACK_REASON_MODAL
    assert "Colleague ratings: 👍 1 · 👎 1" in redrawn.text
    assert "not helpful" in note.text
    values = {
        ids.FEEDBACK_REASON_BLOCK: {
            ids.FEEDBACK_REASON_INPUT: {"type": "radio_buttons", "selected_option": {"value": "wrong"}}
        }
    }
    private_metadata = modal.args["view"]["private_metadata"]
    app.sender.view_submission(
        ids.FEEDBACK_REASON_MODAL, values, user_id="U3", private_metadata=private_metadata
    )
    deadline = time.monotonic() + 5
    while _votes(app, qid)[-1] != ("U3", -1, "wrong") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _votes(app, qid) == [("U2", 1, None), ("U3", -1, "wrong")]
    assert _asker_rating(app, qid) == (None, None)  # a colleague's reason is not the asker's

    # Changing one's mind moves the vote, not adds one.
    redrawn, _ = _click(app, ids.SHARED_HELPFUL, "U3", qid, message)
    assert "Colleague ratings: 👍 2 · 👎 0" in redrawn.text
    assert _votes(app, qid) == [("U2", 1, None), ("U3", 1, None)]


def test_the_askers_click_on_their_shared_answer_is_the_askers_rating(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    qid, message = _share(app, "U1", "I forgot my ERP password")

    redrawn, note = _click(app, ids.SHARED_HELPFUL, "U1", qid, message)
    assert _asker_rating(app, qid) == (1, None)
    assert _votes(app, qid) == []
    assert redrawn is None  # the buttons stay for colleagues; the tally has not moved
    assert "You marked this answer as helpful" in note.text

    mark = fake.mark()
    _click(app, ids.SHARED_NOT_HELPFUL, "U1", qid, message)
    modal = fake.wait_for("views.open", after=mark)
    values = {
        ids.FEEDBACK_REASON_BLOCK: {
            ids.FEEDBACK_REASON_INPUT: {"type": "radio_buttons", "selected_option": {"value": "outdated"}}
        }
    }
    app.sender.view_submission(
        ids.FEEDBACK_REASON_MODAL,
        values,
        user_id="U1",
        private_metadata=modal.args["view"]["private_metadata"],
    )
    deadline = time.monotonic() + 5
    while _asker_rating(app, qid) != (-1, "outdated") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _asker_rating(app, qid) == (-1, "outdated")
    assert _votes(app, qid) == []


def test_a_chinese_answer_keeps_its_chinese_tally_and_each_voter_hears_their_own_language(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    fake.add_user("UZH2", locale="zh-CN")
    fake.add_user("UEN", locale="en-US")
    qid, message = _share(app, "UZH", "怎么提交报销单？")
    assert "同事评价：暂无" in str(message["blocks"])

    redrawn, note = _click(app, ids.SHARED_HELPFUL, "UZH2", qid, message)
    assert "同事评价：👍 1 · 👎 0" in redrawn.text
    assert "你的同事评价已记录：有帮助" in note.text

    message = message | {"blocks": redrawn.blocks}
    redrawn, note = _click(app, ids.SHARED_NOT_HELPFUL, "UEN", qid, message)
    assert "同事评价：👍 1 · 👎 1" in redrawn.text  # the message's language, not the clicker's
    assert "Colleague ratings" not in redrawn.text
    assert "Your colleague rating is recorded: not helpful" in note.text


def test_an_answer_to_a_mention_in_a_channel_takes_colleague_ratings_too(answering_app):
    """Everyone in the thread reads an @mention's answer: a colleague's 👍 is theirs, the asker's click
    the asker's rating, and the buttons stay for the rest. A DM's answer stays the asker's alone."""
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    fake.add_user("UC2", locale="zh-CN")
    app.sender.event(
        {
            "type": "app_mention",
            "channel": "C0FIN",
            "user": "UZH",
            "text": "<@UBOT> 怎么提交报销单？",
            "ts": "1700000301.000100",
        }
    )
    answer = fake.wait_for("chat.postMessage")
    assert answer.args["thread_ts"] == "1700000301.000100"
    assert {ids.SHARED_HELPFUL, ids.SHARED_NOT_HELPFUL} <= set(answer.action_ids())
    assert ids.FEEDBACK_HELPFUL not in answer.action_ids()
    qid = int(answer.element(ids.SHARED_HELPFUL)["value"])
    message = {"type": "message", "ts": answer.response["ts"], "text": answer.text}
    message |= {"blocks": answer.args["blocks"]}

    redrawn, note = _click(app, ids.SHARED_HELPFUL, "UC2", qid, message, channel="C0FIN")
    assert "同事评价：👍 1 · 👎 0" in redrawn.text
    assert ids.SHARED_HELPFUL in redrawn.action_ids()
    assert note is not None and _votes(app, qid) == [("UC2", 1, None)]
    assert _asker_rating(app, qid) == (None, None)

    redrawn, note = _click(app, ids.SHARED_NOT_HELPFUL, "UZH", qid, message, channel="C0FIN")
    assert _asker_rating(app, qid) == (-1, None) and _votes(app, qid) == [("UC2", 1, None)]

    mark = fake.mark()
    app.sender.dm("UZH", "怎么提交报销单？")
    private = fake.wait_for("chat.postMessage", after=mark)
    assert ids.FEEDBACK_HELPFUL in private.action_ids() and ids.SHARED_HELPFUL not in private.action_ids()


def test_bad_buttons_under_a_shared_answer_are_ignored(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    fake.add_user("U2", locale="en-US")
    qid, message = _share(app, "U1", "I forgot my ERP password")
    for action_id in (ids.SHARED_HELPFUL, ids.SHARED_NOT_HELPFUL):
        for value in (None, "", "abc", "1.5", str(qid + 999)):
            mark = fake.mark()
            redrawn, note = _click(app, action_id, "U2", value, message)
            assert (redrawn, note) == (None, None), value
            assert "views.open" not in fake.methods()[mark:]
    assert _votes(app, qid) == [] and _asker_rating(app, qid) == (None, None)
    # The app is still fine afterwards.
    redrawn, _ = _click(app, ids.SHARED_HELPFUL, "U2", qid, message)
    assert "👍 1" in redrawn.text
