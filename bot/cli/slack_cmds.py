"""`erp-coach serve | chat | run`: the bot in Slack (Socket Mode or HTTP), or a local terminal chat."""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bot.cli._options import help_text, known_role, ui_language
from bot.cli._reasons import reason_text
from bot.cli.knowledge_cmds import print_screenshots
from bot.config import Settings, load_settings
from bot.i18n import t
from bot.listeners.ask import MAX_QUESTION
from bot.services import Services
from bot.views.answers import citation_label
from bot.views.text import screenshot_names

console = Console()
err = Console(stderr=True)
DEFAULT_KB = "./sample_kb"


@contextlib.contextmanager
def _stops_with_a_message(lang: str) -> Iterator[None]:
    """A knowledge base that cannot start (model, Chroma, index, synonyms file) says why, not a traceback."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from knowledge.base import KnowledgeBaseError
    from knowledge.embedding import EmbeddingModelError
    from knowledge.index import VectorStoreError

    try:
        yield
    except (EmbeddingModelError, VectorStoreError, KnowledgeBaseError) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    except (BoltError, SlackApiError) as exc:  # e.g. invalid_auth from auth.test or apps.connections.open
        err.print(t("cli.slack.refused", lang, detail=exc), style="red", markup=False)
        err.print(t("cli.slack.refused_hint", lang), markup=False)
        raise typer.Exit(1) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            err.print(t("cli.slack.port_in_use", lang, detail=exc.strerror), style="red", markup=False)
            raise typer.Exit(1) from None
        raise


def register(app: typer.Typer) -> None:
    app.command(help=help_text("cli.help.serve.command"))(serve)
    app.command(help=help_text("cli.help.chat.command"))(chat)
    app.command(help=help_text("cli.help.run.command"))(run)


def serve(
    http: bool = typer.Option(False, "--http", help=help_text("cli.help.serve.http")),
    port: int = typer.Option(3000, "--port", "-p", help=help_text("cli.help.serve.port")),
    host: str = typer.Option("0.0.0.0", "--host", help=help_text("cli.help.serve.host")),
    scheduler: bool = typer.Option(
        True, "--scheduler/--no-scheduler", help=help_text("cli.help.serve.scheduler")
    ),
) -> None:
    settings = load_settings()
    missing = missing_slack_settings(settings, http=http)
    lang = settings.cli_language
    if missing:
        err.print(f"[red]{t('common.missing_settings', lang, names=', '.join(missing))}[/red]")
        raise typer.Exit(2)
    with Services(settings) as services, _stops_with_a_message(lang):
        _serve(services, http=http, host=host, port=port, scheduler=scheduler)


def chat(
    role: str = typer.Option(None, "--role", help=help_text("cli.help.chat.role")),
    lang: str = typer.Option(None, "--lang", help=help_text("cli.help.chat.lang"), callback=ui_language),
) -> None:
    settings = load_settings()
    lang = lang or settings.cli_language
    role = known_role(settings, role, err, lang)
    with Services(settings) as services, _stops_with_a_message(lang):
        services.db.upgrade()  # questions are logged: the tables must exist on a fresh data dir
        _chat(services, role=role, lang=lang)


def run() -> None:
    settings = load_settings()
    lang = settings.cli_language
    with Services(settings) as services:
        services.db.upgrade()
        with _stops_with_a_message(lang):
            _ingest(services, lang=lang)
            _restore_faqs(services, lang=lang)
            missing = missing_slack_settings(settings, http=False)
            if not missing:
                _serve(services, http=False, host="", port=0)
                return
            err.print(f"[yellow]{t('common.missing_settings', lang, names=', '.join(missing))}[/yellow]")
            err.print(t("common.starting_chat", lang), markup=False)
            _chat(services, role=None, lang=lang)


def missing_slack_settings(settings: Settings, *, http: bool) -> list[str]:
    needed = {"SLACK_BOT_TOKEN": settings.slack_bot_token}
    if http:
        needed["SLACK_SIGNING_SECRET"] = settings.slack_signing_secret
    else:
        needed["SLACK_APP_TOKEN"] = settings.slack_app_token
    return [name for name, value in needed.items() if not value]


def _serve(services: Services, *, http: bool, host: str, port: int, scheduler: bool = True) -> None:
    from bot.app import create_app
    from bot.server import serve_http, serve_socket_mode

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services.db.upgrade()  # a fresh data dir, or a new release's migrations: before the first event
    # Load the model and indexes now, not on the first question.
    services.knowledge.search("warm up")
    lang = services.settings.cli_language
    _restore_faqs(services, lang=lang)  # the index agrees with the database's FAQ entries before any answer
    app = create_app(services)
    if scheduler:
        from bot.jobs import start_scheduler

        # Safe in every replica: runs are leased in the database, DMs claimed before they are sent.
        start_scheduler(services)
    if http:
        console.print(t("slack.chat.serving_http", lang, host=host, port=port))
        serve_http(app, services, host=host, port=port)
    else:
        console.print(t("slack.chat.serving_socket", lang))
        serve_socket_mode(app, services)


def _ingest(services: Services, *, lang: str) -> None:
    dirs = services.settings.knowledge_dirs or [DEFAULT_KB]
    existing = [d for d in dirs if Path(d).exists()]
    missing = [d for d in dirs if d not in existing]
    if missing:
        err.print(t("slack.chat.no_dirs", lang, dirs=", ".join(missing)), style="yellow", markup=False)
    if not existing:
        return
    err.print(t("slack.chat.ingesting", lang, dirs=", ".join(existing)))
    report = services.knowledge.ingest(existing)
    err.print(
        t(
            "slack.chat.ingested",
            lang,
            files=report.files_seen,
            indexed=report.files_indexed,
            chunks=report.chunks,
            skipped=len(report.skipped),
        )
    )
    if report.files_reread:
        err.print(f"  {t('cli.ingest.reread', lang, count=report.files_reread)}", style="dim", markup=False)
    for path, reason in report.skipped:
        skipped = t("cli.slack.skipped", lang, path=path, reason=reason_text(reason, lang))
        err.print(f"  {skipped}", style="dim", markup=False)
    for path, what in report.left_out:
        left_out = t("cli.slack.left_out", lang, path=path, what=reason_text(what, lang))
        err.print(f"  {left_out}", style="dim", markup=False)


def _restore_faqs(services: Services, *, lang: str) -> None:
    """FAQ entries support added in Slack live in the database; put back any active one the index lost
    and take out any withdrawn one it still holds (withdrawn by the CLI where this index was out of reach)."""
    from bot.faq_index import reindex_faqs

    done = reindex_faqs(services.db, services.knowledge)
    if done.indexed:
        err.print(t("slack.chat.faqs_restored", lang, count=done.indexed))
    if done.removed:
        err.print(t("slack.chat.faqs_withdrawn", lang, count=done.removed))


def _chat(services: Services, *, role: str | None, lang: str) -> None:
    from bot.answering import ask, ui_language

    interactive = sys.stdin.isatty()
    kb = services.knowledge  # load the model and indexes before the first prompt, not after it
    console.print(f"[bold]{t('slack.chat.banner', lang)}[/bold]")
    if not kb.sources:  # every answer would be "not found": say why once
        err.print(f"[yellow]{t('slack.chat.empty_index', lang)}[/yellow]")
    while True:
        try:
            line = (
                console.input(f"[cyan]{t('slack.chat.prompt', lang)}> [/cyan]")
                if interactive
                else sys.stdin.readline()
            )
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break  # EOF
        question = line.strip()[:MAX_QUESTION]  # as in Slack: a pasted page is not a question
        if not question:
            continue
        if not interactive:
            console.print(f"[cyan]{t('slack.chat.prompt', lang)}>[/cyan] {question}")
        answer = ask(services, question, user_id=None, role=role, surface="cli")
        _print_answer(
            answer.result,
            ui_language(answer.result.lang, override=None, fallback=lang),
            answer.latency_ms,
            services.settings.docs_base_url,
        )
    console.print(t("slack.chat.bye", lang))


def _print_answer(result, lang: str, latency_ms: float, docs_base_url: str) -> None:
    best = result.best
    if not result.answered or best is None:
        body = t("slack.chat.abstained", lang)
        if result.hits:
            body += (
                "\n\n"
                + t("slack.answer.abstain_nearest", lang)
                + "\n"
                + "\n".join(f"- {escape(hit.citation)}" for hit in result.hits[:3])
            )
        console.print(Panel(body, border_style="yellow"))
        return
    text = f"**{best.text}**\n\n{best.answer}" if best.kind == "faq" and best.answer else best.text
    source = citation_label(best, lang, answer=True)  # a FAQ's question heads the panel already
    panel = Markdown(screenshot_names(text))  # a terminal shows no pictures: they are listed below
    console.print(Panel(panel, title=Text(source), border_style="green", subtitle=f"{latency_ms:.0f} ms"))
    print_screenshots(best, docs_base_url, lang)
    related = result.related(3)
    if related:
        console.print(f"[bold]{t('slack.chat.related', lang)}[/bold]")
        for hit in related:
            console.print(f"  • {escape(citation_label(hit, lang))}  [dim]{escape(hit.page)}[/dim]")
