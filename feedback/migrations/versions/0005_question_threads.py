"""questions.thread_ts: the Slack thread an answer lives in, so a reply there is read as a follow-up

Revision ID: question_threads
Revises: surveys
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "question_threads"
down_revision = "surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(32), nullable=True))
        batch.create_index("ix_questions_channel_thread", ["channel_id", "thread_ts"])


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.drop_index("ix_questions_channel_thread")
        batch.drop_column("thread_ts")
