"""questions.rating_reminder_id/_at: the scheduled "was this helpful?" for an unrated answer

Revision ID: rating_reminders
Revises: question_threads
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "rating_reminders"
down_revision = "question_threads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("rating_reminder_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("rating_reminder_at", feedback.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("rating_reminder_at")
        batch.drop_column("rating_reminder_id")
