"""`erp-coach` command line. Each group of commands lives in its own module and is added here."""

from __future__ import annotations

import typer

from bot.cli import db_cmds, faq_cmds, knowledge_cmds, slack_cmds, survey_cmds, ticket_cmds

app = typer.Typer(
    name="erp-coach",
    help="erp-coach: answers ERP how-to questions in Slack, tracks feedback tickets, runs surveys.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.add_typer(db_cmds.app, name="db")
knowledge_cmds.register(app)
slack_cmds.register(app)
ticket_cmds.register(app)
faq_cmds.register(app)
survey_cmds.register(app)  # surveys, training, digest, scheduler


def main() -> None:
    app()
