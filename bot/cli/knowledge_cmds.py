"""`erp-coach ingest`, `erp-coach ask`, `erp-coach eval`: build the knowledge base, query it, measure it."""

from __future__ import annotations

import functools
import json
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli._options import help_text, known_role, question_language, ui_language
from bot.cli._reasons import reason_text, why_text
from bot.config import Settings, load_settings
from bot.i18n import t
from bot.listeners.ask import MAX_QUESTION
from bot.views.answers import screenshot_links
from bot.views.text import screenshot_names

console = Console()
err = Console(stderr=True)


class Mode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


def register(app: typer.Typer) -> None:
    app.command("ingest", help=help_text("cli.help.ingest.command"))(ingest)
    app.command("preview", help=help_text("cli.help.preview.command"))(preview)
    app.command("ask", help=help_text("cli.help.ask.command"))(ask)
    app.command("eval", help=help_text("cli.help.eval.command"))(evaluate)


@functools.cache
def _embedder(model_name: str):
    """One model per process, however many commands run in it (tests invoke several)."""
    from knowledge.embedding import Embedder

    return Embedder(model_name)


def open_knowledge(settings: Settings, data_dir: Path | None = None, lang: str | None = None):
    """The embedder and knowledge base, with errors turned into a message and exit code 1 (the `faq`
    commands open it this way too). `lang`: of the message while the model loads; default CLI_LANGUAGE."""
    from bot.services import knowledge_config
    from knowledge.base import KnowledgeBase, KnowledgeBaseError
    from knowledge.embedding import EmbeddingModelError
    from knowledge.index import VectorStoreError

    try:
        with console.status(t("cli.knowledge.loading_model", lang or settings.cli_language)):
            embedder = _embedder(settings.embedding_model)
        return KnowledgeBase(knowledge_config(settings, data_dir), embedder)
    except (EmbeddingModelError, VectorStoreError, KnowledgeBaseError) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None


def _ingest_with_progress(kb, paths: list[Path], reset: bool, lang: str):
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[passages]}", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(
            t("cli.ingest.indexing", lang), total=None, passages=t("cli.ingest.progress", lang, chunks=0)
        )

        def progress(done: int, total: int, chunks: int) -> None:
            passages = t("cli.ingest.progress", lang, chunks=chunks)
            bar.update(task, completed=done, total=total, passages=passages)

        return kb.ingest(paths, reset=reset, progress=progress)


def _print_report(report, lang: str) -> None:
    files = t(
        "cli.ingest.files",
        lang,
        seen=report.files_seen,
        indexed=report.files_indexed,
        unchanged=report.files_unchanged,
        removed=report.files_removed,
        skipped=len(report.skipped),
    )
    console.print(files, markup=False)
    if report.files_reread:
        console.print(t("cli.ingest.reread", lang, count=report.files_reread), markup=False)
    passages = t(
        "cli.ingest.passages",
        lang,
        chunks=report.chunks,
        seconds=report.seconds,
        rate=report.chunks_per_second,
    )
    console.print(passages, markup=False)
    if report.skipped:
        table = Table(
            escape(t("cli.ingest.skipped_file", lang)),
            escape(t("cli.ingest.reason", lang)),
            title=escape(t("cli.ingest.skipped_title", lang)),
            title_justify="left",
        )
        for path, reason in report.skipped:
            table.add_row(escape(path), escape(reason_text(reason, lang)))
        console.print(table)
    if report.left_out:
        n = len(report.left_out)
        table = Table(
            escape(t("cli.ingest.file", lang)),
            escape(t("cli.ingest.left_out", lang)),
            title=escape(
                t("cli.ingest.left_out_one" if n == 1 else "cli.ingest.left_out_many", lang, count=n)
            ),
            title_justify="left",
        )
        for path, what in report.left_out:
            table.add_row(escape(path), escape(reason_text(what, lang)))
        console.print(table)


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help=help_text("cli.help.ingest.paths")),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help=help_text("cli.help.ingest.reset"))] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help=help_text("cli.help.ingest.lang"), callback=ui_language),
    ] = None,
) -> None:
    settings = load_settings()
    lang = lang or settings.cli_language
    targets = list(paths or [Path(p) for p in settings.knowledge_dirs])
    if not targets:
        err.print(t("cli.ingest.nothing", lang), style="red", markup=False)
        raise typer.Exit(2)
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        err.print(t("cli.ingest.missing", lang, paths=", ".join(missing)), style="red", markup=False)
        raise typer.Exit(2)
    with open_knowledge(settings, lang=lang) as kb:
        report = _ingest_with_progress(kb, targets, reset, lang)
        _print_report(report, lang)
        _restore_db_faqs(settings, kb, lang)


def preview(
    paths: Annotated[list[Path], typer.Argument(help=help_text("cli.help.preview.paths"), exists=True)],
    lang: Annotated[
        str | None,
        typer.Option("--lang", help=help_text("cli.help.preview.lang"), callback=ui_language),
    ] = None,
) -> None:
    from knowledge.base import discover
    from knowledge.loaders import LoadError, load_file
    from knowledge.types import HEADING_SEPARATOR, IngestReport

    settings = load_settings()
    lang = lang or settings.cli_language
    failed = False
    report = IngestReport()
    files, _ = discover(paths, report)
    for shown, reason in report.skipped:
        err.print(
            t("cli.slack.skipped", lang, path=shown, reason=reason_text(reason, lang)),
            style="dim",
            markup=False,
        )
    for path, root in _preview_roots(files, [Path(d) for d in settings.knowledge_dirs]):
        shown = path.relative_to(root).as_posix()
        left_out = []
        try:
            docs = load_file(path, root, settings.role_folders, warn=left_out.append)
        except LoadError as exc:
            failed = True
            err.print(
                t("cli.preview.unreadable", lang, path=shown, reason=reason_text(exc.reason, lang)),
                style="red",
                markup=False,
            )
            continue
        roles = ", ".join(docs[0].roles) or t("cli.preview.every_role", lang)
        if docs[0].kind == "faq":
            console.print(
                t("cli.preview.faq", lang, path=shown, count=len(docs), roles=roles),
                style="bold",
                markup=False,
            )
            for doc in docs:
                console.print(t("cli.preview.question", lang, text=doc.question), markup=False)
                console.print(t("cli.preview.answer", lang, text=doc.answer), markup=False)
        for doc in (d for d in docs if d.kind != "faq"):
            header = t(
                "cli.preview.manual", lang, path=shown, title=doc.title, count=len(doc.sections), roles=roles
            )
            console.print(header, style="bold", markup=False)
            for section in doc.sections:
                path_shown = [doc.title, *(h for h in section.heading_path if h != doc.title)]
                console.print(f"── {HEADING_SEPARATOR.join(path_shown)}", style="cyan", markup=False)
                console.print(section.text, markup=False, highlight=False)
        for what in left_out:
            console.print(
                t("cli.preview.left_out", lang, what=reason_text(what, lang)), style="yellow", markup=False
            )
        console.print()
    if failed:
        raise typer.Exit(1)


def _preview_roots(files: list[tuple[Path, Path]], knowledge_dirs: list[Path]):
    """The files ingest would read, each with the root its source is relative to: the knowledge folder it
    lies in, if any, so that it is named and ROLE_FOLDERS applies as at ingest of that folder."""
    roots = [d.resolve() for d in knowledge_dirs if d.is_dir()]
    for path, root in files:
        yield path, next((r for r in roots if path.is_relative_to(r)), root)


def _restore_db_faqs(settings: Settings, kb, lang: str) -> None:
    """FAQ entries added in Slack (support's "Add to FAQ") live in the database: put back any active one
    the index lacks, so `--reset` or a new model never loses them, and take out any withdrawn one."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.faq_index import reindex_faqs
    from feedback.db import Database

    db = Database(settings.resolved_database_url)
    try:
        done = reindex_faqs(db, kb)
    except SQLAlchemyError as exc:
        detail = f"{exc.__class__.__name__}: {exc}"
        err.print(t("cli.ingest.faqs_failed", lang, detail=detail), style="yellow", markup=False)
        return
    finally:
        db.dispose()
    if done.indexed:
        console.print(t("cli.ingest.faqs_reindexed", lang, count=done.indexed))
    if done.removed:
        console.print(t("cli.ingest.faqs_removed", lang, count=done.removed))


def ask(
    question: Annotated[str, typer.Argument(help=help_text("cli.help.ask.question"))],
    role: Annotated[str | None, typer.Option("--role", help=help_text("cli.help.ask.role"))] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help=help_text("cli.help.ask.lang"), callback=question_language),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=help_text("cli.help.ask.json"))] = False,
    explain: Annotated[bool, typer.Option("--explain", help=help_text("cli.help.ask.explain"))] = False,
) -> None:
    from dataclasses import asdict

    from knowledge.answers import compose

    question = question.strip()[:MAX_QUESTION]  # as the bot reads it
    if not question:
        err.print(f"[red]{t('slack.answer.empty_question', 'zh-CN')}[/red]")
        err.print(f"[red]{t('slack.answer.empty_question', 'en')}[/red]")
        raise typer.Exit(2)
    settings = load_settings()
    role = known_role(settings, role, err)
    with open_knowledge(settings) as kb:
        if not len(kb):
            err.print(t("cli.ask.empty_kb", settings.cli_language), style="yellow", markup=False)
        result = kb.search(question, role=role, lang=lang)
    if as_json:
        payload = asdict(result) | {"reason": result.reason}
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    answer = compose(result)
    lang_ui = "zh-CN" if result.lang == "zh" else "en"
    if answer.kind == "abstain":
        console.print(t("knowledge.abstain", lang_ui))
        if answer.related:
            console.print(t("knowledge.abstain_hint", lang_ui))
            for ref in answer.related:
                console.print(
                    f"  • {escape(ref.citation)} [dim]({escape(_link(settings, ref.source))})[/dim]"
                )
    else:
        label = "knowledge.faq_answer" if answer.kind == "faq" else "knowledge.quote_from"
        console.print(f"[bold]{t(label, lang_ui)}[/bold]")
        text = screenshot_names(answer.text)  # listed with where to open them below
        if answer.kind == "faq":
            console.print(f"[italic]{escape(answer.question)}[/italic]")
            console.print(text, markup=False)
        else:
            console.print("\n".join(f"> {line}" for line in text.splitlines()), markup=False)
        print_screenshots(result.best, settings.docs_base_url, lang_ui)
        if answer.reference:
            cite = f"{answer.reference.citation} ({_link(settings, answer.reference.source)})"
            console.print(t("knowledge.source", lang_ui, citation=cite), markup=False)
        if answer.related:
            console.print(t("knowledge.related", lang_ui))
            for ref in answer.related:
                console.print(f"  • {ref.citation} ({_link(settings, ref.source)})", markup=False)
    if explain:
        _explain(result, settings.cli_language)


def print_screenshots(hit, docs_base_url: str, lang: str) -> None:
    """The quoted section's screenshots, named as the quote names them, with where to open each."""
    links = screenshot_links(hit, docs_base_url)
    if links:
        console.print(t("knowledge.screenshots", lang), markup=False)
        for name, where in links:
            # soft_wrap: a URL folded over lines with hard breaks no longer opens
            console.print(f"  • [{name}] {where}", markup=False, soft_wrap=True)


def _link(settings: Settings, source: str) -> str:
    return settings.docs_base_url.rstrip("/") + "/" + source if settings.docs_base_url else source


def _explain(result, lang: str) -> None:
    # Compact, so that the source (the column that matters) is shown whole, folded over lines if need be.
    why = why_text(result.why, lang) if result.why else ""
    table = Table(
        title=escape(f"{why} · {result.latency_ms:.1f} ms"), title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("#", justify="right", no_wrap=True)
    for name in ("fused", "dense_rank", "dense_sim", "lexical_rank"):
        table.add_column(escape(t(f"cli.explain.{name}", lang)), justify="right", no_wrap=True)
    table.add_column("bm25", justify="right", no_wrap=True)
    for name in ("kind", "lang"):
        table.add_column(escape(t(f"cli.explain.{name}", lang)), justify="left", no_wrap=True)
    table.add_column(escape(t("cli.explain.source", lang)), overflow="fold")
    for i, hit in enumerate(result.hits, 1):
        table.add_row(
            str(i),
            f"{hit.score:.3f}",
            str(hit.dense_rank or "-"),
            f"{hit.dense_score:.3f}" if hit.dense_score is not None else "-",
            str(hit.lexical_rank or "-"),
            f"{hit.lexical_score:.2f}" if hit.lexical_score is not None else "-",
            hit.kind,
            hit.lang,
            escape(hit.source + (f" → {hit.cites}" if hit.cites else "")),
        )
    console.print(table)


def evaluate(
    questions: Annotated[
        Path, typer.Argument(help=help_text("cli.help.eval.questions"), exists=True, dir_okay=False)
    ],
    kb_dir: Annotated[Path, typer.Option("--kb", help=help_text("cli.help.eval.kb"), exists=True)],
    out: Annotated[Path | None, typer.Option("--out", help=help_text("cli.help.eval.out"))] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help=help_text("cli.help.eval.data_dir"))
    ] = None,
    mode: Annotated[Mode, typer.Option("--mode", help=help_text("cli.help.eval.mode"))] = (Mode.hybrid),
) -> None:
    from knowledge import evaluation
    from knowledge.base import with_tuning

    try:
        items = evaluation.load_questions(questions)
    except evaluation.QuestionSetError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    settings = load_settings()
    lang = settings.cli_language
    with (
        tempfile.TemporaryDirectory(prefix="erp-coach-eval-") as tmp,
        open_knowledge(settings, data_dir or Path(tmp)) as kb,  # closed before its folder goes
    ):
        report = _ingest_with_progress(kb, [kb_dir], reset=False, lang=lang)
        _print_report(report, lang)
        with_tuning(kb, mode=mode.value)
        outcomes = evaluation.run(kb, items)
    metrics = evaluation.score(outcomes)
    table = Table(
        escape(t("cli.eval.lang", lang)),
        "n",
        "hit@1",
        "hit@5",
        "MRR@10",
        title=escape(t("cli.eval.title", lang, mode=mode.value)),
        title_justify="left",
    )
    for question_lang, m in metrics.per_lang.items():
        table.add_row(
            question_lang, str(int(m["n"])), f"{m['hit@1']:.3f}", f"{m['hit@5']:.3f}", f"{m['mrr@10']:.3f}"
        )
    console.print(table)
    abstained = t(
        "cli.eval.abstained",
        lang,
        answerable=metrics.abstained_answerable,
        n_answerable=metrics.n_answerable,
        unanswerable=metrics.abstained_unanswerable,
        n_unanswerable=metrics.n_unanswerable,
    )
    console.print(abstained)
    console.print(t("cli.eval.latency", lang, p50=metrics.latency_p50, p95=metrics.latency_p95))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            for o in outcomes:
                fh.write(json.dumps(o.line(), ensure_ascii=False) + "\n")
        console.print(t("cli.eval.results", lang, path=out), markup=False)
