"""`/erp lang zh|en|auto`: a per-user language override; `auto` follows the Slack locale again."""

from __future__ import annotations

from slack_bolt import App

from bot.i18n import language_of, t
from bot.listeners.erp_command import CommandRequest, subcommand
from bot.services import Services
from bot.views.answers import Message
from feedback.people import ensure_user

_CHOICES = {
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "cn": "zh-CN",
    "中文": "zh-CN",
    "chinese": "zh-CN",
    "en": "en",
    "english": "en",
    "英文": "en",
    "auto": None,
    "自动": None,
}


def register(app: App, services: Services) -> None:
    """Nothing to register beyond the `/erp lang` sub-command (added at import)."""


@subcommand("lang", "language", "语言")
def lang_command(req: CommandRequest) -> Message:
    person = req.person
    choice = req.args.strip().lower()
    if choice not in _CHOICES:
        current = t(f"slack.lang.{person.lang}", person.lang)
        return _msg(t("slack.lang.usage", person.lang, language=current))
    override = _CHOICES[choice]
    with req.services.db.begin() as session:
        user = ensure_user(session, person.user_id)
        user.language_override = override
    if override is None:
        lang = language_of(person.slack_locale)
        return _msg(t("slack.lang.auto", lang, language=t(f"slack.lang.{lang}", lang)))
    return _msg(t("slack.lang.set", override))


def _msg(text: str) -> Message:
    return Message(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
