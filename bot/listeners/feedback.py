"""Rating answers: 👍 Helpful, 👎 Not helpful (with a reason). Under an answer the asker reads, only the
asker's rating is recorded. Under an answer in a channel (an @mention's thread, a channel that answers
every question, or shared there by its asker), everyone there may rate it:
the asker's click is the asker's rating, anyone else's a colleague rating (one per person), and the
message shows the colleague ratings so far.

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
from bot.delivery import with_screenshot_fallback
from bot.i18n import t
from bot.services import Services
from bot.views.answers import rated_blocks, with_colleague_ratings
from bot.views.modals import reason_modal
from feedback.colleague_ratings import colleague_tally, rate_as_colleague
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

    def shared_helpful(body: dict, client: WebClient, respond) -> None:
        _rate_shared(services, client, respond, body, +1)

    app.action(ids.SHARED_HELPFUL)(ack=ack_only, lazy=[shared_helpful])

    def shared_not_helpful(ack: Ack, body: dict, client: WebClient) -> None:
        ack()  # then the reason dialog at once, within the trigger's 3 seconds, as for the asker
        question_id = _question_id(body)
        user_id = body["user"]["id"]
        asker = _asker_of(services, question_id) if question_id is not None else None
        if asker is None or not body.get("trigger_id"):
            return
        person = services.directory.person(user_id)
        metadata = {
            "channel": (body.get("container") or {}).get("channel_id"),
            "ts": (body.get("container") or {}).get("message_ts"),
            "colleague": asker != user_id,
        }
        client.views_open(
            trigger_id=body["trigger_id"],
            view=reason_modal(person.lang, question_id=question_id, metadata=metadata),
        )

    def shared_not_helpful_after(body: dict, client: WebClient, respond) -> None:
        _rate_shared(services, client, respond, body, -1)

    app.action(ids.SHARED_NOT_HELPFUL)(ack=shared_not_helpful, lazy=[shared_not_helpful_after])

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
        try:
            question_id = int(meta["q"])
        except (TypeError, ValueError):
            return
        asker = _asker_of(services, question_id)
        if asker is None:
            return
        with services.db.begin() as session:
            if asker == user_id:
                rate_answer(session, question_id, -1, reason)
            elif meta.get("colleague"):
                rate_as_colleague(session, question_id, user_id, -1, reason)

    app.view(ids.FEEDBACK_REASON_MODAL)(reason_submitted)


def _question_id(body: dict) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _is_asker(services: Services, question_id: int, user_id: str) -> bool:
    return _asker_of(services, question_id) == user_id


def _asker_of(services: Services, question_id: int) -> str | None:
    """Who asked question `question_id`; None for an unknown question (a forged or stale button)."""
    with services.db.begin() as session:
        entry = session.get(QuestionLog, question_id)
        return entry.slack_user_id if entry is not None else None


def _rate_as_asker(
    services: Services, client: WebClient, question_id: int, user_id: str, rating: int
) -> bool | None:
    """Record the asker's rating (and withdraw the reminder it makes moot). None for an unknown
    question, False when `user_id` did not ask it."""
    with services.db.begin() as session:
        entry = session.get(QuestionLog, question_id)
        if entry is None:
            return None
        if entry.slack_user_id != user_id:
            return False
        keep_reason = entry.rating_reason if entry.rating == rating else None
        rate_answer(session, question_id, rating, keep_reason)
        reminder = (entry.channel_id, take_rating_reminder(session, question_id))
    if reminder[1]:
        rating_reminders.withdraw(client, *reminder)
    return True


def _rate(services: Services, client: WebClient, respond, body: dict, rating: int) -> None:
    question_id = _question_id(body)
    user_id = body["user"]["id"]
    person = services.directory.person(user_id, client)
    if question_id is None:
        return
    asker = _rate_as_asker(services, client, question_id, user_id, rating)
    if asker is None:
        return
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


def _rate_shared(services: Services, client: WebClient, respond, body: dict, rating: int) -> None:
    """A click under a shared answer: the asker's rating, or a colleague rating shown in the tally.
    Either way the buttons stay, for everyone else in the channel."""
    question_id = _question_id(body)
    if question_id is None:
        return
    user_id = body["user"]["id"]
    asker = _rate_as_asker(services, client, question_id, user_id, rating)
    if asker is None:
        return
    person = services.directory.person(user_id, client)
    if asker:
        key = "slack.answer.rated_helpful" if rating > 0 else "slack.answer.rated_not_helpful"
    else:
        try:
            with services.db.begin() as session:
                rate_as_colleague(session, question_id, user_id, rating)
        except LookupError:  # the question was deleted since the click
            return
        _show_colleague_ratings(services, client, respond, body, question_id, person.lang)
        key = (
            "slack.answer.colleague_rated_helpful"
            if rating > 0
            else "slack.answer.colleague_rated_not_helpful"
        )
    if body.get("response_url"):
        respond(text=t(key, person.lang), response_type="ephemeral", replace_original=False)


def _show_colleague_ratings(
    services: Services, client: WebClient, respond, body: dict, question_id: int, lang: str
) -> None:
    """Redraw the shared answer with the tally. Two colleagues clicking at once each draw what they
    read and the slower draw may land last, so a tally that moved meanwhile is drawn once more."""
    message = body.get("message") or {}
    if not message.get("blocks"):
        return
    drawn = None
    for _ in range(2):
        with services.db.begin() as session:
            tally = colleague_tally(session, question_id)
        if tally == drawn:
            return
        blocks = with_colleague_ratings(message["blocks"], tally.helpful, tally.not_helpful, lang)
        text = message.get("text") or t(
            "slack.answer.colleague_ratings", lang, helpful=tally.helpful, not_helpful=tally.not_helpful
        )
        try:
            _update_answer(client, respond, body, text, blocks)
        except SlackApiError as exc:
            log.warning("could not show the colleague ratings: %s", exc.response.get("error"))
            return
        drawn = tally


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
            with_screenshot_fallback(
                lambda b: client.views_update(
                    view_id=view["id"], hash=view.get("hash"), view={**new_view, "blocks": b}
                ),
                rated_blocks(view.get("blocks") or [], note, keep_ticket=keep_ticket),
            )
            return
        message = body.get("message")
        if message and message.get("blocks"):
            blocks = rated_blocks(message["blocks"], note, keep_ticket=keep_ticket)
            _update_answer(client, respond, body, message.get("text") or note, blocks)
            return
        if body.get("response_url"):
            # Ephemeral answers do not come back with their blocks: acknowledge with a note instead.
            WebhookClient(body["response_url"]).send(
                text=note, response_type="ephemeral", replace_original=False
            )
    except SlackApiError as exc:
        log.warning("could not update the rated answer: %s", exc.response.get("error"))


def _update_answer(client: WebClient, respond, body: dict, text: str, blocks: list[dict]) -> None:
    """Redraw the answer a click came from: through its response_url (ephemeral, shared), else in place."""
    if body.get("response_url"):
        with_screenshot_fallback(lambda b: respond(text=text, blocks=b, replace_original=True), blocks)
    else:
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        with_screenshot_fallback(
            lambda b: client.chat_update(channel=channel, ts=ts, text=text, blocks=b), blocks
        )
