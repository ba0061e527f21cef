"""What several commands share: --lang, --role, and how their help text is laid out."""

from __future__ import annotations

import inspect

import typer

from bot.config import Settings
from bot.i18n import LANGUAGES, t

_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "cn": "zh-CN", "en": "en"}


def both_languages(key: str, /, **params: object) -> str:
    """`key` in zh-CN, then en: for what is said before the settings (CLI_LANGUAGE) are known."""
    return " / ".join(t(key, lang, **params) for lang in LANGUAGES)


def ui_language(value: str | None) -> str | None:
    """--lang of chat, digest and faq: zh-CN or en (zh is zh-CN too); anything else is a usage error.
    None: the command uses CLI_LANGUAGE."""
    if value is None:
        return None
    lang = _ALIASES.get(value.strip().lower())
    if lang not in LANGUAGES:
        # Parsed before the settings are loaded, so both languages.
        raise typer.BadParameter(both_languages("cli.error.unknown_language", value=value))
    return lang


def question_language(value: str | None) -> str | None:
    """--lang of ask: the question's language, zh (or zh-CN) or en."""
    lang = ui_language(value)
    return None if lang is None else ("zh" if lang == "zh-CN" else "en")


def known_role(settings: Settings, role: str | None, err, lang: str | None = None) -> str | None:
    """The role as the bot stores it (lower case), or exit 2 naming the roles there are (in `lang`,
    default CLI_LANGUAGE)."""
    if not role:
        return None
    role = role.strip().lower()
    if settings.roles and role not in {r.lower() for r in settings.roles}:
        message = t(
            "cli.error.unknown_role",
            lang or settings.cli_language,
            role=role,
            roles=", ".join(settings.roles),
        )
        err.print(message, style="red", markup=False)
        raise typer.Exit(2)
    return role


def help_text(doc: str | None) -> str:
    """A docstring as --help shows it well: typer joins the lines of the first paragraph only, so the
    others would keep the source's line breaks in the middle of the terminal's own wrapping."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)
