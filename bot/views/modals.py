"""Modals: ask a question, and why an answer was not helpful."""

from __future__ import annotations

import json

from bot import ids
from bot.i18n import t
from bot.views.answers import Message
from bot.views.text import escape, plain, truncate


def ask_modal(lang: str, *, initial: str = "") -> dict:
    element = {
        "type": "plain_text_input",
        "action_id": ids.ASK_INPUT,
        "multiline": True,
        "max_length": 1000,
        "placeholder": {"type": "plain_text", "text": plain(t("slack.ask_modal.placeholder", lang), 150)},
    }
    if initial:
        element["initial_value"] = initial[:1000]
    return {
        "type": "modal",
        "callback_id": ids.ASK_MODAL,
        "title": {"type": "plain_text", "text": plain(t("slack.ask_modal.title", lang), 24)},
        "submit": {"type": "plain_text", "text": plain(t("slack.ask_modal.submit", lang), 24)},
        "close": {"type": "plain_text", "text": plain(t("slack.ask_modal.close", lang), 24)},
        "blocks": [
            {
                "type": "input",
                "block_id": ids.ASK_BLOCK,
                "label": {"type": "plain_text", "text": plain(t("slack.ask_modal.label", lang), 150)},
                "element": element,
            }
        ],
    }


def answer_modal(lang: str, message: Message) -> dict:
    """The ask modal after submission: the answer (or 'searching…') in place, with the same buttons."""
    return {
        "type": "modal",
        "callback_id": ids.ASK_MODAL + "_answer",
        "title": {"type": "plain_text", "text": plain(t("slack.ask_modal.title", lang), 24)},
        "close": {"type": "plain_text", "text": plain(t("slack.ask_modal.close", lang), 24)},
        "blocks": message.blocks[:100],
    }


def searching_modal(lang: str, question: str) -> dict:
    text = t("slack.ask_modal.searching", lang, question=escape(truncate(question, 500)))
    return answer_modal(
        lang, Message(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
    )


def reason_modal(lang: str, *, question_id: int, metadata: dict) -> dict:
    """Why was it not helpful: one of the reasons plus an optional comment."""
    options = [
        {"text": {"type": "plain_text", "text": plain(t(f"slack.reason.{r}", lang), 75)}, "value": r}
        for r in ids.NOT_HELPFUL_REASONS
    ]
    return {
        "type": "modal",
        "callback_id": ids.FEEDBACK_REASON_MODAL,
        "private_metadata": json.dumps({"q": question_id, **metadata})[:3000],
        "title": {"type": "plain_text", "text": plain(t("slack.reason.title", lang), 24)},
        "submit": {"type": "plain_text", "text": plain(t("slack.reason.submit", lang), 24)},
        "close": {"type": "plain_text", "text": plain(t("slack.reason.cancel", lang), 24)},
        "blocks": [
            {
                "type": "input",
                "block_id": ids.FEEDBACK_REASON_BLOCK,
                "label": {"type": "plain_text", "text": plain(t("slack.reason.label", lang), 150)},
                "element": {
                    "type": "radio_buttons",
                    "action_id": ids.FEEDBACK_REASON_INPUT,
                    "options": options,
                },
            },
        ],
    }
