"""people and the question log

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200)),
        sa.Column("role", sa.String(32)),
        sa.Column("language_override", sa.String(16)),
        sa.Column("slack_locale", sa.String(16)),
        sa.Column("tz", sa.String(64)),
        sa.Column("created_at", feedback.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id", name=op.f("pk_users")),
    )
    op.create_index(op.f("ix_users_role"), "users", ["role"])
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(32)),
        sa.Column("role", sa.String(32)),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("top_sources", sa.JSON(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("surface", sa.String(32)),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("rating", sa.Integer()),
        sa.Column("rating_reason", sa.String(64)),
        sa.Column("rated_at", feedback.db.UTCDateTime()),
        sa.Column("created_at", feedback.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slack_user_id"], ["users.slack_user_id"], name=op.f("fk_questions_slack_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_slack_user_id"), "questions", ["slack_user_id"])
    op.create_index(op.f("ix_questions_role"), "questions", ["role"])
    op.create_index(op.f("ix_questions_created_at"), "questions", ["created_at"])


def downgrade() -> None:
    op.drop_table("questions")
    op.drop_table("users")
