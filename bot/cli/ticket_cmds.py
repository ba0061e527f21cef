"""`erp-coach tickets list|export`, `erp-coach backup PATH` and `erp-coach restore PATH`."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from bot.cli._options import help_text
from bot.config import Settings, load_settings
from bot.i18n import t
from feedback.db import Database, current_revision
from feedback.tickets import InvalidTicket, Status, Ticket, list_tickets

app = typer.Typer(help=help_text("cli.help.tickets.command"), no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

_COLUMNS = (
    "key", "title", "status", "priority", "category", "erp_module", "reporter", "assignee",
    "affected", "created_at", "resolved_at", "resolution", "satisfaction", "permalink",
)  # fmt: skip


class ExportFormat(StrEnum):
    csv = "csv"


def register(root: typer.Typer) -> None:
    """Add `tickets`, `backup` and `restore` to the root CLI (one line in bot/cli/__init__.py)."""
    root.add_typer(app, name="tickets")
    root.command("backup", help=help_text("cli.help.backup.command"))(backup)
    root.command("restore", help=help_text("cli.help.restore.command"))(restore)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(message, style="red", markup=False)
    return typer.Exit(code)


def _database(settings: Settings) -> Database:
    return Database(settings.resolved_database_url)


def _row(ticket: Ticket, tz: ZoneInfo) -> dict[str, object]:
    def when(value):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    return {
        "key": ticket.key,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "erp_module": ticket.erp_module or "",
        "reporter": ticket.reporter_id,
        "assignee": ticket.assignee_id or "",
        "affected": ticket.affected_count,
        "created_at": when(ticket.created_at),
        "resolved_at": when(ticket.resolved_at),
        "resolution": ticket.resolution or "",
        "satisfaction": ticket.satisfaction if ticket.satisfaction is not None else "",
        "permalink": ticket.origin_permalink or "",
    }


def _load(settings: Settings, status: list[str] | None) -> list[dict[str, object]]:
    tz = ZoneInfo(settings.timezone)
    db = _database(settings)
    try:
        if current_revision(db) is None:
            url = make_url(db.url).render_as_string(hide_password=True)
            raise _fail(t("cli.tickets.no_tables", settings.cli_language, url=url))
        with db.begin() as session:
            return [_row(ticket, tz) for ticket in list_tickets(session, status=status or None)]
    except InvalidTicket as exc:  # only --status can be wrong here
        message = (
            t("cli.tickets.bad_status", settings.cli_language, **exc.params)
            if exc.code == "bad_status"
            else str(exc)
        )
        raise _fail(message, 2) from None
    finally:
        db.dispose()


@app.command("list", help=help_text("cli.help.tickets.list.command"))
def list_command(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            help=help_text("cli.help.tickets.list.status", statuses=", ".join(s.value for s in Status)),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=help_text("cli.help.tickets.list.json"))] = False,
) -> None:
    settings = load_settings()
    lang = settings.cli_language
    rows = _load(settings, status)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        if status:
            console.print(t("cli.tickets.none_with_status", lang, status=", ".join(status)), markup=False)
        else:
            console.print(t("cli.tickets.none", lang))
        return
    names = ("key", "status", "priority", "category", "title", "assignee", "affected", "created_at")
    table = Table(show_lines=False)
    for name in names:
        header = escape(t(f"cli.tickets.col.{name}", lang))
        table.add_column(header, overflow="fold", max_width=50 if name == "title" else None)
    for row in rows:
        table.add_row(*(escape(str(row[name])) for name in names))
    console.print(table)


def _excel_safe(value: object) -> object:
    """Text starting with = + - @ would run as a formula in Excel; a leading quote keeps it text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@app.command("export", help=help_text("cli.help.tickets.export.command"))
def export_command(
    output: Annotated[Path, typer.Argument(help=help_text("cli.help.tickets.export.output"))] = Path(
        "tickets.csv"
    ),
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help=help_text("cli.help.tickets.export.format"))
    ] = ExportFormat.csv,
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help=help_text("cli.help.tickets.export.status"))
    ] = None,
) -> None:
    settings = load_settings()
    lang = settings.cli_language
    rows = _load(settings, status)
    try:
        with output.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _excel_safe(v) for k, v in row.items()})
    except OSError as exc:
        raise _fail(t("cli.tickets.cannot_write", lang, path=output, reason=exc.strerror or exc)) from None
    exported = t("cli.tickets.exported", lang, count=len(rows), path=output, format=fmt.value)
    console.print(exported, style="green", markup=False)


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise _fail(t("cli.backup.in_memory", settings.cli_language))
    return Path(url.database)


def _libpq_url(settings: Settings) -> tuple[str, str]:
    """(URL for pg_dump, the same URL with the password hidden for printing)."""
    url = make_url(settings.resolved_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False), url.render_as_string(hide_password=True)


def backup(
    path: Annotated[Path, typer.Argument(help=help_text("cli.help.backup.path"))],
    force: Annotated[bool, typer.Option("--force", help=help_text("cli.help.backup.force"))] = False,
) -> None:
    settings = load_settings()
    lang = settings.cli_language
    if path.exists() and not force:
        raise _fail(t("cli.backup.exists", lang, path=path))
    source = _sqlite_path(settings)
    if source is None:
        _pg_backup(settings, path)
        return
    if not source.exists():
        raise _fail(t("cli.backup.no_database", lang, path=source))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.unlink(missing_ok=True)
    # The online backup API copies page by page under SQLite's locks: consistent even while the bot writes.
    try:
        _sqlite_copy(sqlite3.connect(source), tmp)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise _fail(t("cli.backup.cannot_write", lang, path=path, detail=exc)) from None
    tmp.replace(path)
    done = t("cli.backup.done", lang, source=source, path=path, size=path.stat().st_size)
    console.print(done, style="green", markup=False)


def _pg_backup(settings: Settings, path: Path) -> None:
    lang = settings.cli_language
    real, shown = _libpq_url(settings)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={path}", real]
    printable = " ".join(command[:-1] + [f"'{shown}'"])
    console.print(f"{t('cli.backup.postgres', lang)}\n  {printable}", markup=False)
    if shutil.which("pg_dump") is None:
        raise _fail(t("cli.backup.no_pg_dump", lang), 3)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise _fail(t("cli.backup.pg_dump_failed", lang, detail=result.stderr.strip()), result.returncode)
    console.print(
        t("cli.backup.pg_done", lang, path=path, size=path.stat().st_size), style="green", markup=False
    )


def _check_backup(path: Path, lang: str) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _fail(t("cli.restore.not_a_backup", lang, path=path, detail=exc)) from None
    if ok != "ok":
        raise _fail(t("cli.restore.damaged", lang, path=path, detail=ok))
    if "alembic_version" not in tables:
        raise _fail(t("cli.restore.no_alembic", lang, path=path))


def restore(
    path: Annotated[Path, typer.Argument(help=help_text("cli.help.restore.path"))],
    force: Annotated[bool, typer.Option("--force", help=help_text("cli.help.restore.force"))] = False,
) -> None:
    settings = load_settings()
    lang = settings.cli_language
    target = _sqlite_path(settings)
    if target is None:
        raise _fail(t("cli.restore.postgres", lang), 2)
    if not path.is_file():
        raise _fail(t("cli.restore.no_file", lang, path=path))
    _check_backup(path, lang)
    if target.exists() and not force:
        raise _fail(t("cli.restore.exists", lang, target=target, path=path))
    if not target.exists():
        # A WAL left behind by the lost database would be replayed onto the restored one.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _sqlite_copy(sqlite3.connect(f"file:{path}?mode=ro", uri=True), target)
    except sqlite3.Error as exc:
        raise _fail(t("cli.restore.failed", lang, path=path, target=target, detail=exc)) from None
    console.print(t("cli.restore.done", lang, target=target, path=path), style="green", markup=False)


def _sqlite_copy(src: sqlite3.Connection, target: Path) -> None:
    """Copy with SQLite's online backup API, then close both connections."""
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
