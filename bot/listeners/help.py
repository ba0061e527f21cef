"""`/erp help` (and `/erp` alone)."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.erp_command import CommandRequest, subcommand
from bot.services import Services
from bot.views.answers import Message
from bot.views.help import help_message


def register(app: App, services: Services) -> None:
    """Nothing to register beyond the `/erp help` sub-command (added at import)."""


@subcommand("help", "帮助", "?", "？", takes_args=False)
def help_command(req: CommandRequest) -> Message:
    return help_message(req.person.lang, req.services.settings.roles)
