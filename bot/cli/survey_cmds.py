"""`erp-coach surveys ...`, `erp-coach training ...`, `erp-coach digest` and `erp-coach scheduler`."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli._options import help_text, ui_language
from bot.config import load_settings
from bot.i18n import t
from bot.services import Services
from feedback.scheduler import InvalidSchedule
from feedback.surveys import (
    SurveyConfigError,
    default_reminders,
    format_duration,
    latest_rounds,
    localized,
    parse_duration,
    round_progress,
)
from feedback.training import TrainingConfigError, assign_plan, training_plan

console = Console()
surveys_app = typer.Typer(help=help_text("cli.help.surveys.command"), no_args_is_help=True)
training_app = typer.Typer(help=help_text("cli.help.training.command"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main CLI."""
    app.add_typer(surveys_app, name="surveys")
    app.add_typer(training_app, name="training")
    app.command("digest", help=help_text("cli.help.digest.command"))(digest)
    app.command("scheduler", help=help_text("cli.help.scheduler.command"))(scheduler)


def _services() -> Services:
    """The services, or exit 2 with the problem. Their settings' cli_language is the output language."""
    try:
        services = Services(load_settings())
        services.db.upgrade()
        _ = services.send_window
        return services
    except (SurveyConfigError, TrainingConfigError, InvalidSchedule) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{escape(message)}[/red]")
    return typer.Exit(code)


# ---------------------------------------------------------------------------------------------------
# surveys


@surveys_app.command("list", help=help_text("cli.help.surveys.list.command"))
def list_surveys() -> None:
    services = _services()
    lang = services.settings.cli_language
    try:
        surveys = services.surveys.all()
    except SurveyConfigError as exc:
        raise _fail(str(exc), 2) from exc
    tz = services.settings.timezone
    table = Table(title=escape(t("cli.surveys.title", lang, path=services.surveys.path)))
    for column in (
        "id",
        "title",
        "audience",
        "schedule",
        "next_send",
        "window",
        "reminders",
        "anonymous",
        "state",
    ):
        table.add_column(
            escape(t(f"cli.surveys.col.{column}", lang)), overflow="fold"
        )  # ids must stay copyable in a narrow terminal
    now = dt.datetime.now(ZoneInfo(tz))
    for s in surveys:
        fire = s.trigger(tz).get_next_fire_time(None, now)
        next_send = (
            services.send_window.next_send_time(fire).strftime("%Y-%m-%d %H:%M")
            if fire and not s.paused
            else "-"
        )
        table.add_row(
            escape(s.id),
            escape(localized(s.title, "zh-CN")),
            escape(", ".join(s.audience) or t("cli.surveys.all", lang)),
            s.schedule,
            next_send,
            format_duration(s.window),
            _reminder_days(s.reminders, lang),
            t("cli.surveys.yes" if s.anonymous else "cli.surveys.no", lang),
            f"[yellow]{t('cli.surveys.paused', lang)}[/yellow]"
            if s.paused
            else f"[green]{t('cli.surveys.active', lang)}[/green]",
        )
    console.print(table)
    for survey_id, problem in services.surveys.problems().items():
        survey_id = survey_id or t("cli.surveys.no_id", lang)
        console.print(
            t("cli.surveys.left_out", lang, id=survey_id, problem=problem), style="red", markup=False
        )
    with services.db.begin() as session:
        rounds = latest_rounds(session, 10)
        if rounds:
            progress = Table(title=escape(t("cli.surveys.rounds_title", lang)))
            for column in (
                "round",
                "survey",
                "status",
                "audience",
                "sent",
                "failed",
                "pending",
                "reminders_due",
                "reminded",
                "answered",
            ):
                progress.add_column(escape(t(f"cli.surveys.rounds_col.{column}", lang)))
            for r in rounds:
                p = round_progress(session, r.id)
                progress.add_row(
                    str(p.round_id),
                    p.survey_id,
                    p.status,
                    *(str(x) for x in (p.audience, p.sent, p.failed, p.pending)),
                    f"{p.reminders_due}/{p.reminders_planned}" if p.reminders_planned else "-",
                    # people reminded, and the reminder DMs they got (someone reminded twice counts twice)
                    escape(t("cli.surveys.reminded_dms", lang, reminded=p.reminded, dms=p.reminder_dms)),
                    str(p.responded),
                )
            console.print(progress)


def _reminder_days(reminders, lang: str) -> str:
    """(3 days, 5 days) -> "3d, 5d after send"; nothing -> "none"."""
    if not reminders:
        return t("cli.surveys.no_reminders", lang)
    return t("cli.surveys.reminders_after", lang, days=", ".join(format_duration(r) for r in reminders))


@surveys_app.command("create", help=help_text("cli.help.surveys.create.command"))
def create_survey(
    survey_id: str = typer.Argument(..., help=help_text("cli.help.surveys.create.survey_id")),
    title: str = typer.Option(..., "--title", help=help_text("cli.help.surveys.create.title")),
    schedule: str = typer.Option(
        "0 10 * * fri", "--schedule", help=help_text("cli.help.surveys.create.schedule")
    ),
    audience: str = typer.Option("all", "--audience", help=help_text("cli.help.surveys.create.audience")),
    questions: str = typer.Option(
        "satisfaction,nps,text", "--questions", help=help_text("cli.help.surveys.create.questions")
    ),
    modules: str = typer.Option("", "--modules", help=help_text("cli.help.surveys.create.modules")),
    window: str = typer.Option("7d", "--window", help=help_text("cli.help.surveys.create.window")),
    reminders: str = typer.Option(
        None, "--reminders", help=help_text("cli.help.surveys.create.reminders"), show_default=False
    ),
    remind_before: str = typer.Option(
        None, "--remind-before", hidden=True, help=help_text("cli.help.surveys.create.remind_before")
    ),
    anonymous: bool = typer.Option(
        True, "--anonymous/--named", help=help_text("cli.help.surveys.create.anonymous")
    ),
    paused: bool = typer.Option(False, "--paused", help=help_text("cli.help.surveys.create.paused")),
) -> None:
    services = _services()
    lang = services.settings.cli_language
    texts = {
        "satisfaction": {
            "zh-CN": "总体来说，您对新 ERP 系统的满意度如何？",
            "en": "Overall, how satisfied are you with the new ERP?",
        },
        "nps": {
            "zh-CN": "您有多大可能向同事推荐 erp-coach？",
            "en": "How likely are you to recommend erp-coach to a colleague?",
        },
        "module_rating": {"zh-CN": "请为您使用的模块打分", "en": "Rate the modules you use"},
        "text": {
            "zh-CN": "还有什么想告诉我们的吗？（选填）",
            "en": "Anything else you would like to tell us? (optional)",
        },
    }
    raw_questions = []
    for i, qtype in enumerate(q.strip() for q in questions.split(",") if q.strip()):
        if qtype not in texts:
            raise _fail(t("cli.surveys.unknown_question_type", lang, qtype=qtype, types=", ".join(texts)), 2)
        question = {"id": f"{qtype}{i + 1}", "type": qtype, "text": texts[qtype]}
        if qtype == "module_rating":
            question["modules"] = [m.strip() for m in modules.split(",") if m.strip()]
        raw_questions.append(question)
    try:
        window_length = parse_duration(window)
        if reminders is not None and remind_before is not None:
            raise SurveyConfigError(t("cli.surveys.reminders_or_remind_before", lang))
        if remind_before is not None:  # written in the new form: one reminder, counted from the send
            before = None if remind_before == "none" else parse_duration(remind_before)
            if before is not None and before >= window_length:
                raise SurveyConfigError(t("cli.surveys.remind_before_too_late", lang, value=remind_before))
            reminder_list = [] if before is None else [format_duration(window_length - before)]
        elif reminders is None:
            reminder_list = [format_duration(r) for r in default_reminders(window_length)]
        else:
            parts = reminders.replace("，", ",").split(",")  # a Chinese comma works too
            reminder_list = [r.strip() for r in parts if r.strip() and r.strip() != "none"]
    except SurveyConfigError as exc:
        raise _fail(str(exc), 2) from exc
    raw = {
        "id": survey_id,
        "title": title,
        "audience": "all"
        if audience.strip() == "all"
        else [r.strip() for r in audience.split(",") if r.strip()],
        "schedule": schedule,
        "window": window,
        "reminders": reminder_list,
        "anonymous": anonymous,
        "questions": raw_questions,
        "paused": paused,
    }
    try:
        survey = services.surveys.add(raw)
    except SurveyConfigError as exc:
        raise _fail(str(exc), 2) from exc
    added = t("cli.surveys.added", lang, id=survey.id, path=services.surveys.path)
    console.print(added, style="green", markup=False)


def _not_found(services: Services, survey_id: str) -> str:
    return t(
        "cli.surveys.not_found", services.settings.cli_language, id=survey_id, path=services.surveys.path
    )


def _set_paused(survey_id: str, paused: bool) -> None:
    services = _services()
    try:
        services.surveys.set_paused(survey_id, paused)
    except LookupError as exc:
        raise _fail(_not_found(services, survey_id), 2) from exc
    message = t(
        "cli.surveys.now_paused" if paused else "cli.surveys.now_active",
        services.settings.cli_language,
        id=survey_id,
    )
    console.print(message, style="yellow" if paused else "green", markup=False)


@surveys_app.command("pause", help=help_text("cli.help.surveys.pause.command"))
def pause(survey_id: str = typer.Argument(..., help=help_text("cli.help.surveys.survey_id"))) -> None:
    _set_paused(survey_id, True)


@surveys_app.command("resume", help=help_text("cli.help.surveys.resume.command"))
def resume(survey_id: str = typer.Argument(..., help=help_text("cli.help.surveys.survey_id"))) -> None:
    _set_paused(survey_id, False)


@surveys_app.command("run-now", help=help_text("cli.help.surveys.run_now.command"))
def run_now(survey_id: str = typer.Argument(..., help=help_text("cli.help.surveys.survey_id"))) -> None:
    services = _services()
    lang = services.settings.cli_language
    if not services.settings.slack_bot_token:
        raise _fail(t("cli.surveys.no_token", lang), 2)
    from bot.jobs import run_survey_now

    try:
        round_ = run_survey_now(services, survey_id)
    except LookupError as exc:
        raise _fail(_not_found(services, survey_id), 2) from exc
    with services.db.begin() as session:
        p = round_progress(session, round_.id)
    sent = t(
        "cli.surveys.round_sent",
        lang,
        round=p.round_id,
        survey=p.survey_id,
        audience=p.audience,
        sent=p.sent,
        failed=p.failed,
        pending=p.pending,
    )
    console.print(sent, markup=False)


# ---------------------------------------------------------------------------------------------------
# training


@training_app.command("assign", help=help_text("cli.help.training.assign.command"))
def training_assign(
    user_id: str = typer.Argument(..., help=help_text("cli.help.training.assign.user_id")),
) -> None:
    from feedback.people import get_user

    services = _services()
    lang = services.settings.cli_language
    with services.db.begin() as session:
        user = get_user(session, user_id)
        if user is None or not user.role:
            raise _fail(t("cli.training.no_role", lang, user=user_id), 2)
        try:
            created = assign_plan(session, services.training, user_id, user.role)
        except TrainingConfigError as exc:
            raise _fail(str(exc), 2) from exc
        items = training_plan(session, user_id)
    assigned = t("cli.training.assigned", lang, created=len(created), total=len(items), user=user_id)
    console.print(assigned, markup=False)


# ---------------------------------------------------------------------------------------------------
# digest and scheduler


def _parse_day(text: str | None, tz: str, lang: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), ZoneInfo(tz)).astimezone(dt.UTC)
    except ValueError as exc:
        raise _fail(t("cli.digest.bad_date", lang, text=text), 2) from exc


def digest(
    preview: bool = typer.Option(False, "--preview", help=help_text("cli.help.digest.preview")),
    out: Path = typer.Option("digest-preview", "--out", help=help_text("cli.help.digest.out")),  # noqa: B008
    since: str = typer.Option(None, "--since", help=help_text("cli.help.digest.since")),
    until: str = typer.Option(None, "--until", help=help_text("cli.help.digest.until")),
    lang: str = typer.Option(None, "--lang", help=help_text("cli.help.digest.lang"), callback=ui_language),
) -> None:
    services = _services()
    lang = lang or services.settings.cli_language
    tz = services.settings.timezone
    period = {"since": _parse_day(since, tz, lang), "until": _parse_day(until, tz, lang)}
    if (period["since"] is None) != (period["until"] is None):
        raise _fail(t("cli.digest.since_and_until", lang), 2)
    if period["since"] and period["since"] >= period["until"]:
        raise _fail(t("cli.digest.since_before_until", lang), 2)
    from bot.digest_delivery import deliver_digest, render_preview

    if preview:
        text, paths = render_preview(services, out, lang, **period)
        console.print(text, markup=False, highlight=False)
        for path in paths:
            console.print(f"[green]{escape(t('cli.digest.chart', lang))}[/green] {escape(str(path))}")
        return
    if not services.settings.slack_bot_token:
        raise _fail(t("cli.digest.no_token", lang), 2)
    console.print(t("cli.digest.delivered", lang, count=deliver_digest(services, **period)))


def scheduler() -> None:
    from bot.jobs import start_scheduler

    services = _services()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sched = start_scheduler(services)
    lang = services.settings.cli_language
    running = t(
        "cli.scheduler.running", lang, jobs=len(sched.get_jobs()), timezone=services.settings.timezone
    )
    console.print(running, style="green", markup=False)
    stop.wait()
    sched.shutdown(wait=True)
    console.print(t("cli.scheduler.stopped", lang))
