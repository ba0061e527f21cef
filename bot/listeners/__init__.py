"""Slack listeners, one module per surface. Each exposes `register(app, services)`."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services


def register_all(app: App, services: Services) -> None:
    from bot.listeners import (
        ask,
        channels,
        erp_command,
        feedback,
        help,
        home,
        language,
        roles,
        surveys,
        tickets,
        training,
    )

    # `/erp` sub-commands (help, role, lang, channel) register themselves on import; erp_command dispatches them.
    for module in (
        ask,
        erp_command,
        feedback,
        home,
        roles,
        language,
        channels,
        help,
        tickets,
        surveys,
        training,
    ):
        module.register(app, services)
