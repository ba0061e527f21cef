"""`/erp channel`: see this channel's settings (anyone); admins change them:
`/erp channel mode all|mention`, `/erp channel scope 财务,仓库`, `/erp channel scope all`.

Answered in the ack (a database read or write, and a look at the loaded index for the folder names).
"""

from __future__ import annotations

from slack_bolt import App

from bot.i18n import t
from bot.listeners.erp_command import CommandRequest, subcommand
from bot.services import Services
from bot.views.answers import Message
from bot.views.channels import channel_settings_message, folder_list, note_message
from feedback.channels import ALL, MENTION, UnknownAnswerMode, channel_config, set_answer_mode, set_scope
from knowledge.scope import parse_scope

_MODE_WORDS = {"mode", "模式", "回答"}
_SCOPE_WORDS = {"scope", "范围", "搜索范围"}
_MODES = {
    "all": ALL,
    "全部": ALL,
    "所有": ALL,
    "mention": MENTION,
    "mentions": MENTION,
    "提及": MENTION,
    "@": MENTION,
}
_EVERYTHING = {"all", "*", "none", "clear", "全部", "所有", "清除"}


def register(app: App, services: Services) -> None:
    """Nothing to register beyond the `/erp channel` sub-command (added at import)."""


@subcommand("channel", "频道")
def channel_command(req: CommandRequest) -> Message:
    lang = req.person.lang
    channel = req.body.get("channel_id") or ""
    name = req.body.get("channel_name") or ""
    # A group DM (mpdm-…) is no channel either: the bot gets no message events from it.
    if not channel or channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-"):
        return note_message(t("slack.channel.not_in_dm", lang))
    word, _, rest = req.args.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if not word:
        with req.services.db.begin() as session:
            return channel_settings_message(lang, channel_config(session, channel))
    if word not in _MODE_WORDS | _SCOPE_WORDS:
        with req.services.db.begin() as session:
            config = channel_config(session, channel)
        return channel_settings_message(lang, config, note=t("slack.channel.usage", lang))
    if not req.person.is_admin:
        return note_message(t("slack.channel.not_admin", lang))
    if word in _MODE_WORDS:
        return _set_mode(req, channel, rest)
    return _set_scope(req, channel, rest)


def _set_mode(req: CommandRequest, channel: str, wanted: str) -> Message:
    lang = req.person.lang
    mode = _MODES.get(wanted.lower(), wanted.lower())
    try:
        with req.services.db.begin() as session:
            config = set_answer_mode(session, channel, mode, by=req.person.user_id)
    except UnknownAnswerMode:
        return note_message(t("slack.channel.bad_mode", lang, mode=wanted[:40] or "…"))
    key = "slack.channel.mode_set_all" if config.answers_all else "slack.channel.mode_set_mention"
    return channel_settings_message(lang, config, note=t(key, lang))


def _set_scope(req: CommandRequest, channel: str, wanted: str) -> Message:
    lang = req.person.lang
    knowledge = req.services.knowledge
    folders = folder_list(knowledge.folders()) or t("slack.channel.no_folders", lang)
    if wanted.lower() in _EVERYTHING:
        scope: tuple[str, ...] = ()
    else:
        scope = parse_scope(wanted)
        if not scope:
            return note_message(t("slack.channel.bad_scope", lang, folders=folders))
        missing = knowledge.empty_scopes(scope)
        if missing:
            return note_message(
                t("slack.channel.unknown_scope", lang, missing=folder_list(missing), folders=folders)
            )
    with req.services.db.begin() as session:
        config = set_scope(session, channel, scope, by=req.person.user_id)
    if scope:
        note = t("slack.channel.scope_set", lang, scope=folder_list(scope))
    else:
        note = t("slack.channel.scope_cleared", lang)
    return channel_settings_message(lang, config, note=note)
