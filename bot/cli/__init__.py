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
from bot.config import SettingsError, load_settings

_err = Console(stderr=True)


class _Commands(TyperGroup):
    """Every command: a problem with the settings or the environment is one message, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            for line in str(exc).splitlines():
                _err.print(f"Setting {line}", style="red", markup=False, highlight=False)
            _err.print("Fix it in .env or the environment (.env.example lists every setting).")
            raise typer.Exit(2) from None
        except CommandError as exc:  # Alembic: a revision this release lacks, named or in the database
            hint = (
                ". `erp-coach db current` shows the database's revision; a database migrated by a newer "
                "erp-coach needs that release."
                if "Can't locate revision" in str(exc)
                else ""
            )
            _err.print(f"{exc}{hint}", style="red", markup=False)
            raise typer.Exit(2) from None
        except OperationalError as exc:
            if exc.statement is not None:  # the database answered: not a connection problem
                raise
            reason = str(exc.orig or exc).strip().splitlines()[0]
            _err.print(f"Cannot reach the database{_where()}: {reason}", style="red", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            _err.print(f"Cannot use {exc.filename}: {exc.strerror or exc}", style="red", markup=False)
            raise typer.Exit(1) from None


def _where() -> str:
    """The database URL with its password hidden, as " at URL"; empty when the settings are broken."""
    try:
        url = make_url(load_settings().resolved_database_url)
    except SettingsError:
        return ""
    return f" at {url.render_as_string(hide_password=True)}"


app = typer.Typer(
    name="erp-coach",
    help="erp-coach: answers ERP how-to questions in Slack, tracks feedback tickets, runs surveys.",
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
