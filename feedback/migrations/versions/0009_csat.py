"""ticket_rating_requests: who was asked to rate a closure, when, until when, and their rating

Tickets resolved before this revision asked every reporter (the notice always carried the rating), so
each gets a request at its resolution (a duplicate's at its original's), open for the default 28 days,
with the rating it already has.

Revision ID: csat
Revises: survey_reminders
Create Date: 2026-12-01
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "csat"
down_revision = "survey_reminders"
branch_labels = None
depends_on = None

_WINDOW = dt.timedelta(days=28)  # CSAT_WINDOW_DAYS' default when this revision was written


def upgrade() -> None:
    requests = op.create_table(
        "ticket_rating_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(32), nullable=False),
        sa.Column("asked_at", feedback.db.UTCDateTime(), nullable=False),
        sa.Column("open_until", feedback.db.UTCDateTime(), nullable=False),
        sa.Column("rating", sa.Integer()),
        sa.Column("rated_at", feedback.db.UTCDateTime()),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_rating_requests_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient"], ["users.slack_user_id"], name=op.f("fk_ticket_rating_requests_recipient_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_rating_requests")),
    )
    for column in ("ticket_id", "recipient", "asked_at", "rated_at"):
        op.create_index(op.f(f"ix_ticket_rating_requests_{column}"), "ticket_rating_requests", [column])
    op.bulk_insert(requests, _existing_requests())


def _existing_requests() -> list[dict]:
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer()),
        sa.column("reporter_id", sa.String()),
        sa.column("duplicate_of_id", sa.Integer()),
        sa.column("resolved_at", feedback.db.UTCDateTime()),
        sa.column("satisfaction", sa.Integer()),
        sa.column("satisfaction_at", feedback.db.UTCDateTime()),
    )
    rows = {row.id: row for row in op.get_bind().execute(sa.select(tickets)).all()}
    out = []
    for row in rows.values():
        root, hops = row, 0
        while root.duplicate_of_id is not None and root.duplicate_of_id in rows and hops < len(rows):
            root, hops = rows[root.duplicate_of_id], hops + 1
        asked = row.resolved_at or root.resolved_at or row.satisfaction_at
        if asked is None:
            continue
        out.append(
            {
                "ticket_id": row.id,
                "recipient": row.reporter_id,
                "asked_at": asked,
                "open_until": asked + _WINDOW,
                "rating": row.satisfaction,
                "rated_at": row.satisfaction_at if row.satisfaction is not None else None,
            }
        )
    return out


def downgrade() -> None:
    op.drop_table("ticket_rating_requests")
