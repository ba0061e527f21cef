"""Per-channel settings, end to end: `/erp channel` to see and change them, questions posted in a channel set to
answer every question, and a channel's knowledge scope."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot import ids
from feedback.channels import ALL, MENTION, channel_config, set_answer_mode, set_scope
from feedback.questions import QuestionLog

ADMIN = "UADMIN"


@pytest.fixture
def slack_overrides():
    return {"SLACK_ADMINS": ADMIN}


def _config(app, channel):
    with app.db.begin() as s:
        return channel_config(s, channel)


def _arrange(app, channel, *, mode=None, scope=None):
    with app.db.begin() as s:
        if mode:
            set_answer_mode(s, channel, mode, by=ADMIN)
        if scope is not None:
            set_scope(s, channel, scope, by=ADMIN)


def _log(app) -> list[QuestionLog]:
    with app.db.begin() as s:
        return list(s.scalars(select(QuestionLog).order_by(QuestionLog.id)))


def _post(app, channel, user, text, *, ts, thread_ts=None, **extra):
    event = {"type": "message", "channel": channel, "channel_type": "channel", "user": user, "text": text}
    event.update(ts=ts, **({"thread_ts": thread_ts} if thread_ts else {}), **extra)
    return app.sender.event(event)


def _settle_twice(app) -> None:
    """Let the workers finish, give a late second answer (a retry, the other event) time to start, and
    let that finish too: what is not posted by then is not posted."""
    app.settle()
    time.sleep(0.3)
    app.settle()


def _posts(fake, after=0):
    return [c for c in fake.calls()[after:] if c.method == "chat.postMessage"]


def test_anyone_sees_the_settings_only_admins_change_the_mode(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    fake.add_user(ADMIN, locale="zh-CN")
    shown = app.sender.command("/erp", "channel", user_id="UZH", channel_id="C0FIN").json()
    assert shown["response_type"] == "ephemeral"
    assert "<#C0FIN>" in shown["text"] and "仅在有人 @erp-coach 时回答" in shown["text"]
    assert "全部手册" in shown["text"]

    refused = app.sender.command("/erp", "channel mode all", user_id="UZH", channel_id="C0FIN").json()
    assert "只有 erp-coach 管理员" in refused["text"]
    assert _config(app, "C0FIN").answer_mode == MENTION

    done = app.sender.command("/erp", "channel mode all", user_id=ADMIN, channel_id="C0FIN").json()
    assert "今后我会回答本频道里发布的问题" in done["text"]
    config = _config(app, "C0FIN")
    assert (config.answer_mode, config.updated_by) == (ALL, ADMIN)
    assert _config(app, "C0OPS").answer_mode == MENTION  # only the channel it was run in

    blocks = app.sender.command("/erp", "channel", user_id="UZH", channel_id="C0FIN").json()["blocks"]
    text = str(blocks)
    assert "回答频道里发布的所有问题" in text and f"最近由 <@{ADMIN}> 修改" in text and "<!date^" in text

    bad = app.sender.command("/erp", "channel mode sometimes", user_id=ADMIN, channel_id="C0FIN").json()
    assert "未知的回答方式 `sometimes`" in bad["text"] and _config(app, "C0FIN").answer_mode == ALL


def test_a_workspace_admin_may_change_settings_too(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UOWNER", locale="en-US", is_admin=True)
    reply = app.sender.command("/erp", "channel mode all", user_id="UOWNER", channel_id="C0FIN").json()
    assert "I now answer questions posted in this channel" in reply["text"]
    assert _config(app, "C0FIN").answers_all


def test_scope_must_name_folders_that_hold_pages(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user(ADMIN, locale="zh-CN")
    refused = app.sender.command("/erp", "channel scope 财务,人事", user_id=ADMIN, channel_id="C0FIN").json()
    assert "`人事` 下没有已索引的手册" in refused["text"]
    assert "`inventory`, `sales`, `仓库`, `财务`" in refused["text"]  # the folders that exist
    assert _config(app, "C0FIN").scope == ()

    done = app.sender.command("/erp", "channel scope 财务，仓库", user_id=ADMIN, channel_id="C0FIN").json()
    assert "只搜索 `财务`, `仓库`" in done["text"]
    assert _config(app, "C0FIN").scope == ("财务", "仓库")

    cleared = app.sender.command("/erp", "channel scope all", user_id=ADMIN, channel_id="C0FIN").json()
    assert "恢复搜索全部手册" in cleared["text"] and _config(app, "C0FIN").scope == ()


def test_channel_settings_are_not_for_direct_messages(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user(ADMIN, locale="en-US")
    reply = app.sender.command("/erp", "channel mode all", user_id=ADMIN, channel_id="DADMIN").json()
    assert "Run `/erp channel` in the channel" in reply["text"]
    assert _config(app, "DADMIN").answer_mode == MENTION
    # Nor for a group DM: the bot gets no message events from one, so "answer all" could never work.
    group = app.sender.command(
        "/erp", "channel mode all", user_id=ADMIN, channel_id="C0MPDM", channel_name="mpdm-admin--u1-1"
    ).json()
    assert "Run `/erp channel` in the channel" in group["text"]
    assert _config(app, "C0MPDM").answer_mode == MENTION


def test_help_mentions_channel_settings(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    assert (
        "/erp channel"
        in app.sender.command("/erp", "help", user_id="UZH").json()["blocks"][1]["text"]["text"]
    )


def test_an_all_channel_answers_a_question_posted_without_a_mention_in_its_thread(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    _arrange(app, "C0FIN", mode=ALL)
    r = _post(app, "C0FIN", "UZH", "怎么提交报销单？", ts="1700000100.000100")
    assert r.status == 200
    answer = fake.wait_for("chat.postMessage")
    assert answer.args["channel"] == "C0FIN" and answer.args["thread_ts"] == "1700000100.000100"
    assert "新建报销单" in answer.text and "费用报销 › 提交报销单" in answer.text
    # Everyone in the channel reads it, so anyone may rate it (colleague ratings).
    assert ids.SHARED_HELPFUL in answer.action_ids() and "同事评价：暂无" in str(answer.args["blocks"])
    app.settle()
    [entry] = _log(app)
    assert (entry.surface, entry.channel_id, entry.answered) == ("channel", "C0FIN", True)
    assert entry.thread_ts == "1700000100.000100"


def test_a_mention_channel_leaves_unmentioned_questions_alone(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    mark = fake.mark()
    _post(app, "C0OPS", "UZH", "怎么提交报销单？", ts="1700000200.000100")
    app.settle()
    fake.assert_quiet(mark)
    assert _log(app) == []


def test_an_all_channel_stays_quiet_on_chatter(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    fake.add_user("U2", locale="zh-CN")
    _arrange(app, "C0FIN", mode=ALL)
    mark = fake.mark()
    _post(app, "C0FIN", "UZH", "大家好，今天下午三点开会", ts="1700000300.000100")  # not a question
    _post(app, "C0FIN", "UZH", "收到，谢谢！", ts="1700000300.000200")
    _post(app, "C0FIN", "UZH", "今天食堂的菜单是什么？", ts="1700000300.000300")  # the manuals say nothing
    _post(app, "C0FIN", "U2", "<@UZH> 你知道怎么提交报销单吗？", ts="1700000300.000400")  # asks a colleague
    _post(app, "C0FIN", "UBOT", "怎么提交报销单？", ts="1700000300.000500", bot_id="BBOT")  # a bot's message
    _post(app, "C0FIN", "U9", "怎么提交报销单？", ts="1700000300.000600", bot_id="B0OTHER")  # another bot
    app.sender.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0FIN",
            "channel_type": "channel",
            "message": {
                "type": "message",
                "user": "UZH",
                "text": "怎么提交报销单？",
                "ts": "1700000300.000100",
            },
            "previous_message": {
                "type": "message",
                "user": "UZH",
                "text": "大家好",
                "ts": "1700000300.000100",
            },
            "ts": "1700000300.000700",
        }
    )  # an edit
    # People talking in a thread the bot never answered in.
    _post(app, "C0FIN", "U2", "怎么提交报销单？", ts="1700000300.000800", thread_ts="1700000300.000100")
    _settle_twice(app)
    assert _posts(fake, mark) == []
    assert not [c for c in fake.calls()[mark:] if c.method == "reactions.add"]
    assert _log(app) == []  # nobody asked the bot: the gap report does not fill with chatter

    _post(app, "C0FIN", "UZH", "报销单被退回了怎么办？", ts="1700000300.000900")
    answer = fake.wait_for("chat.postMessage", after=mark)
    assert answer.args["thread_ts"] == "1700000300.000900" and "审批意见" in answer.text
    app.settle()
    assert len(_posts(fake, mark)) == 1


def test_the_asker_follows_up_in_the_answers_thread_others_do_not_trigger_it(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    fake.add_user("U2", locale="zh-CN")
    _arrange(app, "C0FIN", mode=ALL)
    _post(app, "C0FIN", "UZH", "怎么提交报销单？", ts="1700000400.000100")
    fake.wait_for("chat.postMessage")
    app.settle()
    mark = fake.mark()
    _post(app, "C0FIN", "U2", "要多久到账？", ts="1700000400.000300", thread_ts="1700000400.000100")
    _settle_twice(app)
    assert _posts(fake, mark) == []  # a colleague's question in the thread is for the people there
    _post(app, "C0FIN", "UZH", "要多久到账？", ts="1700000400.000400", thread_ts="1700000400.000100")
    reply = fake.wait_for("chat.postMessage", after=mark)
    assert reply.args["thread_ts"] == "1700000400.000100" and "五个工作日" in reply.text


def test_a_question_that_mentions_the_bot_in_an_all_channel_is_answered_once(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    _arrange(app, "C0FIN", mode=ALL)
    ts, text = "1700000500.000100", "<@UBOT> 怎么提交报销单？"
    # Slack sends both, with their own event ids, and retries each.
    _post(app, "C0FIN", "UZH", text, ts=ts)
    app.sender.event({"type": "app_mention", "channel": "C0FIN", "user": "UZH", "text": text, "ts": ts})
    for retry in (1, 2):
        app.sender.event(
            {
                "type": "message",
                "channel": "C0FIN",
                "channel_type": "channel",
                "user": "UZH",
                "text": text,
                "ts": ts,
            },
            event_id="Ev0CHANRETRY",
            retry_num=retry,
        )
    fake.wait_for("chat.postMessage")
    _settle_twice(app)
    assert len(_posts(fake)) == 1 and len(_log(app)) == 1


def test_a_retried_channel_question_is_answered_once(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    _arrange(app, "C0FIN", mode=ALL)
    event = {
        "type": "message",
        "channel": "C0FIN",
        "channel_type": "group",  # a private channel (message.groups)
        "user": "UZH",
        "text": "月末盘点怎么做？",
        "ts": "1700000600.000100",
    }
    app.sender.event(event, event_id="Ev0CHANONCE")
    for retry in (1, 2, 3):
        assert app.sender.event(event, event_id="Ev0CHANONCE", retry_num=retry).status == 200
    answer = fake.wait_for("chat.postMessage")
    assert "实际库存" in answer.text
    _settle_twice(app)
    assert len(_posts(fake)) == 1 and len(_log(app)) == 1


def test_a_channels_scope_limits_what_it_answers_from_but_not_direct_messages(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    _arrange(app, "C0WH", scope=["仓库"])
    app.sender.mention("UZH", "怎么提交报销单？", channel="C0WH")
    outside = fake.wait_for("chat.postMessage")
    assert "手册里没有找到" in outside.text  # rather than answer from 财务
    assert "费用报销" not in outside.text

    mark = fake.mark()
    app.sender.mention("UZH", "月末盘点怎么做？", channel="C0WH")
    inside = fake.wait_for("chat.postMessage", after=mark)
    assert "实际库存" in inside.text and "库存盘点 › 月末盘点" in inside.text

    mark = fake.mark()
    r = app.sender.command("/erp", "怎么提交报销单？", user_id="UZH", channel_id="C0WH")
    assert r.status == 200
    private = fake.wait_for("response_url", after=mark)
    assert "手册里没有找到" in private.text

    mark = fake.mark()
    app.sender.dm("UZH", "怎么提交报销单？", channel="DUZH")
    direct = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH", after=mark)
    assert "新建报销单" in direct.text  # a DM searches everything


def test_an_all_channel_with_a_scope_answers_only_what_the_scope_covers(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    _arrange(app, "C0WH", mode=ALL, scope=["仓库"])
    mark = fake.mark()
    _post(app, "C0WH", "UZH", "怎么提交报销单？", ts="1700000700.000100")  # 财务's question: not here
    _settle_twice(app)
    assert _posts(fake, mark) == [] and _log(app) == []
    _post(app, "C0WH", "UZH", "月末盘点怎么做？", ts="1700000700.000200")
    answer = fake.wait_for("chat.postMessage", after=mark)
    assert "实际库存" in answer.text and answer.args["thread_ts"] == "1700000700.000200"
