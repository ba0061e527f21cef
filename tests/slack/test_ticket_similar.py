"""Similar tickets with the real model: the same problem in other words is suggested on the triage card,
"Merge as duplicate" counts the people affected, and an unrelated ticket is not suggested."""

from __future__ import annotations

import functools
import json

import pytest

from bot import ids
from feedback.people import set_role
from feedback.tickets import Ticket, list_tickets
from tests.slack.harness import start_app

TRIAGE = "C0TRIAGE"
FIRST = "采购订单确认时报错：缺少供应商价格表"
SAME = "确认采购订单时提示缺少供应商价格表，无法确认"
UNRELATED = "报销单上传发票照片失败"


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": TRIAGE}


@pytest.fixture
def app(slack_services, fake_slack, embedder):
    slack_services.__dict__["embedder"] = embedder  # the session's model, not a second copy
    running = start_app(slack_services, fake_slack)
    with running.db.begin() as s:
        set_role(s, "U_SUP", "support", slack_services.settings.roles)
    yield running
    running.stop()


def _report(app, user: str, text: str, ts: str) -> Ticket:
    """Report a message with the "Report an ERP issue" shortcut and submit the prefilled modal."""
    mark = app.fake.mark()
    app.sender.message_shortcut(
        ids.TICKET_SHORTCUT, user_id=user, text=text, message_user=user, message_ts=ts
    )
    view = app.fake.wait_for("views.open", after=mark).args["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}

    def select(block: str) -> dict:
        return {"type": "static_select", "selected_option": blocks[block]["element"]["initial_option"]}

    values = {
        ids.TICKET_TITLE_BLOCK: {ids.TICKET_TITLE_INPUT: {"type": "plain_text_input", "value": None}},
        ids.TICKET_DESCRIPTION_BLOCK: {
            ids.TICKET_DESCRIPTION_INPUT: {
                "type": "plain_text_input",
                "value": blocks[ids.TICKET_DESCRIPTION_BLOCK]["element"]["initial_value"],
            }
        },
        ids.TICKET_CATEGORY_BLOCK: {ids.TICKET_CATEGORY_INPUT: select(ids.TICKET_CATEGORY_BLOCK)},
        ids.TICKET_PRIORITY_BLOCK: {ids.TICKET_PRIORITY_INPUT: select(ids.TICKET_PRIORITY_BLOCK)},
        ids.TICKET_MODULE_BLOCK: {ids.TICKET_MODULE_INPUT: {"type": "plain_text_input", "value": None}},
    }
    r = app.sender.view_submission(
        ids.TICKET_MODAL, values, user_id=user, private_metadata=view["private_metadata"], view_id=f"V{ts}"
    )
    assert (r.status, r.body) == (200, b"")
    app.settle()
    with app.db.begin() as s:
        return [t for t in list_tickets(s) if t.description == text][0]


def _card(app, ticket: Ticket):
    """The ticket's triage card as last posted or updated."""
    with app.db.begin() as s:
        ts = s.get(Ticket, ticket.id).triage_ts
    posted = [c for c in app.fake.calls("chat.postMessage") if c.response.get("ts") == ts]
    updated = [c for c in app.fake.calls("chat.update") if c.args.get("ts") == ts]
    return (posted + updated)[-1]


def _similar_blocks(card) -> dict[str, dict]:
    return {b["block_id"]: b for b in card.blocks if str(b.get("block_id", "")).startswith("similar_")}


def test_same_problem_is_suggested_merged_and_counted_unrelated_is_not(app):
    first = _report(app, "U_A", FIRST, "1700.1")
    assert _similar_blocks(_card(app, first)) == {}  # nothing open to compare with yet

    same = _report(app, "U_B", SAME, "1700.2")
    suggested = _similar_blocks(_card(app, same))
    assert list(suggested) == [f"similar_{first.id}"]
    assert first.key in suggested[f"similar_{first.id}"]["text"]["text"]
    merge = suggested[f"similar_{first.id}"]["accessory"]
    assert merge["action_id"] == ids.TICKET_MERGE
    assert json.loads(merge["value"]) == {"t": same.id, "into": first.id}

    unrelated = _report(app, "U_C", UNRELATED, "1700.3")
    assert _similar_blocks(_card(app, unrelated)) == {}

    # Someone without a support role cannot merge; support can, from the card's button.
    app.sender.block_action(ids.TICKET_MERGE, user_id="U_B", value=merge["value"], channel_id=TRIAGE)
    app.settle()
    with app.db.begin() as s:
        assert s.get(Ticket, first.id).affected_count == 1
    app.sender.block_action(
        ids.TICKET_MERGE, user_id="U_SUP", value=merge["value"], channel_id=TRIAGE, message_ts=same.triage_ts
    )
    app.settle()
    with app.db.begin() as s:
        original, duplicate = s.get(Ticket, first.id), s.get(Ticket, same.id)
        assert original.affected_count == 2 and original.is_open
        assert (duplicate.duplicate_of_id, duplicate.status) == (first.id, "closed")
    assert "受影响人数：2" in _card(app, first).text  # the original's card now says how many are affected
    assert first.key in _card(app, same).text and not _similar_blocks(_card(app, same))


def test_a_chinese_and_an_english_report_of_one_problem_find_each_other(app):
    english = _report(app, "U_A", "Cannot confirm the purchase order after the manager approved it", "1701.1")
    unrelated = _report(app, "U_B", "Logged out of the system every few minutes", "1701.2")
    chinese = _report(app, "U_C", "采购订单经理审批通过了，但是点确认订单没有反应", "1701.3")
    suggested = _similar_blocks(_card(app, chinese))
    assert list(suggested) == [f"similar_{english.id}"]
    assert english.key in suggested[f"similar_{english.id}"]["text"]["text"]
    # The English reports' cards, redrawn when support takes them, find the Chinese one the same way.
    take = functools.partial(
        app.sender.block_action, ids.TICKET_ASSIGN_ME, user_id="U_SUP", channel_id=TRIAGE
    )
    for ticket in (english, unrelated):
        take(value=str(ticket.id), message_ts=ticket.triage_ts)
    app.settle()
    assert list(_similar_blocks(_card(app, english))) == [f"similar_{chinese.id}"]
    unrelated_card = _card(app, unrelated)
    assert unrelated_card.method == "chat.update" and _similar_blocks(unrelated_card) == {}
