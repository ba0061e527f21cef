"""tickets.reporter_channel, reporter_ts: where the reporter's confirmation DM is

Status notices go in its thread, and the reporter's replies there become comments. Tickets confirmed
before this revision have none: their notices go to the reporter's DM as new messages.

Revision ID: reporter_thread
Revises: csat
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "reporter_thread"
down_revision = "csat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("reporter_channel", sa.String(32)))
    op.add_column("tickets", sa.Column("reporter_ts", sa.String(32)))
    op.create_index(op.f("ix_tickets_reporter_ts"), "tickets", ["reporter_ts"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_reporter_ts"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("reporter_ts")
        batch.drop_column("reporter_channel")
