"""colleague_ratings: 👍/👎 from colleagues on an answer its asker shared to a channel

One row per person and answer. Answers shared before this revision had no buttons for colleagues, so
there is nothing to fill in.

Revision ID: colleague_ratings
Revises: faq_withdrawal
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "colleague_ratings"
down_revision = "faq_withdrawal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "colleague_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("rated_at", feedback.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_colleague_ratings_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_colleague_ratings")),
        sa.UniqueConstraint("question_id", "slack_user_id", name=op.f("uq_colleague_ratings_question_id")),
    )


def downgrade() -> None:
    """Forgets the colleague ratings; the askers' own ratings stay on the question log."""
    op.drop_table("colleague_ratings")
