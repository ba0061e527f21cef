"""`erp-coach` command line. Each group of commands lives in its own module and is added here."""

from __future__ import annotations

import click
import typer
from alembic.util import CommandError
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from bot.cli import db_cmds, faq_cmds, knowledge_cmds, slack_cmds, survey_cmds, ticket_cmds
from bot.cli._options import (
    both_languages,
    cli_language,
    fold_long_help_words,
    frame_in_help_language,
    help_text,
)
from bot.config import Settings, SettingsError, load_settings
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

_err = Console(stderr=True)


class _Commands(TyperGroup):
    """Every command: a problem with the settings or the environment is one message, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SettingsError as exc:  # CLI_LANGUAGE is unknown: both languages
            for line in str(exc).splitlines():
                _err.print(
                    f"{both_languages('cli.settings.problem')}: {line}",
                    style="red",
                    markup=False,
                    highlight=False,
                )
            for lang in LANGUAGES:
                _err.print(t("cli.settings.fix", lang), markup=False)
            raise typer.Exit(2) from None
        except CommandError as exc:  # Alembic: a revision this release lacks, named or in the database
            key = (
                "cli.error.unknown_revision" if "Can't locate revision" in str(exc) else "cli.error.migration"
            )
            _err.print(t(key, cli_language(), detail=exc), style="red", markup=False)
            raise typer.Exit(2) from None
        except OperationalError as exc:
            if exc.statement is not None:  # the database answered: not a connection problem
                raise
            reason = str(exc.orig or exc).strip().splitlines()[0]
            settings = _settings()
            lang = settings.cli_language if settings else DEFAULT_LANGUAGE
            if settings is None:
                message = t("cli.error.database_unreachable", lang, reason=reason)
            else:
                url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
                message = t("cli.error.database_unreachable_at", lang, url=url, reason=reason)
            _err.print(message, style="red", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            reason = exc.strerror or exc
            _err.print(
                t("cli.error.path", cli_language(), path=exc.filename, reason=reason),
                style="red",
                markup=False,
            )
            raise typer.Exit(1) from None


def _settings() -> Settings | None:
    """The settings, or None when they are broken (a command that got this far loaded them)."""
    try:
        return load_settings()
    except SettingsError:
        return None


fold_long_help_words()  # Chinese help, wrapped whole in a narrow terminal
frame_in_help_language()  # 参数, 选项, [必填]... around it
app = typer.Typer(
    name="erp-coach",
    help=help_text("cli.help.app"),  # in CLI_LANGUAGE, as every --help (bot/cli/_options.py)
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    cls=_Commands,
)
app.add_typer(db_cmds.app, name="db")
knowledge_cmds.register(app)
slack_cmds.register(app)
ticket_cmds.register(app)
faq_cmds.register(app)
survey_cmds.register(app)  # surveys, training, digest, scheduler


def main() -> None:
    app()
