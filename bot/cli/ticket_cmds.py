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

from bot.config import Settings, load_settings
from feedback.db import Database, current_revision
from feedback.tickets import InvalidTicket, Status, Ticket, list_tickets

app = typer.Typer(help="Feedback tickets: list them, export them for Excel.", no_args_is_help=True)
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
    root.command("backup")(backup)
    root.command("restore")(restore)


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
            raise _fail(
                f"The database at {make_url(db.url).render_as_string(hide_password=True)} has no tables yet; "
                "run `erp-coach db upgrade` (or `make run`) first."
            )
        with db.begin() as session:
            return [_row(t, tz) for t in list_tickets(session, status=status or None)]
    except InvalidTicket as exc:
        raise _fail(str(exc), 2) from None
    finally:
        db.dispose()


@app.command("list")
def list_command(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", "-s", help=f"Only this status (repeatable): {', '.join(s.value for s in Status)}."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (one array) instead of a table.")
    ] = False,
) -> None:
    """List tickets, oldest first."""
    rows = _load(load_settings(), status)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        console.print("No tickets" + (f" with status {', '.join(status)}" if status else "") + ".")
        return
    names = ("key", "status", "priority", "category", "title", "assignee", "affected", "created_at")
    table = Table(show_lines=False)
    for name in names:
        table.add_column(name, overflow="fold", max_width=50 if name == "title" else None)
    for row in rows:
        table.add_row(*(escape(str(row[name])) for name in names))
    console.print(table)


def _excel_safe(value: object) -> object:
    """Text starting with = + - @ would run as a formula in Excel; a leading quote keeps it text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Argument(help="CSV file to write.")] = Path("tickets.csv"),
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="File format.")] = ExportFormat.csv,
    status: Annotated[list[str] | None, typer.Option("--status", "-s", help="Only this status.")] = None,
) -> None:
    """Export tickets as CSV in UTF-8 with a BOM, so Excel shows Chinese text correctly."""
    rows = _load(load_settings(), status)
    try:
        with output.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _excel_safe(v) for k, v in row.items()})
    except OSError as exc:
        raise _fail(f"Cannot write {output}: {exc.strerror or exc}") from None
    console.print(f"[green]Exported {len(rows)} tickets to {output}[/green] ({fmt.value}, UTF-8 with BOM)")


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise _fail("The database is in memory; there is nothing to back up.")
    return Path(url.database)


def _libpq_url(settings: Settings) -> tuple[str, str]:
    """(URL for pg_dump, the same URL with the password hidden for printing)."""
    url = make_url(settings.resolved_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False), url.render_as_string(hide_password=True)


def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the backup file.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Back up the database: a consistent SQLite copy while the bot runs, or pg_dump for PostgreSQL."""
    settings = load_settings()
    if path.exists() and not force:
        raise _fail(f"{path} exists; choose another path or pass --force.")
    source = _sqlite_path(settings)
    if source is None:
        _pg_backup(settings, path)
        return
    if not source.exists():
        raise _fail(f"No database at {source}; run `erp-coach db upgrade` first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.unlink(missing_ok=True)
    # The online backup API copies page by page under SQLite's locks: consistent even while the bot writes.
    try:
        _sqlite_copy(sqlite3.connect(source), tmp)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise _fail(f"Cannot write the backup to {path}: {exc}") from None
    tmp.replace(path)
    console.print(f"[green]Backed up {source} to {path}[/green] ({path.stat().st_size:,} bytes)")


def _pg_backup(settings: Settings, path: Path) -> None:
    real, shown = _libpq_url(settings)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={path}", real]
    printable = " ".join(command[:-1] + [f"'{shown}'"])
    console.print(
        "The database is PostgreSQL. Back it up with pg_dump (restore with pg_restore --clean):\n"
        f"  {printable}"
    )
    if shutil.which("pg_dump") is None:
        raise _fail(
            "pg_dump is not installed here; run the command above where it is (postgresql-client).", 3
        )
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise _fail(f"pg_dump failed: {result.stderr.strip()}", result.returncode)
    console.print(f"[green]Backed up to {path}[/green] ({path.stat().st_size:,} bytes)")


def _check_backup(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _fail(f"{path} is not an erp-coach SQLite backup: {exc}") from None
    if ok != "ok":
        raise _fail(f"{path} is damaged (integrity check: {ok}).")
    if "alembic_version" not in tables:
        raise _fail(f"{path} is not an erp-coach database backup (no alembic_version table).")


def restore(
    path: Annotated[Path, typer.Argument(help="A backup file written by `erp-coach backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the current database (stop the bot first).")
    ] = False,
) -> None:
    """Restore the SQLite database from a backup. PostgreSQL: use pg_restore (see `backup`)."""
    settings = load_settings()
    target = _sqlite_path(settings)
    if target is None:
        raise _fail("The database is PostgreSQL; restore with: pg_restore --clean --dbname=URL BACKUP", 2)
    if not path.is_file():
        raise _fail(f"No backup file at {path}.")
    _check_backup(path)
    if target.exists() and not force:
        raise _fail(f"{target} exists; stop the bot and pass --force to replace it with {path}.")
    if not target.exists():
        # A WAL left behind by the lost database would be replayed onto the restored one.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _sqlite_copy(sqlite3.connect(f"file:{path}?mode=ro", uri=True), target)
    except sqlite3.Error as exc:
        raise _fail(f"Cannot restore {path} to {target}: {exc}") from None
    console.print(f"[green]Restored {target} from {path}[/green]")


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
