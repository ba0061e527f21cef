"""survey_reminders: several reminders per round (day 3 and day 5), counted per delivery

A round's single `remind_at` becomes reminder 1 in the new `survey_reminders` table; a delivery already
reminded counts as one reminder sent (`last_reminder` = 1, `reminders_sent` = 1), so an old round never
reminds anybody twice.

Revision ID: survey_reminders
Revises: channel_settings
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "survey_reminders"
down_revision = "channel_settings"
branch_labels = None
depends_on = None

UTC = feedback.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "survey_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["survey_rounds.id"],
            name=op.f("fk_survey_reminders_round_id_survey_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_reminders")),
        sa.UniqueConstraint("round_id", "number", name="uq_survey_reminders_round_id_number"),
    )
    op.execute(
        "INSERT INTO survey_reminders (round_id, number, due_at) "
        "SELECT id, 1, remind_at FROM survey_rounds WHERE remind_at IS NOT NULL"
    )
    with op.batch_alter_table("survey_rounds") as batch:
        batch.drop_column("remind_at")
    with op.batch_alter_table("survey_deliveries") as batch:
        batch.add_column(sa.Column("last_reminder", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"))
    # "sent": it went out. "sending": in flight; release_stale_claims will count it when it turns "sent".
    # "failed": Slack refused; no further reminders either way.
    op.execute(
        "UPDATE survey_deliveries SET last_reminder = 1, reminders_sent = 1 WHERE reminder_status = 'sent'"
    )
    op.execute(
        "UPDATE survey_deliveries SET last_reminder = 1 WHERE reminder_status IN ('sending', 'failed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("survey_deliveries") as batch:
        batch.drop_column("reminders_sent")
        batch.drop_column("last_reminder")
    with op.batch_alter_table("survey_rounds") as batch:
        batch.add_column(sa.Column("remind_at", UTC(), nullable=True))
    # The older code knows one reminder per round: keep the first.
    op.execute(
        "UPDATE survey_rounds SET remind_at = (SELECT r.due_at FROM survey_reminders r "
        "WHERE r.round_id = survey_rounds.id AND r.number = 1)"
    )
    op.drop_table("survey_reminders")
