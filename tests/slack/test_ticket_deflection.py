"""Deflection: a ticket started with text shows what the knowledge base says about it, above the form."""

from __future__ import annotations

import json

import pytest

from bot import ids
from feedback.channels import set_scope
from feedback.people import ensure_user
from feedback.tickets import list_tickets

TRIAGE = "C0TRIAGE"
ZH_HEADING = "这些内容可能已经解答了你的问题"
EN_HEADING = "These may already answer your question"


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": TRIAGE, "DOCS_BASE_URL": "https://docs.example.com/erp"}


def _report_view(app, mark: int) -> dict:
    """The report modal as the user sees it once the app is done: the views.update after the open, if any."""
    app.settle()
    calls = [c for c in app.fake.calls()[mark:] if c.method in ("views.open", "views.update")]
    assert calls and calls[0].method == "views.open"
    return calls[-1].args["view"]


def _text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _input(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def _submit(app, view: dict, *, user: str, view_id: str):
    description = _input(view, ids.TICKET_DESCRIPTION_BLOCK)["element"].get("initial_value")
    values = {
        ids.TICKET_TITLE_BLOCK: {ids.TICKET_TITLE_INPUT: {"type": "plain_text_input", "value": None}},
        ids.TICKET_DESCRIPTION_BLOCK: {
            ids.TICKET_DESCRIPTION_INPUT: {"type": "plain_text_input", "value": description}
        },
        ids.TICKET_CATEGORY_BLOCK: {
            ids.TICKET_CATEGORY_INPUT: {"type": "static_select", "selected_option": {"value": "how_to_gap"}}
        },
        ids.TICKET_PRIORITY_BLOCK: {
            ids.TICKET_PRIORITY_INPUT: {"type": "static_select", "selected_option": {"value": "normal"}}
        },
        ids.TICKET_MODULE_BLOCK: {ids.TICKET_MODULE_INPUT: {"type": "plain_text_input", "value": None}},
    }
    return app.sender.view_submission(
        ids.TICKET_MODAL, values, user_id=user, private_metadata=view["private_metadata"], view_id=view_id
    )


def test_chinese_ticket_text_the_manual_covers_shows_the_section_and_still_files_one_ticket(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    mark = fake.mark()
    r = app.sender.command("/erp", "ticket 怎么提交报销单？", user_id="UZH")
    assert r.status == 200 and r.elapsed < 1.0
    opened = fake.wait_for("views.open", after=mark)
    assert ZH_HEADING not in _text(opened.args["view"])  # the form is open before any search

    view = _report_view(app, mark)
    update = fake.calls("views.update")[-1]
    # The update finds the modal the command opened (its view id is unknown to the lazy listener).
    assert update.args["external_id"] == opened.args["view"]["external_id"]
    text = _text(view)
    assert ZH_HEADING in text
    assert "新建报销单" in text  # the steps, quoted
    assert (
        "<https://docs.example.com/erp/%E8%B4%A2%E5%8A%A1/%E8%B4%B9%E7%94%A8%E6%8A%A5%E9%94%80.md|费用报销 › 提交报销单>"
        in text
    )
    assert "相关内容" in text and EN_HEADING not in text
    # Still the same ticket form, with the text it was started with.
    assert (
        view["callback_id"] == ids.TICKET_MODAL
        and view["private_metadata"] == opened.args["view"]["private_metadata"]
    )
    assert _input(view, ids.TICKET_DESCRIPTION_BLOCK)["element"]["initial_value"] == "怎么提交报销单？"

    r = _submit(app, view, user="UZH", view_id=update.response["view"]["id"])
    assert (r.status, r.body) == (200, b"")
    app.settle()
    with app.db.begin() as s:
        [ticket] = list_tickets(s)
        assert (ticket.reporter_id, ticket.description, ticket.source) == ("UZH", "怎么提交报销单？", "slash")


def test_english_user_gets_the_english_heading_from_the_message_shortcut(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UEN", locale="en-US")
    with app.db.begin() as s:  # the bot knows the user's Slack locale, as it does once they have used it
        ensure_user(s, "UEN", slack_locale="en-US")
    mark = fake.mark()
    r = app.sender.message_shortcut(
        ids.TICKET_SHORTCUT, user_id="UEN", text="<@UBOT> how do I validate a receipt?", message_user="UEN"
    )
    assert r.status == 200
    view = _report_view(app, mark)
    opened = fake.calls("views.open")[-1]
    update = fake.calls("views.update")[-1]
    assert (update.args["view_id"], update.args["hash"]) == (
        opened.response["view"]["id"],
        opened.response["view"]["hash"],
    )  # never overwrites a newer version of the modal
    text = _text(view)
    assert EN_HEADING in text and ZH_HEADING not in text
    assert "Receiving goods › Validate a receipt" in text and "Click Validate" in text
    assert "Not solved?" in text


def test_the_shortcut_is_acknowledged_before_the_knowledge_base_is_searched(answering_app):
    """Bolt answers Slack only when the ack listener returns: the search and the modal update must come
    after it, or a slow search makes Slack show the user an error (3 s)."""
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    gate = fake.hold("views.update")
    mark = fake.mark()
    r = app.sender.message_shortcut(ids.TICKET_SHORTCUT, user_id="UZH", text="怎么提交报销单？")
    assert r.status == 200
    assert fake.calls("views.open") and not fake.calls("views.update")  # answered while the update waits
    gate.set()
    view = _report_view(app, mark)
    assert ZH_HEADING in _text(view) and "提交报销" in _text(view)


@pytest.mark.parametrize("text", ["食堂今天中午吃什么", "打印机卡纸了"])
def test_text_the_knowledge_base_does_not_cover_shows_only_the_form(answering_app, text):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    mark = fake.mark()
    app.sender.command("/erp", f"ticket {text}", user_id="UZH")
    view = _report_view(app, mark)
    assert not fake.calls("views.update")
    assert ZH_HEADING not in _text(view)
    assert _input(view, ids.TICKET_DESCRIPTION_BLOCK)["element"]["initial_value"] == text
    _submit(app, view, user="UZH", view_id="V_FORM")
    app.settle()
    with app.db.begin() as s:
        assert [t.description for t in list_tickets(s)] == [text]


def test_no_text_means_no_search(answering_app):
    app, fake = answering_app, answering_app.fake
    mark = fake.mark()
    app.sender.command("/erp", "ticket", user_id="UZH")
    view = _report_view(app, mark)
    assert "external_id" not in view and not fake.calls("views.update")


def test_open_a_ticket_under_an_answer_adds_no_suggestions(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    app.sender.dm("UZH", "怎么提交报销单？", channel="DUZH")
    answer = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    assert "费用报销 › 提交报销单" in answer.text  # a successful answer
    app.settle()
    mark = fake.mark()
    button = answer.element(ids.OPEN_TICKET)
    app.sender.block_action(ids.OPEN_TICKET, user_id="UZH", value=button["value"], channel_id="DUZH")
    view = _report_view(app, mark)
    assert not fake.calls("views.update")
    assert ZH_HEADING not in _text(view)
    assert "费用报销 › 提交报销单" in _text(view)  # the sources shown under the answer, as before


@pytest.mark.parametrize("slack_overrides", [{"TICKET_DEFLECTION_SECONDS": "0"}])
def test_suggestions_can_be_turned_off(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    mark = fake.mark()
    app.sender.command("/erp", "ticket 怎么提交报销单？", user_id="UZH")
    view = _report_view(app, mark)
    assert "external_id" not in view and not fake.calls("views.update")
    assert ZH_HEADING not in _text(view)


def test_suggestions_keep_to_the_scope_of_the_channel_the_report_comes_from(answering_app):
    app, fake = answering_app, answering_app.fake
    fake.add_user("UZH", locale="zh-CN")
    with app.db.begin() as s:
        set_scope(s, "C0WH", ["仓库"], by="UADMIN")
    mark = fake.mark()
    app.sender.command("/erp", "ticket 怎么提交报销单？", user_id="UZH", channel_id="C0WH")
    view = _report_view(app, mark)
    assert not fake.calls("views.update")  # 财务's page is outside the warehouse channel's scope
    assert ZH_HEADING not in _text(view) and "新建报销单" not in _text(view)

    mark = fake.mark()
    app.sender.command("/erp", "ticket 月末盘点怎么做？", user_id="UZH", channel_id="C0WH")
    assert "库存盘点 › 月末盘点" in _text(_report_view(app, mark))  # inside it, as the bot answers there

    mark = fake.mark()
    r = app.sender.message_shortcut(
        ids.TICKET_SHORTCUT, user_id="UZH", text="怎么提交报销单？", channel_id="C0WH"
    )
    assert r.status == 200
    assert ZH_HEADING not in _text(_report_view(app, mark))
