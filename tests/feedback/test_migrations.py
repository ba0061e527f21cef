"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL: a
model change without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import feedback.models  # noqa: F401 - registers every table on Base.metadata
from feedback.db import Base


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # APScheduler keeps its own jobs table in the same database; it is not ours to migrate.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("apscheduler"))]
    assert diff == []
