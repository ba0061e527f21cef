"""`/erp role`: see your role; admins set or clear anyone's (`/erp role @li.wei finance`, `... none`)."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.i18n import t
from bot.listeners.erp_command import CommandRequest, subcommand
from bot.services import Services
from bot.views.answers import Message
from feedback.people import UnknownRole, get_user, set_role

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CLEAR = {"none", "clear", "-", "无", "清除"}


def register(app: App, services: Services) -> None:
    """Nothing to register beyond the `/erp role` sub-command (added at import)."""


@subcommand("role", "roles", "岗位", "角色")
def role_command(req: CommandRequest) -> Message:
    lang = req.person.lang
    roles = req.services.settings.roles
    mention = _USER.search(req.args)
    rest = _USER.sub("", req.args).split()
    if mention is None:
        if rest:
            return _msg(
                t("slack.roles.bad_user", lang) + "\n" + t("slack.roles.usage", lang, roles=_list(roles))
            )
        if req.person.role:
            return _msg(t("slack.roles.yours", lang, role=req.person.role))
        return _msg(t("slack.roles.yours_none", lang))
    target = mention.group(1)
    if not rest:
        with req.services.db.begin() as session:
            user = get_user(session, target)
            role = user.role if user else None
        key = "slack.roles.theirs" if role else "slack.roles.theirs_none"
        return _msg(t(key, lang, user=target, role=role or ""))
    if not req.person.is_admin:
        return _msg(t("slack.roles.not_admin", lang))
    wanted = rest[0].lower()
    try:
        with req.services.db.begin() as session:
            set_role(session, target, None if wanted in _CLEAR else wanted, list(roles))
    except UnknownRole:
        return _msg(t("slack.roles.unknown", lang, role=rest[0][:40], roles=_list(roles)))
    if wanted in _CLEAR:
        return _msg(t("slack.roles.cleared", lang, user=target))
    return _msg(t("slack.roles.set", lang, user=target, role=wanted))


def _list(roles: list[str]) -> str:
    return ", ".join(f"`{r}`" for r in roles)


def _msg(text: str) -> Message:
    return Message(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
