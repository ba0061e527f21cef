"""The message a ticket came from shows its status to the whole channel (👀 in progress, ✅ resolved), and
the triage card speaks TRIAGE_LANGUAGE."""

from __future__ import annotations

import json

import pytest

from bot import ids
from feedback.people import set_role
from feedback.tickets import Ticket, create_ticket, list_tickets

TRIAGE = "C0TRIAGE"
ORIGIN = ("C0GENERAL", "1700000123.000100")


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": TRIAGE, "TRIAGE_LANGUAGE": "en"}


@pytest.fixture
def app(slack_app):
    with slack_app.db.begin() as s:
        set_role(s, "U_SUP", "support", slack_app.services.settings.roles)
    return slack_app


class _Reactions:
    """Slack's reactions as the bot sees them: a second add is `already_reacted`, removing an absent one
    is `no_reaction` (both answered ok=false, which slack_sdk raises as SlackApiError)."""

    def __init__(self, fake) -> None:
        self.on: set[tuple[str, str, str]] = set()
        self.errors: list[str] = []
        fake.respond_with("reactions.add", self.add)
        fake.respond_with("reactions.remove", self.remove)

    def _key(self, call) -> tuple[str, str, str]:
        return call.args["channel"], call.args["timestamp"], call.args["name"]

    def add(self, call) -> dict:
        if self._key(call) in self.on:
            self.errors.append("already_reacted")
            return {"ok": False, "error": "already_reacted"}
        self.on.add(self._key(call))
        return {"ok": True}

    def remove(self, call) -> dict:
        if self._key(call) not in self.on:
            self.errors.append("no_reaction")
            return {"ok": False, "error": "no_reaction"}
        self.on.discard(self._key(call))
        return {"ok": True}

    def at(self, channel: str, ts: str) -> set[str]:
        return {name for c, t, name in self.on if (c, t) == (channel, ts)}


def _report_from_message(app) -> Ticket:
    app.sender.message_shortcut(
        ids.TICKET_SHORTCUT,
        user_id="U_REP",
        text="库存调拨单无法确认，提示库位已满",
        channel_id=ORIGIN[0],
        message_user="U_REP",
        message_ts=ORIGIN[1],
    )
    view = app.fake.wait_for("views.open").args["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    values = {
        block: {
            action: (
                {"type": "static_select", "selected_option": blocks[block]["element"]["initial_option"]}
                if "initial_option" in blocks[block]["element"]
                else {"type": "plain_text_input", "value": blocks[block]["element"].get("initial_value")}
            )
        }
        for block, action in (
            (ids.TICKET_TITLE_BLOCK, ids.TICKET_TITLE_INPUT),
            (ids.TICKET_DESCRIPTION_BLOCK, ids.TICKET_DESCRIPTION_INPUT),
            (ids.TICKET_CATEGORY_BLOCK, ids.TICKET_CATEGORY_INPUT),
            (ids.TICKET_PRIORITY_BLOCK, ids.TICKET_PRIORITY_INPUT),
            (ids.TICKET_MODULE_BLOCK, ids.TICKET_MODULE_INPUT),
        )
    }
    app.sender.view_submission(
        ids.TICKET_MODAL, values, user_id="U_REP", private_metadata=view["private_metadata"]
    )
    app.settle()
    with app.db.begin() as s:
        [ticket] = list_tickets(s)
        return ticket


def _set_status(app, ticket: Ticket, status: str) -> None:
    app.sender.block_action(
        ids.TICKET_SET_STATUS,
        user_id="U_SUP",
        action={"type": "static_select", "selected_option": {"value": status}, "value": str(ticket.id)},
        channel_id=TRIAGE,
    )
    app.settle()


def _resolve(app, ticket: Ticket, text: str) -> None:
    values = {ids.RESOLVE_TEXT_BLOCK: {ids.RESOLVE_TEXT_INPUT: {"type": "plain_text_input", "value": text}}}
    app.sender.view_submission(
        ids.TICKET_RESOLVE_MODAL, values, user_id="U_SUP", private_metadata=json.dumps({"t": ticket.id})
    )
    app.settle()


def test_origin_message_shows_in_progress_then_resolved_and_tolerates_slack_errors(app):
    reactions = _Reactions(app.fake)
    ticket = _report_from_message(app)
    assert reactions.at(*ORIGIN) == set()  # a new ticket: nobody is on it yet

    _set_status(app, ticket, "in_progress")
    assert reactions.at(*ORIGIN) == {"eyes"}

    # Someone (or a retry) already put 👀 there: Slack says already_reacted; the change still goes through.
    _set_status(app, ticket, "waiting_on_reporter")
    assert reactions.at(*ORIGIN) == set()
    reactions.on.add((*ORIGIN, "eyes"))
    _set_status(app, ticket, "in_progress")
    assert "already_reacted" in reactions.errors

    _resolve(app, ticket, "库位容量已调大，请重新确认调拨单。")
    assert reactions.at(*ORIGIN) == {"white_check_mark"}
    assert "no_reaction" in reactions.errors  # ✅ was not there to take off before; harmless
    with app.db.begin() as s:
        assert s.get(Ticket, ticket.id).status == "resolved"

    # "Still a problem": the ✅ comes off again.
    app.sender.block_action(
        ids.TICKET_STILL_PROBLEM, user_id="U_REP", value=str(ticket.id), channel_id="DREP"
    )
    app.settle()
    assert "white_check_mark" not in reactions.at(*ORIGIN)

    # The triage card and its thread speak TRIAGE_LANGUAGE (en), whatever the reporter's language.
    card = [c for c in app.fake.calls("chat.update") if c.args.get("channel") == TRIAGE][-1]
    assert "Status" in card.text and "状态" not in card.text


def test_tickets_not_from_a_message_add_no_emoji(app):
    reactions = _Reactions(app.fake)
    with app.db.begin() as s:
        ticket = create_ticket(s, reporter="U_REP", description="报表导出的数字不对", source="slash").ticket
    _set_status(app, ticket, "in_progress")
    _resolve(app, ticket, "已修正报表口径。")
    with app.db.begin() as s:
        assert s.get(Ticket, ticket.id).status == "resolved"
    assert app.fake.calls("reactions.add") == [] and reactions.on == set()
