"""What several commands share: --lang, --role, and their --help text in CLI_LANGUAGE."""

from __future__ import annotations

from functools import cache

import typer
from rich.text import Text

from bot.config import Settings, load_settings
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

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


def cli_language() -> str:
    """CLI_LANGUAGE; DEFAULT_LANGUAGE when the settings do not load (the command that runs loads them
    again and says what is wrong)."""
    try:
        return load_settings().cli_language
    except Exception:  # SettingsError, or a .env that cannot be read: help and error messages still work
        return DEFAULT_LANGUAGE


@cache
def help_language() -> str:
    """The language of every --help text: `cli_language`, decided once, as the modules build their
    commands (before any command runs), so importing the CLI never fails on the settings."""
    return cli_language()


def help_text(key: str, /, **params: object) -> str:
    """The --help text `key` (`cli.help.<command>.<option>`, `...<command>.command` for the command
    itself) in the help language. Paragraphs are separated by a blank line ("\\n\\n" in the catalog);
    each is one line, wrapped by the terminal."""
    return t(key, help_language(), **params)


def fold_long_help_words() -> None:
    """Let --help fold a line of Chinese at the edge of its column instead of cropping it.

    Rich wraps text only at spaces, and typer's help tables crop a longer "word" with "…"; an English
    sentence has spaces enough, but a Chinese one is a single word, so an 80-column terminal lost the end
    of many a help text (Textualize/rich#2494: overflow="fold" is the answer). Typer makes every help text
    in `rich_utils._make_rich_text`; the texts it makes fold from now on. Should a typer release rename
    that function, help is as before (tests/bot/test_cli_help.py notices)."""
    from typer import rich_utils

    make = getattr(rich_utils, "_make_rich_text", None)
    if make is None or getattr(make, "folds", False):
        return

    def make_folding(*args, **kwargs):
        if kwargs.get("text") == _CLICK_HELP_OPTION:  # click's own words for --help
            kwargs["text"] = help_text("cli.help.frame.help_option")
        text = make(*args, **kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text

    make_folding.folds = True
    rich_utils._make_rich_text = make_folding


_CLICK_HELP_OPTION = "Show this message and exit."
# typer's own words in its help and error panels (module constants that it reads as it prints).
_TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": "arguments",
    "OPTIONS_PANEL_TITLE": "options",
    "COMMANDS_PANEL_TITLE": "commands",
    "ERRORS_PANEL_TITLE": "error",
    "REQUIRED_LONG_STRING": "required",
    "DEFAULT_STRING": "default",
    "ENVVAR_STRING": "envvar",
    "DEPRECATED_STRING": "deprecated",
    "ABORTED_TEXT": "aborted",
    "RICH_HELP": "try_help",
}


def frame_in_help_language() -> None:
    """The frame of --help and of a usage error (panel titles Arguments/Options/Commands/Error,
    [required], [default: …], the --help option's own line) in the help language, not only the texts
    inside it. Click's usage line and its error sentences ("Missing argument …") stay English. A name
    that a typer release drops is left alone (tests/bot/test_cli_help.py notices)."""
    from typer import rich_utils

    for name, key in _TYPER_WORDS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, help_text(f"cli.help.frame.{key}"))
