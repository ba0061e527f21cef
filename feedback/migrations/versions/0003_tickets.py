"""tickets, their audit log and comments, the ticket number counter, FAQ entries

Revision ID: tickets
Revises: slack_events
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "tickets"
down_revision = "slack_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "ticket_counters",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ticket_counters")),
    )
    op.bulk_insert(counters, [{"name": "ticket", "value": 0}])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("erp_module", sa.String(64)),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reporter_id", sa.String(32), nullable=False),
        sa.Column("assignee_id", sa.String(32)),
        sa.Column("lang", sa.String(16)),
        sa.Column("source", sa.String(32)),
        sa.Column("question_id", sa.Integer()),
        sa.Column("shown_sources", sa.JSON(), nullable=False),
        sa.Column("resolution", sa.Text()),
        sa.Column("resolved_by", sa.String(32)),
        sa.Column("resolved_at", feedback.db.UTCDateTime()),
        sa.Column("closed_at", feedback.db.UTCDateTime()),
        sa.Column("origin_channel", sa.String(32)),
        sa.Column("origin_ts", sa.String(32)),
        sa.Column("origin_permalink", sa.String(500)),
        sa.Column("triage_channel", sa.String(32)),
        sa.Column("triage_ts", sa.String(32)),
        sa.Column("duplicate_of_id", sa.Integer()),
        sa.Column("affected_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer()),
        sa.Column("satisfaction_at", feedback.db.UTCDateTime()),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("embedding", sa.LargeBinary()),
        sa.Column("status_changed_at", feedback.db.UTCDateTime(), nullable=False),
        sa.Column("overdue_notified_at", feedback.db.UTCDateTime()),
        sa.Column("announced_at", feedback.db.UTCDateTime()),
        sa.Column("created_at", feedback.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.slack_user_id"], name=op.f("fk_tickets_reporter_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.slack_user_id"], name=op.f("fk_tickets_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_tickets_question_id_questions")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["tickets.id"], name=op.f("fk_tickets_duplicate_of_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_tickets_idempotency_key")),
    )
    for column in (
        "category",
        "priority",
        "status",
        "reporter_id",
        "assignee_id",
        "duplicate_of_id",
        "created_at",
    ):
        op.create_index(op.f(f"ix_tickets_{column}"), "tickets", [column])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("field", sa.String(32)),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("created_at", feedback.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"])
    op.create_index(op.f("ix_ticket_events_created_at"), "ticket_events", ["created_at"])
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_comments_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    op.create_index(op.f("ix_ticket_comments_ticket_id"), "ticket_comments", ["ticket_id"])
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.Integer()),
        sa.Column("created_by", sa.String(32)),
        sa.Column("created_at", feedback.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_faq_entries_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
    )
    op.create_index(op.f("ix_faq_entries_ticket_id"), "faq_entries", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("faq_entries")
    op.drop_table("ticket_comments")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
    op.drop_table("ticket_counters")
