"""`erp-coach db ...`: schema migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.cli._options import help_text
from bot.config import load_settings
from bot.i18n import t
from feedback.db import Database, current_revision

app = typer.Typer(help=help_text("cli.help.db.command"), no_args_is_help=True)
console = Console()


@app.command(help=help_text("cli.help.db.upgrade.command"))
def upgrade(revision: str = typer.Argument("heads", help=help_text("cli.help.db.upgrade.revision"))) -> None:
    settings = load_settings()
    db = Database(settings.resolved_database_url)
    db.upgrade(revision)
    message = t("cli.db.upgraded", settings.cli_language, revision=current_revision(db), dialect=db.dialect)
    console.print(message, style="green", markup=False)


@app.command(help=help_text("cli.help.db.current.command"))
def current() -> None:
    settings = load_settings()
    revision = current_revision(Database(settings.resolved_database_url))
    console.print(revision or t("cli.db.empty", settings.cli_language), markup=False)
