"""job leases, survey rounds/deliveries/responses, training assignments

Revision ID: surveys
Revises: tickets
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "surveys"
down_revision = "tickets"
branch_labels = None
depends_on = None

UTC = feedback.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("scheduled_for", UTC(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_at", UTC(), nullable=False),
        sa.Column("finished_at", UTC()),
        sa.Column("outcome", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job_id", "scheduled_for", name="uq_job_runs_job_id_scheduled_for"),
    )
    op.create_table(
        "survey_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(100), nullable=False),
        sa.Column("scheduled_for", UTC(), nullable=False),
        sa.Column("send_after", UTC(), nullable=False),
        sa.Column("remind_at", UTC()),
        sa.Column("closes_at", UTC(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("audience_size", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("closed_at", UTC()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_rounds")),
        sa.UniqueConstraint("survey_id", "scheduled_for", name="uq_survey_rounds_survey_id_scheduled_for"),
    )
    op.create_index(op.f("ix_survey_rounds_survey_id"), "survey_rounds", ["survey_id"])
    op.create_index(op.f("ix_survey_rounds_closes_at"), "survey_rounds", ["closes_at"])
    op.create_index(op.f("ix_survey_rounds_status"), "survey_rounds", ["status"])
    op.create_table(
        "survey_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_at", UTC()),
        sa.Column("sent_at", UTC()),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("error", sa.String(200)),
        sa.Column("reminder_status", sa.String(16)),
        sa.Column("reminded_at", UTC()),
        sa.Column("responded_on", UTC()),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["survey_rounds.id"],
            name=op.f("fk_survey_deliveries_round_id_survey_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_deliveries")),
        sa.UniqueConstraint("round_id", "slack_user_id", name="uq_survey_deliveries_round_id_slack_user_id"),
    )
    op.create_index(op.f("ix_survey_deliveries_round_id"), "survey_deliveries", ["round_id"])
    op.create_index(op.f("ix_survey_deliveries_slack_user_id"), "survey_deliveries", ["slack_user_id"])
    op.create_index(op.f("ix_survey_deliveries_status"), "survey_deliveries", ["status"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(32)),
        sa.Column("role", sa.String(32)),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("submitted_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["survey_rounds.id"],
            name=op.f("fk_survey_responses_round_id_survey_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    op.create_index(op.f("ix_survey_responses_round_id"), "survey_responses", ["round_id"])
    op.create_table(
        "training_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("module_id", sa.String(100), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(500)),
        sa.Column("heading", sa.String(300)),
        sa.Column("assigned_at", UTC(), nullable=False),
        sa.Column("due_at", UTC(), nullable=False),
        sa.Column("completed_at", UTC()),
        sa.Column("reminded_before_at", UTC()),
        sa.Column("overdue_reminded_at", UTC()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assignments")),
        sa.UniqueConstraint(
            "slack_user_id", "module_id", name="uq_training_assignments_slack_user_id_module_id"
        ),
    )
    op.create_index(op.f("ix_training_assignments_slack_user_id"), "training_assignments", ["slack_user_id"])
    op.create_index(op.f("ix_training_assignments_role"), "training_assignments", ["role"])
    op.create_index(op.f("ix_training_assignments_due_at"), "training_assignments", ["due_at"])
    op.create_table(
        "training_extra_modules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("module_id", sa.String(100), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(500)),
        sa.Column("heading", sa.String(300)),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(32)),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_extra_modules")),
        sa.UniqueConstraint("role", "module_id", name="uq_training_extra_modules_role_module_id"),
    )


def downgrade() -> None:
    op.drop_table("training_extra_modules")
    op.drop_table("training_assignments")
    op.drop_table("survey_responses")
    op.drop_table("survey_deliveries")
    op.drop_table("survey_rounds")
    op.drop_table("job_runs")
