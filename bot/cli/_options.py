"""What several commands share: --lang, --role, and how their help text is laid out."""

from __future__ import annotations

import inspect

import typer

from bot.config import Settings
from bot.i18n import LANGUAGES

_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "cn": "zh-CN", "en": "en"}


def ui_language(value: str | None) -> str | None:
    """--lang of chat and digest: zh-CN or en (zh is zh-CN too); anything else is a usage error."""
    if value is None:
        return None
    lang = _ALIASES.get(value.strip().lower())
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"{value!r} is not a language erp-coach speaks; choose zh-CN (or zh) or en")
    return lang


def question_language(value: str | None) -> str | None:
    """--lang of ask: the question's language, zh (or zh-CN) or en."""
    lang = ui_language(value)
    return None if lang is None else ("zh" if lang == "zh-CN" else "en")


def known_role(settings: Settings, role: str | None, err) -> str | None:
    """The role as the bot stores it (lower case), or exit 2 naming the roles there are."""
    if not role:
        return None
    role = role.strip().lower()
    if settings.roles and role not in {r.lower() for r in settings.roles}:
        err.print(f"[red]Unknown role {role!r}; choose one of: {', '.join(settings.roles)}[/red]")
        raise typer.Exit(2)
    return role


def help_text(doc: str | None) -> str:
    """A docstring as --help shows it well: typer joins the lines of the first paragraph only, so the
    others would keep the source's line breaks in the middle of the terminal's own wrapping."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)
