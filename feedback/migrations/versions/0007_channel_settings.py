"""channel_settings: per-channel answer mode (mention | all) and knowledge scope, with who changed it

Revision ID: channel_settings
Revises: rating_reminders
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "channel_settings"
down_revision = "rating_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_settings",
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("answer_mode", sa.String(16), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=True),
        sa.Column("updated_at", feedback.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_settings")),
    )


def downgrade() -> None:
    op.drop_table("channel_settings")
