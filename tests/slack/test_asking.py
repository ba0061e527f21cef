"""Asking in Slack, end to end: signed requests in, Web API calls out, the question log in the database."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from bot import ids
from feedback.people import set_role
from feedback.questions import QuestionLog


def _log(app) -> list[QuestionLog]:
    with app.db.begin() as s:
        return list(s.scalars(select(QuestionLog).order_by(QuestionLog.id)))


def _wait_log(app, n: int = 1, timeout: float = 10) -> list[QuestionLog]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _log(app)
        if len(rows) >= n and all(r.message_ts or r.surface not in ("dm", "mention") for r in rows):
            return rows
        time.sleep(0.05)
    return _log(app)


def test_dm_question_gets_an_answer_with_citation_and_buttons(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    with app.db.begin() as s:
        set_role(s, "U1", "warehouse", app.services.settings.roles)
    r = app.sender.dm("U1", "How do I validate a receipt?", channel="DU1")
    assert r.status == 200 and r.elapsed < 1.0
    call = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DU1")
    text = call.text
    assert "Click Validate" in text  # the steps, quoted
    assert "Receiving goods › Validate a receipt" in text  # the citation
    assert "Related sections" in text
    assert {ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL, ids.OPEN_TICKET} <= set(call.action_ids())
    assert fake.calls("reactions.add")[0].args["name"] == "eyes"  # searching indicator
    fake.wait_for("reactions.remove")
    [entry] = _wait_log(app)
    assert (entry.slack_user_id, entry.role, entry.lang, entry.surface) == ("U1", "warehouse", "en", "dm")
    assert entry.answered and entry.latency_ms > 0
    assert entry.top_sources[0]["source"] == "inventory/receipts.md" and entry.top_sources[0]["score"] > 0
    assert entry.message_ts == call.response["ts"]
    assert call.element(ids.FEEDBACK_HELPFUL)["value"] == str(entry.id)


def test_chinese_question_from_zh_user_gets_a_chinese_answer_and_ui(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    app.sender.dm("UZH", "怎么提交报销单？")
    call = fake.wait_for("chat.postMessage")
    text = call.text
    assert "新建报销单" in text and "费用报销 › 提交报销单" in text
    assert "来源" in text and "有帮助" in text and "提交工单" in text
    assert "Helpful" not in text and "Source" not in text
    assert _wait_log(app)[0].lang == "zh"


def test_a_dm_question_with_a_screenshot_is_answered(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "DUZH",
        "channel_type": "im",
        "user": "UZH",
        "text": "怎么提交报销单？截图在这里",
        "files": [{"id": "F1", "name": "报错截图.png", "mimetype": "image/png"}],
    }
    app.sender.event(event)
    assert "新建报销单" in fake.wait_for("chat.postMessage").text


def test_when_storing_the_question_fails_the_asker_hears_so(answering_app):
    """The search works but the question log cannot be written (a broken or half-migrated database):
    the asker gets the error message, not silence."""
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    with app.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TABLE questions CASCADE" if app.db.url.startswith("postgresql") else "DROP TABLE questions"
        )
    app.sender.dm("UZH", "怎么提交报销单？")
    reply = fake.wait_for("chat.postMessage")
    assert "查找时出错了" in reply.text


def test_unanswerable_question_gets_the_abstain_view_with_a_prefilled_ticket(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    app.sender.dm("UZH", "今天食堂的菜单是什么？")
    call = fake.wait_for("chat.postMessage")
    assert "手册里没有找到" in call.text
    assert ids.FEEDBACK_HELPFUL not in call.action_ids()  # nothing to rate
    ticket = json.loads(call.element(ids.OPEN_TICKET)["value"])
    assert ticket["question"] == "今天食堂的菜单是什么？"
    [entry] = _wait_log(app)
    assert ticket["q"] == entry.id and entry.answered is False


def test_mention_is_answered_in_the_thread(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    app.sender.event(
        {
            "type": "app_mention",
            "channel": "C0OPS",
            "user": "U1",
            "text": "<@UBOT> how to give a discount on a quote",
            "ts": "1700000001.000100",
        }
    )
    call = fake.wait_for("chat.postMessage")
    assert call.args["channel"] == "C0OPS" and call.args["thread_ts"] == "1700000001.000100"
    assert "15%" in call.text
    assert _wait_log(app)[0].question == "how to give a discount on a quote"  # the mention is stripped


def test_slash_command_answers_privately_and_can_share(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    r = app.sender.command("/erp", "I forgot my ERP password", user_id="U1", channel_id="C0GEN")
    assert r.status == 200 and "Searching" in r.json()["text"]
    answer = fake.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert "Forgot password" in answer.text and "FAQ" in answer.text
    share = answer.element(ids.SHARE_ANSWER)
    mark = fake.mark()
    app.sender.block_action(ids.SHARE_ANSWER, user_id="U1", value=share["value"], channel_id="C0GEN")
    public = fake.wait_for("response_url", lambda c: c.args.get("response_type") == "in_channel", after=mark)
    assert "Forgot password" in public.text and "<@U1>" in public.text
    # Everyone in the channel may rate the shared answer (colleague ratings, tests/slack/test_colleague_ratings.py).
    assert ids.FEEDBACK_HELPFUL not in public.action_ids() and ids.SHARED_HELPFUL in public.action_ids()
    fake.wait_for("response_url", lambda c: c.args.get("delete_original") is True, after=mark)


@pytest.mark.parametrize(
    ("text", "expect"),
    [("help me validate a receipt", "Click Validate"), ("培训 收货怎么验证", "Validate a receipt")],
)
def test_a_question_that_starts_with_a_sub_command_word_is_still_answered(answering_app, text, expect):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    r = app.sender.command("/erp", text, user_id="U1", channel_id="C0GEN")
    assert "Searching" in r.json()["text"]  # not the help text, not the training plan
    answer = fake.wait_for("response_url")
    assert expect in answer.text, answer.text
    help_reply = app.sender.command("/erp", "help", user_id="U1").json()
    assert "How to use erp-coach" in json.dumps(help_reply, ensure_ascii=False)


def test_message_shortcut_answers_about_the_message(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    r = app.sender.message_shortcut(ids.ASK_SHORTCUT, user_id="U1", text="How do I validate a receipt?")
    assert r.status == 200
    call = fake.wait_for("response_url")
    assert "Click Validate" in call.text and call.args["response_type"] == "ephemeral"


def test_ask_modal_submission_shows_the_answer_in_the_modal(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    values = {ids.ASK_BLOCK: {ids.ASK_INPUT: {"type": "plain_text_input", "value": "月末盘点怎么做？"}}}
    r = app.sender.view_submission(ids.ASK_MODAL, values, user_id="UZH", view_id="V0ASK")
    assert r.status == 200 and r.json()["response_action"] == "update"
    call = fake.wait_for("views.update")
    assert call.args["view_id"] == "V0ASK" and "实际库存" in call.text


def test_retried_dm_event_is_answered_once(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    app.sender.dm("U1", "How do I validate a receipt?", event_id="Ev0DMRETRY")
    for n in (1, 2):
        assert (
            app.sender.dm("U1", "How do I validate a receipt?", event_id="Ev0DMRETRY", retry_num=n).status
            == 200
        )
    fake.wait_for("chat.postMessage")
    app.settle()
    time.sleep(0.3)
    assert len(fake.calls("chat.postMessage")) == 1
    with app.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(QuestionLog)) == 1


def test_helpful_and_not_helpful_are_recorded_for_the_asker_only(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    fake.add_user("U2", locale="en-US")
    app.sender.dm("U1", "How do I validate a receipt?")
    answer = fake.wait_for("chat.postMessage")
    [entry] = _wait_log(app)
    message = {
        "type": "message",
        "ts": answer.response["ts"],
        "text": answer.args["text"],
        "blocks": answer.args["blocks"],
    }
    qid = str(entry.id)

    mark = fake.mark()
    app.sender.block_action(ids.FEEDBACK_HELPFUL, user_id="U2", value=qid, message=message, channel_id="DU1")
    other = fake.wait_for("response_url", after=mark)
    assert "Only the person who asked" in other.text
    assert _log(app)[0].rating is None

    mark = fake.mark()
    app.sender.block_action(ids.FEEDBACK_HELPFUL, user_id="U1", value=qid, message=message, channel_id="DU1")
    updated = fake.wait_for("response_url", after=mark)
    assert updated.args["replace_original"] is True and "marked this answer as helpful" in updated.text
    assert ids.FEEDBACK_HELPFUL not in updated.action_ids()
    assert _log(app)[0].rating == 1

    mark = fake.mark()
    app.sender.block_action(
        ids.FEEDBACK_NOT_HELPFUL, user_id="U1", value=qid, message=message, channel_id="DU1"
    )
    modal = fake.wait_for("views.open", after=mark)
    assert modal.args["view"]["callback_id"] == ids.FEEDBACK_REASON_MODAL
    kept = fake.wait_for("response_url", after=mark)
    assert ids.OPEN_TICKET in kept.action_ids()  # the ticket button stays after a 👎
    values = {
        ids.FEEDBACK_REASON_BLOCK: {
            ids.FEEDBACK_REASON_INPUT: {"type": "radio_buttons", "selected_option": {"value": "outdated"}}
        }
    }
    r = app.sender.view_submission(
        ids.FEEDBACK_REASON_MODAL,
        values,
        user_id="U1",
        private_metadata=modal.args["view"]["private_metadata"],
    )
    assert r.status == 200
    deadline = time.monotonic() + 5
    while _log(app)[0].rating_reason != "outdated" and time.monotonic() < deadline:
        time.sleep(0.05)
    row = _log(app)[0]
    assert (row.rating, row.rating_reason) == (-1, "outdated")


def test_user_text_never_pings_the_channel(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    app.sender.command("/erp", "<!channel> how do I receive goods?", user_id="U1", channel_id="C0GEN")
    answer = fake.wait_for("response_url")
    mark = fake.mark()
    app.sender.block_action(ids.SHARE_ANSWER, user_id="U1", value=answer.element(ids.SHARE_ANSWER)["value"])
    public = fake.wait_for("response_url", lambda c: c.args.get("response_type") == "in_channel", after=mark)
    assert "&lt;!channel&gt;" in public.text  # shown, escaped; the fake rejects any real <!channel>


@pytest.mark.parametrize("slack_overrides", [{"DOCS_BASE_URL": "https://docs.example.com/erp/"}])
def test_citation_links_to_the_docs_site(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    app.sender.dm("UZH", "怎么提交报销单？")
    call = fake.wait_for("chat.postMessage")
    encoded = "https://docs.example.com/erp/%E8%B4%A2%E5%8A%A1/%E8%B4%B9%E7%94%A8%E6%8A%A5%E9%94%80.md"
    assert f"<{encoded}|费用报销 › 提交报销单>" in call.text


@pytest.mark.parametrize("slack_overrides", [{"DOCS_BASE_URL": "https://docs.example.com/erp/"}])
def test_a_faq_answer_cites_the_page_it_comes_from_and_neighbouring_entries_are_related(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    page = "https://docs.example.com/erp/%E8%B4%A2%E5%8A%A1/%E8%B4%B9%E7%94%A8%E6%8A%A5%E9%94%80.md"
    app.sender.dm("UZH", "报销单提交了还能撤回吗？", channel="DUZH")
    faq = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    assert "*报销单提交以后还能撤回吗？*" in faq.text and "点击“撤回”" in faq.text
    # The source line names the manual page (the question is already shown above), not the question again.
    assert f"来源：<{page}|常见问题 · 费用报销>" in faq.text
    mark = fake.mark()
    app.sender.dm("UZH", "怎么提交报销单？", channel="DUZH")
    steps = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH", after=mark)
    assert "提交审批" in steps.text
    # The FAQ entry about the same page is a related item: a neighbouring question, not a repeat.
    related = steps.text[steps.text.index("相关") :]
    assert f"<{page}|常见问题：报销单提交以后还能撤回吗？>" in related


def test_home_lists_recent_questions(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("U1", locale="en-US")
    app.sender.dm("U1", "How do I validate a receipt?")
    fake.wait_for("chat.postMessage")
    _wait_log(app)
    app.sender.home_opened("U1")
    home = fake.wait_for("views.publish")
    assert "How do I validate a receipt?" in home.text and "answered" in home.text


def test_a_reply_in_the_answers_thread_is_read_as_a_follow_up(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    app.sender.dm("UZH", "怎么提交报销单？", channel="DUZH")
    first = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    thread = first.response["ts"]
    _wait_log(app, 1)  # the answer's thread is stored once it is posted; a person replies later than that
    mark = fake.mark()
    # On its own, "how long until it arrives" matches nothing; after the expense question it does.
    app.sender.event(
        {
            "type": "message",
            "channel": "DUZH",
            "channel_type": "im",
            "user": "UZH",
            "text": "要多久到账",
            "thread_ts": thread,
        }
    )
    reply = fake.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == thread, after=mark)
    assert "五个工作日" in reply.text and "费用报销 › 提交报销单" in reply.text
    [_, follow_up] = _wait_log(app, 2)
    assert follow_up.question == "要多久到账" and follow_up.answered
    assert follow_up.thread_ts == thread


def test_the_same_words_outside_the_thread_are_not_a_follow_up(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    app.sender.dm("UZH", "怎么提交报销单？", channel="DUZH")
    fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    mark = fake.mark()
    app.sender.dm("UZH", "要多久到账", channel="DUZH")
    fake.wait_for("chat.postMessage", after=mark)
    [_, alone] = _wait_log(app, 2)
    assert not alone.answered
