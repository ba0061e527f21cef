"""`erp-coach db ...`: schema migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.config import load_settings
from feedback.db import Database, current_revision

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
console = Console()


@app.command()
def upgrade(revision: str = typer.Argument("heads", help="Target revision; default: the newest.")) -> None:
    """Apply migrations up to REVISION (creates the SQLite file under the data dir if needed)."""
    settings = load_settings()
    db = Database(settings.resolved_database_url)
    db.upgrade(revision)
    console.print(f"[green]Database at revision {current_revision(db)}[/green] ({db.dialect})")


@app.command()
def current() -> None:
    """Show the database's current revision."""
    settings = load_settings()
    console.print(current_revision(Database(settings.resolved_database_url)) or "(empty database)")
