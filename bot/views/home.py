"""The App Home tab: role, language, an Ask button, recent questions, open tickets, pending trainings."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import ids
from bot.i18n import t
from bot.views.text import escape, plain, truncate


@dataclass
class HomeItem:
    """One line in a Home list: text (plain, escaped here), optional status note and link."""

    text: str
    note: str = ""
    url: str | None = None


@dataclass
class HomeData:
    lang: str
    role: str | None
    language_label: str
    recent_questions: list[HomeItem] = field(default_factory=list)
    open_tickets: list[HomeItem] = field(default_factory=list)
    pending_trainings: list[HomeItem] = field(default_factory=list)
    extra_blocks: list[dict] = field(default_factory=list)  # for features that add their own section


def home_view(data: HomeData) -> dict:
    lang = data.lang
    role_line = (
        t("slack.home.role", lang, role=escape(data.role)) if data.role else t("slack.home.role_none", lang)
    )
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(t("slack.home.header", lang), 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": t("slack.home.intro", lang)}},
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.HOME_ASK,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": plain(t("slack.home.ask", lang), 75)},
                }
            ],
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": role_line + "\n" + t("slack.home.language", lang, language=data.language_label),
            },
        },
        {"type": "divider"},
    ]
    blocks += _list(
        t("slack.home.recent_title", lang), data.recent_questions, t("slack.home.recent_empty", lang)
    )
    blocks += _list(
        t("slack.home.tickets_title", lang), data.open_tickets, t("slack.home.tickets_empty", lang)
    )
    blocks += _list(
        t("slack.home.trainings_title", lang), data.pending_trainings, t("slack.home.trainings_empty", lang)
    )
    blocks += data.extra_blocks
    return {"type": "home", "blocks": blocks[:100]}


def _list(title: str, items: list[HomeItem], empty: str) -> list[dict]:
    if not items:
        body = f"*{title}*\n_{empty}_"
    else:
        lines = [f"*{title}*"]
        for item in items[:10]:
            text = escape(truncate(" ".join(item.text.split()), 200))
            if item.url:
                text = f"<{item.url}|{text.replace('|', '/')}>"
            lines.append(f"• {text}" + (f"  _{escape(item.note)}_" if item.note else ""))
        body = truncate("\n".join(lines), 3000)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]
