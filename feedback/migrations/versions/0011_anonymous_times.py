"""Anonymous survey rounds: answers and "has answered" markers carry the round's scheduled time

They used to keep the day of answering, and a day with one answer (after a reminder) tied it to the one
person marked as having answered that day.

Revision ID: anonymous_times
Revises: reporter_thread
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "anonymous_times"
down_revision = "reporter_thread"
branch_labels = None
depends_on = None

_rounds = sa.table(
    "survey_rounds",
    sa.column("id", sa.Integer()),
    sa.column("anonymous", sa.Boolean()),
    sa.column("scheduled_for"),
)
_responses = sa.table("survey_responses", sa.column("round_id", sa.Integer()), sa.column("submitted_at"))
_deliveries = sa.table("survey_deliveries", sa.column("round_id", sa.Integer()), sa.column("responded_on"))


def upgrade() -> None:
    anonymous = sa.select(_rounds.c.id).where(_rounds.c.anonymous.is_(True))
    for table, column in ((_responses, _responses.c.submitted_at), (_deliveries, _deliveries.c.responded_on)):
        scheduled = (
            sa.select(_rounds.c.scheduled_for).where(_rounds.c.id == table.c.round_id).scalar_subquery()
        )
        op.execute(
            table.update()
            .where(table.c.round_id.in_(anonymous), column.is_not(None))
            .values({column.name: scheduled})
        )


def downgrade() -> None:
    """The days of answering are gone by design; nothing to restore."""
