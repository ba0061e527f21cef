"""Survey DMs: "Answer the survey" opens the modal; the submission records one answer per person.

The button opens the modal straight away (a trigger_id lives 3 seconds, and the lookup is one row);
late or repeated clicks get a polite note instead, and the DM is updated so the button disappears.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.i18n import t
from bot.services import Services
from bot.views.surveys import answers_from_state, status_blocks, survey_modal
from feedback.db import utcnow
from feedback.surveys import (
    InvalidAnswer,
    RoundStatus,
    SubmitOutcome,
    get_round,
    has_responded,
    submit_response,
)

log = logging.getLogger("erp_coach.surveys")


def register(app: App, services: Services) -> None:
    def open_survey(ack: Ack, body: dict, client: WebClient, respond) -> None:
        ack()
        user_id = body["user"]["id"]
        lang = services.directory.person(user_id).lang
        try:
            round_id = int(body["actions"][0]["value"])
        except (KeyError, ValueError):
            return
        round_ = get_round(services.db, round_id)
        message = {"channel": body.get("channel", {}).get("id"), "ts": body.get("message", {}).get("ts")}
        if round_ is None:
            respond(text=t("surveys.not_invited", lang), response_type="ephemeral", replace_original=False)
            return
        if round_.status == RoundStatus.CLOSED or utcnow() >= round_.closes_at:
            _mark(client, message, t("surveys.closed_status", lang), round_.title, lang)
            respond(text=t("surveys.closed", lang), response_type="ephemeral", replace_original=False)
            return
        if has_responded(services.db, round_id, user_id):
            _mark(client, message, t("surveys.answered_status", lang), round_.title, lang)
            respond(
                text=t("surveys.already_answered", lang), response_type="ephemeral", replace_original=False
            )
            return
        client.views_open(
            trigger_id=body["trigger_id"],
            view=survey_modal(round_id, round_.title, round_.questions, lang, message),
        )

    def submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        lang = services.directory.person(user_id).lang
        meta = json.loads(view.get("private_metadata") or "{}")
        round_ = get_round(services.db, int(meta.get("round", 0)))
        if round_ is None:
            ack(response_action="update", view=_notice(t("surveys.not_invited", lang), lang))
            return
        answers = answers_from_state(view["state"]["values"], round_.questions)
        try:
            outcome = submit_response(services.db, round_.id, user_id, answers)
        except InvalidAnswer as exc:
            ack(
                response_action="errors",
                errors={_block_of(exc.question_id, view): t("surveys.needs_answer", lang)},
            )
            return
        if outcome == SubmitOutcome.ACCEPTED:
            ack()  # the modal closes; `answered` (lazy) turns the DM's button into "answered, thank you"
            return
        key = {
            SubmitOutcome.CLOSED: "surveys.closed",
            SubmitOutcome.ALREADY_ANSWERED: "surveys.already_answered",
        }.get(outcome, "surveys.not_invited")
        ack(response_action="update", view=_notice(t(key, lang), lang))

    def answered(body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        round_ = get_round(services.db, int(meta.get("round", 0)))
        if round_ is not None and has_responded(services.db, round_.id, user_id):
            lang = services.directory.person(user_id).lang
            _mark(client, meta, t("surveys.answered_status", lang), round_.title, lang)

    app.action(ids.SURVEY_OPEN)(open_survey)
    app.view(ids.SURVEY_MODAL)(ack=submit, lazy=[answered])


def _block_of(question_id: str, view: dict) -> str:
    """The input block to show an error under: the question's, or its first module's."""
    for block in view.get("blocks", []) or view["state"]["values"]:
        block_id = block["block_id"] if isinstance(block, dict) else block
        if block_id == f"q:{question_id}" or block_id.startswith(f"q:{question_id}:"):
            return block_id
    return f"q:{question_id}"


def _notice(text: str, lang: str) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": t("surveys.modal_title", lang)[:24]},
        "close": {"type": "plain_text", "text": "OK"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def _mark(client: WebClient, message: dict, text: str, title: dict, lang: str) -> None:
    """Replace the invitation's button with its status, so nobody clicks a dead button later."""
    if not message.get("channel") or not message.get("ts"):
        return
    try:
        client.chat_update(
            channel=message["channel"], ts=message["ts"], text=text, blocks=status_blocks(text, title, lang)
        )
    except SlackApiError as exc:
        log.info("could not update the survey DM: %s", exc.response.get("error"))
