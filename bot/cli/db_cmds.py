"""`erp-coach db ...`: schema migrations."""

from __future__ import annotations

import typer
from alembic.util import CommandError
from rich.console import Console

from bot.config import load_settings
from feedback.db import Database, current_revision

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command()
def upgrade(revision: str = typer.Argument("heads", help="Target revision; default: the newest.")) -> None:
    """Apply migrations up to REVISION (creates the SQLite file under the data dir if needed)."""
    settings = load_settings()
    db = Database(settings.resolved_database_url)
    try:
        db.upgrade(revision)
    except CommandError as exc:  # a revision this release does not have, named here or in the database
        err.print(
            f"{exc}. `erp-coach db current` shows the database's revision; a database migrated by a newer "
            "erp-coach needs that release.",
            style="red",
            markup=False,
        )
        raise typer.Exit(2) from None
    console.print(f"[green]Database at revision {current_revision(db)}[/green] ({db.dialect})")


@app.command()
def current() -> None:
    """Show the database's current revision."""
    settings = load_settings()
    console.print(current_revision(Database(settings.resolved_database_url)) or "(empty database)")
