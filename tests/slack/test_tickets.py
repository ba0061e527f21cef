"""Tickets through signed Slack requests: report, dedupe, triage with server-side roles, close the loop."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import ids
from feedback.people import set_role
from feedback.tickets import RatingRequest, Ticket, create_ticket, events_of, get_by_number, list_tickets

TRIAGE = "C0TRIAGE"
ROLES = ["finance", "warehouse", "purchasing", "support", "admin"]


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": TRIAGE}


@pytest.fixture
def app(slack_app):
    with slack_app.db.begin() as s:
        set_role(s, "U_SUP", "support", ROLES)
        set_role(s, "U_FIN", "finance", ROLES)
    return slack_app


def _tickets(app) -> list[Ticket]:
    with app.db.begin() as s:
        return list_tickets(s)


def _submit(app, view: dict, *, user: str, description: str | None = None, view_id: str = "V1", **fields):
    values = {
        ids.TICKET_TITLE_BLOCK: {
            ids.TICKET_TITLE_INPUT: {"type": "plain_text_input", "value": fields.get("title")}
        },
        ids.TICKET_DESCRIPTION_BLOCK: {
            ids.TICKET_DESCRIPTION_INPUT: {
                "type": "plain_text_input",
                "value": description
                if description is not None
                else view["blocks"][1]["element"].get("initial_value"),
            }
        },
        ids.TICKET_CATEGORY_BLOCK: {
            ids.TICKET_CATEGORY_INPUT: {
                "type": "static_select",
                "selected_option": {"value": fields.get("category", "bug")},
            }
        },
        ids.TICKET_PRIORITY_BLOCK: {
            ids.TICKET_PRIORITY_INPUT: {"type": "static_select", "selected_option": {"value": "high"}}
        },
        ids.TICKET_MODULE_BLOCK: {ids.TICKET_MODULE_INPUT: {"type": "plain_text_input", "value": "采购"}},
    }
    return app.sender.view_submission(
        ids.TICKET_MODAL, values, user_id=user, private_metadata=view["private_metadata"], view_id=view_id
    )


def _report_via_shortcut(app, user="U_REP", text="采购订单确认时报错：缺少供应商价格表 <!channel>"):
    r = app.sender.message_shortcut(ids.TICKET_SHORTCUT, user_id=user, text=text, message_user=user)
    assert r.status == 200
    return app.fake.wait_for("views.open").args["view"]


def _triage_card(app, ticket_key: str):
    cards = [c for c in app.fake.calls() if c.method in ("chat.postMessage", "chat.update")]
    cards = [c for c in cards if c.args.get("channel") == TRIAGE and not c.args.get("thread_ts")]
    cards = [c for c in cards if ticket_key in c.text]
    assert cards, f"no triage card for {ticket_key}"
    return cards[-1]


def test_shortcut_prefills_and_double_submit_makes_one_ticket_with_confirmation_and_triage(app):
    view = _report_via_shortcut(app)
    assert view["blocks"][1]["element"]["initial_value"].startswith("采购订单确认时报错")
    first = _submit(app, view, user="U_REP", view_id="V1")
    second = _submit(app, view, user="U_REP", view_id="V2")  # a second modal on the same message
    assert (first.status, first.body, second.status) == (200, b"", 200)
    app.settle()
    [ticket] = _tickets(app)
    assert (ticket.key, ticket.priority, ticket.category, ticket.erp_module) == (
        "ERP-1",
        "high",
        "bug",
        "采购",
    )
    assert ticket.origin_permalink and ticket.origin_permalink.startswith("http")  # chat.getPermalink
    dms = [c for c in app.fake.calls("chat.postMessage") if c.args.get("channel") != TRIAGE]
    assert len(dms) == 1 and "ERP-1" in dms[0].text
    card = _triage_card(app, "ERP-1")
    assert {ids.TICKET_ASSIGN_ME, ids.TICKET_SET_PRIORITY, ids.TICKET_SET_STATUS, ids.TICKET_RESOLVE} <= set(
        card.action_ids()
    )
    assert "&lt;!channel&gt;" in card.text  # shown, escaped, pings nobody (the fake flags real pings)


def test_bad_input_is_shown_in_the_modal_and_nothing_is_stored(app):
    view = _report_via_shortcut(app)
    r = _submit(app, view, user="U_REP", description="x" * 100_000)
    assert r.status == 200
    answer = r.json()
    assert answer["response_action"] == "errors"
    assert "100,000" in answer["errors"][ids.TICKET_DESCRIPTION_BLOCK]
    forged = _submit(app, view, user="U_REP", category="complaint", view_id="V9")
    assert ids.TICKET_CATEGORY_BLOCK in forged.json()["errors"]
    app.settle()
    assert _tickets(app) == []


def test_reaction_creates_one_ticket_however_often_it_arrives(app):
    app.fake.respond_with(
        "conversations.history",
        {
            "ok": True,
            "messages": [{"type": "message", "user": "U_REP", "text": "库存盘点单无法过账", "ts": "1700.1"}],
        },
    )
    event = {
        "type": "reaction_added",
        "user": "U_OTHER",
        "reaction": "ticket",
        "item": {"type": "message", "channel": "C0GENERAL", "ts": "1700.1"},
        "item_user": "U_REP",
    }
    assert app.sender.event(event, event_id="Ev1").status == 200
    assert app.sender.event(event, event_id="Ev1", retry_num=1).status == 200  # Slack's retry
    assert app.sender.event({**event, "user": "U_THIRD"}, event_id="Ev2").status == 200  # another 🎫
    assert app.sender.event({**event, "reaction": "eyes"}, event_id="Ev3").status == 200
    app.settle()
    [ticket] = _tickets(app)
    assert (ticket.reporter_id, ticket.description, ticket.source) == (
        "U_REP",
        "库存盘点单无法过账",
        "reaction",
    )
    assert len([c for c in app.fake.calls("chat.postMessage") if c.args.get("channel") == TRIAGE]) == 1
    # The second 🎫 is not lost in silence: whoever's arrived second (the two run side by side) hears
    # which ticket the message is.
    [told] = app.fake.calls("chat.postEphemeral")
    assert told.args["user"] in ("U_OTHER", "U_THIRD") and told.args["channel"] == "C0GENERAL"
    assert "ERP-1" in told.text


def _one_ticket(app) -> Ticket:
    view = _report_via_shortcut(app)
    _submit(app, view, user="U_REP")
    app.settle()
    [ticket] = _tickets(app)
    return ticket


def test_forged_triage_action_changes_nothing_and_support_can_triage(app):
    ticket = _one_ticket(app)
    mark = app.fake.mark()
    r = app.sender.block_action(
        ids.TICKET_ASSIGN_ME, user_id="U_FIN", value=str(ticket.id), channel_id=TRIAGE
    )
    assert r.status == 200
    app.settle()
    [err] = app.fake.calls("chat.postEphemeral")[-1:]
    assert err.args["user"] == "U_FIN" and "support" in err.text
    with app.db.begin() as s:
        assert s.get(Ticket, ticket.id).assignee_id is None
        assert [e.kind for e in events_of(s, ticket.id)] == ["created"]
    assert not [c for c in app.fake.calls()[mark:] if c.method == "chat.update"]

    app.sender.block_action(
        ids.TICKET_ASSIGN_ME,
        user_id="U_SUP",
        value=str(ticket.id),
        channel_id=TRIAGE,
        message_ts=ticket.triage_ts,
    )
    app.sender.block_action(
        ids.TICKET_SET_PRIORITY,
        user_id="U_SUP",
        value=None,
        action={"type": "static_select", "selected_option": {"value": "urgent"}, "value": str(ticket.id)},
        channel_id=TRIAGE,
    )
    app.settle()
    with app.db.begin() as s:
        t = s.get(Ticket, ticket.id)
        assert (t.assignee_id, t.status, t.priority) == ("U_SUP", "triaged", "urgent")
    updates = app.fake.calls("chat.update")
    assert updates and updates[-1].args["ts"] == ticket.triage_ts and "<@U_SUP>" in updates[-1].text
    thread = [
        c.text for c in app.fake.calls("chat.postMessage") if c.args.get("thread_ts") == ticket.triage_ts
    ]
    assert any("<@U_SUP>" in line for line in thread)


def _resolve(app, ticket: Ticket, user: str, resolution: str, *, faq: dict | None = None):
    app.sender.block_action(ids.TICKET_RESOLVE, user_id=user, value=str(ticket.id), channel_id=TRIAGE)
    app.settle()
    values = {
        ids.RESOLVE_TEXT_BLOCK: {ids.RESOLVE_TEXT_INPUT: {"type": "plain_text_input", "value": resolution}}
    }
    if faq:
        values[ids.RESOLVE_FAQ_BLOCK] = {
            ids.RESOLVE_FAQ_INPUT: {"type": "checkboxes", "selected_options": [{"value": "faq"}]}
        }
        values[ids.RESOLVE_FAQ_QUESTION_BLOCK] = {
            ids.RESOLVE_FAQ_QUESTION_INPUT: {"type": "plain_text_input", "value": faq["question"]}
        }
        values[ids.RESOLVE_FAQ_LANG_BLOCK] = {
            ids.RESOLVE_FAQ_LANG_INPUT: {"type": "static_select", "selected_option": {"value": faq["lang"]}}
        }
    return app.sender.view_submission(
        ids.TICKET_RESOLVE_MODAL, values, user_id=user, private_metadata=json.dumps({"t": ticket.id})
    )


def test_resolve_sends_closure_notice_and_reporter_closes_the_loop(app):
    ticket = _one_ticket(app)
    opened = len(app.fake.calls("views.open"))
    forged = _resolve(app, ticket, "U_FIN", "随便")
    assert len(app.fake.calls("views.open")) == opened  # no modal for a non-support user
    assert forged.json()["response_action"] == "errors"  # and the forged submission is refused
    r = _resolve(app, ticket, "U_SUP", "已补录供应商价格表，请重新确认订单。")
    assert r.status == 200 and r.body == b""
    app.settle()
    notice = [c for c in app.fake.calls("chat.postMessage") if ids.TICKET_FIXED in c.action_ids()][-1]
    assert "已补录供应商价格表" in notice.text and "<@U_SUP>" in notice.text
    assert {f"{ids.TICKET_RATE_PREFIX}{n}" for n in range(1, 6)} <= set(notice.action_ids())

    # Someone else cannot press the reporter's buttons.
    app.sender.block_action(ids.TICKET_FIXED, user_id="U_FIN", value=str(ticket.id), channel_id="DREP")
    app.sender.block_action(
        ids.TICKET_STILL_PROBLEM, user_id="U_REP", value=str(ticket.id), channel_id="DREP"
    )
    app.settle()
    with app.db.begin() as s:
        assert s.get(Ticket, ticket.id).status == "triaged"  # reopened, nobody assigned yet
    app.sender.block_action(ids.TICKET_ASSIGN_ME, user_id="U_SUP", value=str(ticket.id), channel_id=TRIAGE)
    app.settle()
    _resolve(app, ticket, "U_SUP", "价格表同步任务已修复。")
    app.settle()
    second = [c for c in app.fake.calls("chat.postMessage") if ids.TICKET_FIXED in c.action_ids()][-1]
    assert "价格表同步任务已修复" in second.text
    rate_ids = {f"{ids.TICKET_RATE_PREFIX}{n}" for n in range(1, 6)}
    assert not rate_ids & set(second.action_ids())  # asked minutes ago: the cooldown holds
    mark = app.fake.mark()
    app.sender.block_action(ids.TICKET_FIXED, user_id="U_REP", value=str(ticket.id), channel_id="DREP")
    app.settle()  # the two clicks are handled in parallel; keep their order
    [fixed] = [
        c for c in app.fake.calls()[mark:] if c.method == "chat.update" and c.args["channel"] == "DREP"
    ]
    assert not rate_ids & set(fixed.action_ids())  # nor does the reply to "That fixed it" ask
    # The first ask's window is still open: a rating from its buttons counts.
    app.sender.block_action(
        f"{ids.TICKET_RATE_PREFIX}4", user_id="U_REP", value=str(ticket.id), channel_id="DREP"
    )
    app.settle()
    with app.db.begin() as s:
        t = s.get(Ticket, ticket.id)
        assert (t.status, t.satisfaction, t.resolution) == ("closed", 4, "价格表同步任务已修复。")
        kinds = [e.kind for e in events_of(s, ticket.id)]
    assert kinds.count("reopened") == 1 and kinds[-2:] == ["confirmed", "rated"]
    assert any("ERP-1" in c.text for c in app.fake.calls("chat.update") if c.args.get("channel") == "DREP")
    thread = [
        c.text for c in app.fake.calls("chat.postMessage") if c.args.get("thread_ts") == ticket.triage_ts
    ]
    assert any("4/5" in line for line in thread)
    assert not any("rating_requested" in line for line in thread)  # the ask is audited, not announced


def _new_ticket(app, reporter: str, description: str) -> Ticket:
    with app.db.begin() as s:
        return create_ticket(s, reporter=reporter, description=description, source="slash").ticket


def _notice_for(app, ticket: Ticket, mark: int = 0):
    notices = [
        c
        for c in app.fake.calls("chat.postMessage")[mark:]
        if c.args.get("channel") == f"D{ticket.reporter_id}" and ticket.key in c.text
    ]
    assert notices, f"no closure notice for {ticket.key}"
    return notices[-1]


RATE = [f"{ids.TICKET_RATE_PREFIX}{n}" for n in range(1, 6)]


@pytest.mark.parametrize("slack_overrides", [{"TRIAGE_CHANNEL": TRIAGE, "CSAT_WINDOW_DAYS": "14"}])
def test_rating_asked_once_per_cooldown_changeable_in_its_window_then_refused(app):
    first = _new_ticket(app, "U_REP", "销售订单确认时提示客户信用额度不足")
    second = _new_ticket(app, "U_REP", "库存调拨单无法过账")
    _resolve(app, first, "U_SUP", "已把客户信用额度调整为 10 万，请重新确认订单。")
    app.settle()
    notice = _notice_for(app, first)
    assert set(RATE) <= set(notice.action_ids()) and ids.TICKET_FIXED in notice.action_ids()
    with app.db.begin() as s:
        [request] = s.scalars(select(RatingRequest))
        assert request.open_until - request.asked_at == dt.timedelta(days=14)  # CSAT_WINDOW_DAYS
    # Each reader sees the deadline in their own time zone (Slack formats it); the company's time is the
    # fallback.
    until = request.open_until.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    stamp = int(request.open_until.timestamp())
    assert f"可在 <!date^{stamp}^{{date_num}} {{time}}|{until}> 前评分或修改" in notice.text

    _resolve(app, second, "U_SUP", "调拨单已重新过账。")
    app.settle()
    quiet = _notice_for(app, second)  # asked minutes ago: the notice comes without the rating
    assert "调拨单已重新过账" in quiet.text and ids.TICKET_STILL_PROBLEM in quiet.action_ids()
    assert not set(RATE) & set(quiet.action_ids())

    def rate(n: int):
        mark = app.fake.mark()
        app.sender.block_action(RATE[n - 1], user_id="U_REP", value=str(first.id), channel_id="DU_REP")
        app.settle()
        [update] = [c for c in app.fake.calls()[mark:] if c.method == "chat.update"]
        assert update.args["channel"] == "DU_REP"
        return update

    low = rate(2)
    assert "您的评分：2/5" in low.text and low.element(RATE[1]).get("style") == "primary"
    assert {ids.TICKET_FIXED, ids.TICKET_STILL_PROBLEM, *RATE} <= set(low.action_ids())  # not confirmed yet
    high = rate(5)
    assert "您的评分：5/5" in high.text and set(RATE) <= set(high.action_ids())

    # Four weeks later (the window closed): the click is refused politely and nothing is stored.
    with app.db.begin() as s:
        request = s.get(RatingRequest, request.id)
        request.asked_at -= dt.timedelta(days=29)
        request.open_until -= dt.timedelta(days=29)
        closed = request.open_until.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        stamp = int(request.open_until.timestamp())
    late = rate(1)
    assert f"评分已于 <!date^{stamp}^{{date_num}} {{time}}|{closed}> 截止" in late.text
    assert not set(RATE) & set(late.action_ids())
    with app.db.begin() as s:
        assert s.get(Ticket, first.id).satisfaction == 5
        rated = [(e.before, e.after) for e in events_of(s, first.id) if e.kind == "rated"]
    assert rated == [(None, "2"), ("2", "5")]


@pytest.mark.parametrize("slack_overrides", [{"TRIAGE_CHANNEL": TRIAGE, "CSAT_COOLDOWN_DAYS": "0"}])
def test_without_a_cooldown_every_closure_asks_and_fixing_keeps_the_rating(app):
    first = _new_ticket(app, "U_REP", "销售订单确认时提示客户信用额度不足")
    second = _new_ticket(app, "U_REP", "库存调拨单无法过账")
    _resolve(app, first, "U_SUP", "已把客户信用额度调整为 10 万。")
    _resolve(app, second, "U_SUP", "调拨单已重新过账。")
    app.settle()
    assert set(RATE) <= set(_notice_for(app, first).action_ids())
    assert set(RATE) <= set(_notice_for(app, second).action_ids())
    mark = app.fake.mark()
    app.sender.block_action(ids.TICKET_FIXED, user_id="U_REP", value=str(second.id), channel_id="DU_REP")
    app.settle()
    [update] = [
        c for c in app.fake.calls()[mark:] if c.method == "chat.update" and c.args["channel"] == "DU_REP"
    ]
    assert "已关闭" in update.text and set(RATE) <= set(update.action_ids())  # still rateable
    assert ids.TICKET_FIXED not in update.action_ids()


def _reporter_thread(app, ticket: Ticket) -> list:
    """What the bot posted in the thread of the reporter's confirmation DM."""
    return [
        c
        for c in app.fake.calls("chat.postMessage")
        if c.args.get("channel") == ticket.reporter_channel and c.args.get("thread_ts") == ticket.reporter_ts
    ]


def _set_status(app, ticket: Ticket, status: str, user: str = "U_SUP") -> None:
    """The Status menu on the triage card, as someone picks `status` in it."""
    app.sender.block_action(
        ids.TICKET_SET_STATUS,
        user_id=user,
        value=None,
        action={"type": "static_select", "selected_option": {"value": status}, "value": str(ticket.id)},
        channel_id=TRIAGE,
    )
    app.settle()


def _reply_in_dm(app, text: str, *, thread_ts: str, ts: str) -> None:
    """The reporter (U_REP) writes in a thread of their DM with the bot."""
    app.sender.event(
        {
            "type": "message",
            "channel": "DU_REP",
            "channel_type": "im",
            "user": "U_REP",
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
        }
    )
    app.settle()


def test_waiting_on_the_reporter_asks_in_their_thread_and_their_reply_goes_back_to_support(app):
    ticket = _one_ticket(app)
    [confirmation] = [c for c in app.fake.calls("chat.postMessage") if c.args["channel"] == "DU_REP"]
    assert (ticket.reporter_channel, ticket.reporter_ts) == ("DU_REP", confirmation.response["ts"])
    assert "在此消息串中回复即可补充信息" in confirmation.text  # what the confirmation promises

    _set_status(app, ticket, "waiting_on_reporter")
    [ask] = _reporter_thread(app, ticket)
    assert ticket.key in ask.text and "支持团队需要更多信息" in ask.text and "在此消息串中回复" in ask.text
    assert "5 天内没有回复" in ask.text  # TICKET_WAITING_CLOSE_DAYS

    mark = app.fake.mark()
    reply = "供应商是宁波华东，价格表在合同附件里"
    _reply_in_dm(app, reply, thread_ts=ticket.reporter_ts, ts="1700000900.000100")
    with app.db.begin() as s:
        t = s.get(Ticket, ticket.id)
        assert t.status == "in_progress"
        assert [c.body for c in t.comments] == [reply]
        assert [e.kind for e in events_of(s, ticket.id)][-2:] == ["commented", "reporter_replied"]
    new = app.fake.calls()[mark:]
    triage_thread = [c.text for c in new if c.args.get("thread_ts") == ticket.triage_ts]
    assert any(reply in line and "<@U_REP>" in line for line in triage_thread), triage_thread
    [ack] = [c for c in new if c.method == "chat.postMessage" and c.args.get("channel") == "DU_REP"]
    assert ack.args["thread_ts"] == ticket.reporter_ts and "交回支持团队" in ack.text
    # A comment, not a question: no search, no answer, no "was this helpful?".
    assert not [c for c in new if c.method in ("chat.postEphemeral", "chat.scheduleMessage")]
    assert not any(
        "来自操作手册" in c.text or "没有找到" in c.text for c in new if c.method == "chat.postMessage"
    )


def test_a_support_status_change_tells_the_reporter_in_their_thread(app):
    ticket = _one_ticket(app)
    _set_status(app, ticket, "in_progress")
    [notice] = _reporter_thread(app, ticket)
    assert ticket.key in notice.text and "处理中" in notice.text
    # A forged change by someone who is not support tells nobody anything.
    _set_status(app, ticket, "closed", user="U_FIN")
    assert len(_reporter_thread(app, ticket)) == 1


def test_reporting_the_same_message_again_adds_the_details_or_opens_a_new_ticket_once_solved(app):
    ticket = _one_ticket(app)
    view = _report_via_shortcut(app)
    mark = app.fake.mark()
    _submit(app, view, user="U_REP", view_id="V2", description="补充：只有宁波仓的采购订单会报错")
    app.settle()
    with app.db.begin() as s:
        assert len(list_tickets(s)) == 1
        assert [c.body for c in s.get(Ticket, ticket.id).comments] == ["补充：只有宁波仓的采购订单会报错"]
    [told] = [c for c in app.fake.calls()[mark:] if c.args.get("channel") == "DU_REP"]
    assert told.args["thread_ts"] == ticket.reporter_ts
    assert "这已是工单 *ERP-1*" in told.text and "已补充到该工单" in told.text
    triage_thread = [c.text for c in app.fake.calls()[mark:] if c.args.get("thread_ts") == ticket.triage_ts]
    assert any("只有宁波仓" in line for line in triage_thread)

    _resolve(app, ticket, "U_SUP", "已补录供应商价格表。")
    app.settle()
    view = _report_via_shortcut(app)
    _submit(app, view, user="U_REP", view_id="V3", description="又报错了：缺少供应商价格表")
    app.settle()
    keys = [t.key for t in _tickets(app)]
    assert sorted(keys) == ["ERP-1", "ERP-2"]  # solved once: this is a new problem, a new ticket
    confirmations = [
        c for c in app.fake.calls("chat.postMessage") if "ERP-2" in c.text and c.args["channel"] == "DU_REP"
    ]
    assert confirmations and "已登记" in confirmations[0].text
    # And again while ERP-2 is open: that one it is, not a third.
    view = _report_via_shortcut(app)
    _submit(app, view, user="U_REP", view_id="V4", description="补充：重新确认后还是报错")
    app.settle()
    assert sorted(t.key for t in _tickets(app)) == ["ERP-1", "ERP-2"]
    with app.db.begin() as s:
        erp2 = get_by_number(s, 2)
        assert [c.body for c in erp2.comments] == ["补充：重新确认后还是报错"]


def test_a_ticket_confirmed_without_a_thread_gets_one_with_its_first_notice(app):
    ticket = _one_ticket(app)
    with app.db.begin() as s:  # as before the thread was kept (or when Slack refused the confirmation)
        t = s.get(Ticket, ticket.id)
        t.reporter_channel = t.reporter_ts = None
    _set_status(app, ticket, "waiting_on_reporter")
    [ask] = [c for c in app.fake.calls("chat.postMessage") if "支持团队需要更多信息" in c.text]
    assert not ask.args.get("thread_ts")  # a new DM...
    _reply_in_dm(app, "截图已发到 IT 邮箱", thread_ts=ask.response["ts"], ts="1700000950.000100")
    with app.db.begin() as s:
        t = s.get(Ticket, ticket.id)
        assert t.status == "in_progress" and [c.body for c in t.comments] == ["截图已发到 IT 邮箱"]


def test_the_reporters_home_lists_their_open_tickets(app):
    ticket = _one_ticket(app)
    mark = app.fake.mark()
    app.sender.home_opened("U_REP")
    home = app.fake.wait_for("views.publish", after=mark)
    assert "ERP-1" in home.text and "采购订单确认时报错" in home.text and "新建" in home.text
    _resolve(app, ticket, "U_SUP", "已补录供应商价格表。")
    app.settle()
    mark = app.fake.mark()
    app.sender.home_opened("U_REP")
    home = app.fake.wait_for("views.publish", after=mark)
    assert "ERP-1" not in home.text  # solved: no longer open
