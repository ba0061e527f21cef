"""Slack listeners, one module per surface. Each exposes `register(app, services)`."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services


def register_all(app: App, services: Services) -> None:
    from bot.listeners import ask, feedback, help, home, language, roles, tickets

    # Order matters for the /erp command: sub-commands (role, lang, help) are dispatched by `ask`.
    for module in (ask, feedback, home, roles, language, help, tickets):
        module.register(app, services)
