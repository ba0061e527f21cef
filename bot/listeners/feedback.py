"""Rating answers: 👍 Helpful, 👎 Not helpful (with a reason). Only the asker's rating is recorded.

The "Open a ticket" button (ids.OPEN_TICKET) is handled by the tickets feature.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import ids, rating_reminders
from bot.i18n import t
from bot.services import Services
from bot.views.answers import rated_blocks
from bot.views.modals import reason_modal
from feedback.questions import QuestionLog, rate_answer, take_rating_reminder

log = logging.getLogger("erp_coach.feedback")


def register(app: App, services: Services) -> None:
    def ack_only(ack: Ack) -> None:
        ack()

    def helpful(body: dict, client: WebClient, respond) -> None:
        _rate(services, client, respond, body, +1)

    app.action(ids.FEEDBACK_HELPFUL)(ack=ack_only, lazy=[helpful])

    def not_helpful(ack: Ack, body: dict, client: WebClient) -> None:
        # The reason dialog must open within the trigger's 3 seconds, so it opens here, right after ack.
        ack()
        question_id = _question_id(body)
        user_id = body["user"]["id"]
        if question_id is None or not _is_asker(services, question_id, user_id):
            return
        person = services.directory.person(user_id)
        metadata = {
            "channel": (body.get("container") or {}).get("channel_id"),
            "ts": (body.get("container") or {}).get("message_ts"),
        }
        client.views_open(
            trigger_id=body["trigger_id"],
            view=reason_modal(person.lang, question_id=question_id, metadata=metadata),
        )

    def not_helpful_after(body: dict, client: WebClient, respond) -> None:
        # Counted at the click, so closing the dialog without a reason still records the 👎.
        _rate(services, client, respond, body, -1)

    app.action(ids.FEEDBACK_NOT_HELPFUL)(ack=not_helpful, lazy=[not_helpful_after])

    def reason_submitted(ack: Ack, body: dict, view: dict) -> None:
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        values = (view.get("state") or {}).get("values") or {}
        selected = ((values.get(ids.FEEDBACK_REASON_BLOCK) or {}).get(ids.FEEDBACK_REASON_INPUT) or {}).get(
            "selected_option"
        ) or {}
        reason = selected.get("value")
        if reason not in ids.NOT_HELPFUL_REASONS or not meta.get("q"):
            return
        user_id = body["user"]["id"]
        if not _is_asker(services, int(meta["q"]), user_id):
            return
        with services.db.begin() as session:
            rate_answer(session, int(meta["q"]), -1, reason)

    app.view(ids.FEEDBACK_REASON_MODAL)(reason_submitted)


def _question_id(body: dict) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _is_asker(services: Services, question_id: int, user_id: str) -> bool:
    with services.db.begin() as session:
        entry = session.get(QuestionLog, question_id)
        return entry is not None and entry.slack_user_id == user_id


def _rate(services: Services, client: WebClient, respond, body: dict, rating: int) -> None:
    question_id = _question_id(body)
    user_id = body["user"]["id"]
    person = services.directory.person(user_id, client)
    if question_id is None:
        return
    reminder: tuple[str | None, str | None] = (None, None)  # (channel, scheduled message) to withdraw
    with services.db.begin() as session:
        entry = session.get(QuestionLog, question_id)
        if entry is None:
            return
        if entry.slack_user_id != user_id:
            asker = False
        else:
            asker = True
            keep_reason = entry.rating_reason if entry.rating == rating else None
            rate_answer(session, question_id, rating, keep_reason)
            reminder = (entry.channel_id, take_rating_reminder(session, question_id))
    if reminder[1]:
        rating_reminders.withdraw(client, *reminder)
    if not asker:
        if body.get("response_url"):
            respond(
                text=t("slack.answer.only_asker", person.lang),
                response_type="ephemeral",
                replace_original=False,
            )
        return
    note = t("slack.answer.rated_helpful" if rating > 0 else "slack.answer.rated_not_helpful", person.lang)
    _replace_buttons(client, respond, body, note, keep_ticket=rating < 0)


def _replace_buttons(client: WebClient, respond, body: dict, note: str, *, keep_ticket: bool) -> None:
    """Show the rating in place of the buttons, wherever the answer lives (message, ephemeral, modal)."""
    view = body.get("view")
    try:
        if view and view.get("type") == "modal":
            new_view = {
                k: view[k]
                for k in ("type", "title", "close", "callback_id", "private_metadata")
                if view.get(k) is not None
            }
            new_view["blocks"] = rated_blocks(view.get("blocks") or [], note, keep_ticket=keep_ticket)
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
            return
        message = body.get("message")
        if message and message.get("blocks"):
            blocks = rated_blocks(message["blocks"], note, keep_ticket=keep_ticket)
            if body.get("response_url"):
                respond(text=message.get("text") or note, blocks=blocks, replace_original=True)
            else:
                client.chat_update(
                    channel=body["channel"]["id"],
                    ts=message["ts"],
                    text=message.get("text") or note,
                    blocks=blocks,
                )
            return
        if body.get("response_url"):
            # Ephemeral answers do not come back with their blocks: acknowledge with a note instead.
            WebhookClient(body["response_url"]).send(
                text=note, response_type="ephemeral", replace_original=False
            )
    except SlackApiError as exc:
        log.warning("could not update the rated answer: %s", exc.response.get("error"))
