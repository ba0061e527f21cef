"""The /erp help message."""

from __future__ import annotations

from bot.i18n import t
from bot.views.answers import Message
from bot.views.text import plain


def help_message(lang: str, roles: list[str]) -> Message:
    title = t("slack.help.title", lang)
    return Message(
        text=title,
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": plain(title, 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": t("slack.help.body", lang)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": ", ".join(f"`{r}`" for r in roles)}]},
        ],
    )
