"""`erp-coach faq list|withdraw`: the FAQ entries support made from tickets, and taking a wrong one back."""

from __future__ import annotations

import os
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from slack_sdk.errors import SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot.cli._options import help_text, ui_language
from bot.config import Settings, load_settings
from bot.i18n import t
from bot.services import Services
from feedback import faq as faq_store
from feedback.db import Database
from feedback.tickets import TicketError, get_ticket

app = typer.Typer(help=help_text("cli.help.faq.command"), no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="faq")


def _when(moment, settings: Settings) -> str:
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def _ticket_key(session, entry: faq_store.FaqEntry) -> str:
    return get_ticket(session, entry.ticket_id).key if entry.ticket_id is not None else ""


def _cli_user() -> str:
    """Who withdrew it, as the audit log shows it: the account running the command (not a Slack user).
    Read from the system's user database, not the environment (only bot/config.py reads that)."""
    try:
        import pwd

        login = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # Windows, or a uid without a name (some containers)
        login = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{login}"[: faq_store.ACTOR_MAX]


@app.command("list", help=help_text("cli.help.faq.list.command"))
def list_command(
    include_withdrawn: Annotated[
        bool, typer.Option("--all", help=help_text("cli.help.faq.list.all"))
    ] = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help=help_text("cli.help.faq.lang"), callback=ui_language)
    ] = None,
) -> None:
    settings = load_settings()
    lang = lang or settings.cli_language
    db = Database(settings.resolved_database_url)
    try:
        with db.begin() as session:
            entries = (
                faq_store.all_entries(session) if include_withdrawn else faq_store.active_entries(session)
            )
            rows = [(entry, _ticket_key(session, entry)) for entry in entries]
            withdrawn_exist = not include_withdrawn and len(faq_store.all_entries(session)) > len(entries)
    except SQLAlchemyError as exc:
        err.print(f"[red]{t('faq.error.database', lang, detail=exc.__class__.__name__)}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    if not rows:
        console.print(t("faq.list.none" if include_withdrawn else "faq.list.none_active", lang))
    else:
        # rich measures Chinese characters as two cells wide, so the columns stay aligned.
        table = Table(show_lines=False)
        table.add_column(t("faq.list.id", lang), justify="right", no_wrap=True)
        table.add_column(t("faq.list.question", lang), overflow="fold", max_width=40)
        table.add_column(t("faq.list.ticket", lang), no_wrap=True)
        table.add_column(t("faq.list.created", lang), no_wrap=True)
        table.add_column(t("faq.list.status", lang), no_wrap=True)
        if include_withdrawn:
            table.add_column(t("faq.list.withdrawal", lang), overflow="fold", max_width=40)
        for entry, ticket in rows:
            cells = [
                str(entry.id),
                entry.question,
                ticket,
                _when(entry.created_at, settings),
                t("faq.list.withdrawn" if entry.withdrawn else "faq.list.active", lang),
            ]
            if include_withdrawn:
                cells.append(_withdrawal(entry, settings, lang) if entry.withdrawn else "")
            table.add_row(*cells)
        console.print(table)
    if withdrawn_exist:
        console.print(f"[dim]{t('faq.list.hint_all', lang)}[/dim]")


def _withdrawal(entry: faq_store.FaqEntry, settings: Settings, lang: str) -> str:
    return t(
        "faq.list.withdrawal_line",
        lang,
        when=_when(entry.withdrawn_at, settings),
        by=entry.withdrawn_by or "",
        reason=entry.withdrawn_reason or t("faq.list.no_reason", lang),
    )


@app.command("withdraw", help=help_text("cli.help.faq.withdraw.command"))
def withdraw_command(
    faq_id: Annotated[int, typer.Argument(metavar="ID", help=help_text("cli.help.faq.withdraw.id"))],
    reason: Annotated[str, typer.Option("--reason", help=help_text("cli.help.faq.withdraw.reason"))],
    lang: Annotated[
        str | None, typer.Option("--lang", help=help_text("cli.help.faq.lang"), callback=ui_language)
    ] = None,
) -> None:
    settings = load_settings()
    lang = lang or settings.cli_language
    if not reason.strip():  # Slack's dialog requires one too: "why" is what the card and the thread show
        err.print(f"[red]{t('faq.withdraw.reason_blank', lang)}[/red]")
        raise typer.Exit(2)
    # The bot's own database and Slack client, for the triage card.
    with Services(settings) as services:
        try:
            with services.db.begin() as session:
                done = faq_store.withdraw_entry(session, faq_id, _cli_user(), reason)
                ticket = _ticket_key(session, done.entry)
        except faq_store.FaqNotFound:
            err.print(f"[red]{t('faq.withdraw.not_found', lang, id=faq_id)}[/red]")
            raise typer.Exit(1) from None
        except TicketError as exc:
            err.print(f"[red]{t('faq.withdraw.invalid', lang, detail=exc)}[/red]")
            raise typer.Exit(2) from None
        except SQLAlchemyError as exc:
            err.print(f"[red]{t('faq.error.database', lang, detail=exc.__class__.__name__)}[/red]")
            raise typer.Exit(1) from None
        entry = done.entry
        if done.already:
            console.print(
                t(
                    "faq.withdraw.already",
                    lang,
                    id=entry.id,
                    when=_when(entry.withdrawn_at, settings),
                    by=entry.withdrawn_by or "",
                ),
                markup=False,
            )
        else:
            lines = [t("faq.withdraw.done", lang, id=entry.id, question=entry.question)]
            if ticket:
                lines.append(t("faq.withdraw.from_ticket", lang, ticket=ticket))
            lines.append(t("faq.withdraw.reason", lang, reason=entry.withdrawn_reason or ""))
            console.print("\n".join(lines), markup=False)
        # Also when it was withdrawn before: an index, or a card, that could not be reached then may
        # still show it.
        _unindex(settings, entry, lang)
        _update_card(services, done, ticket, lang)


def _update_card(services: Services, done: faq_store.Withdrawal, ticket: str, lang: str) -> None:
    """Update the ticket's triage card in Slack as the bot does (who withdrew it, when, why; the reason in
    the card's thread). Without Slack, or when Slack cannot be reached, the withdrawal stands: the card
    shows it the next time the card is updated."""
    from bot import ticket_messages

    entry = done.entry
    if entry.ticket_id is None:
        return
    with services.db.begin() as session:
        posted = get_ticket(session, entry.ticket_id)
        if not (posted.triage_channel and posted.triage_ts):
            return  # never posted to a triage channel: there is no card to update
    if not services.settings.slack_bot_token:
        err.print(f"[yellow]{t('faq.withdraw.card_no_slack', lang, ticket=ticket)}[/yellow]")
        return
    try:
        updated = ticket_messages.refresh(services, services.slack_client, [entry.ticket_id], done.events)
    except (SlackClientError, OSError):  # unreachable; a refusal is logged by refresh
        updated = 0
    if updated:
        console.print(t("faq.withdraw.card_updated", lang, ticket=ticket), markup=False)
    else:
        err.print(f"[yellow]{t('faq.withdraw.card_later', lang, ticket=ticket)}[/yellow]")


def _unindex(settings: Settings, entry: faq_store.FaqEntry, lang: str) -> None:
    """Remove the entry from the index on disk (or the Chroma server); a bot running on the same data
    folder picks that up on its next search (`KnowledgeBase.refresh`)."""
    from bot.cli.knowledge_cmds import open_knowledge
    from bot.faq_index import unindex_faq

    try:
        kb = open_knowledge(settings)
    except typer.Exit:  # the reason is printed; the database, which the bot reindexes from, is right
        err.print(f"[yellow]{t('faq.withdraw.index_later', lang)}[/yellow]")
        return
    with kb:
        removed = unindex_faq(kb, entry)
    console.print(t("faq.withdraw.unindexed" if removed else "faq.withdraw.not_indexed", lang))
