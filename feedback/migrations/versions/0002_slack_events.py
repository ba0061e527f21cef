"""deliveries: Slack event ids already handled (retries are answered once)

Revision ID: slack_events
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "slack_events"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("received_at", feedback.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_deliveries")),
    )
    op.create_index(op.f("ix_deliveries_received_at"), "deliveries", ["received_at"])


def downgrade() -> None:
    op.drop_table("deliveries")
