"""faq_entries.withdrawn_at, withdrawn_by, withdrawn_reason: a FAQ entry taken back by support

A withdrawn entry stays in the database (what was said, who took it back, why), and the knowledge index
no longer holds it. Entries from before this revision are all active.

Revision ID: faq_withdrawal
Revises: anonymous_times
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "faq_withdrawal"
down_revision = "anonymous_times"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("faq_entries", sa.Column("withdrawn_at", feedback.db.UTCDateTime()))
    op.add_column("faq_entries", sa.Column("withdrawn_by", sa.String(32)))
    op.add_column("faq_entries", sa.Column("withdrawn_reason", sa.Text()))


def downgrade() -> None:
    """Forgets the withdrawals: those entries are active again and the next reindex puts them back."""
    with op.batch_alter_table("faq_entries") as batch:
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
