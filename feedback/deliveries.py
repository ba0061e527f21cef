"""Which Slack deliveries (events) were already handled, so redeliveries are answered once.

Slack redelivers an event (same event_id) when the app did not answer 2xx in 3 s. Replicas behind a
load balancer each see some of those, so the record lives in the shared database rather than in memory.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow

# Slack's last retry comes about 5 minutes after the first try; a day is a generous margin.
KEEP_FOR = dt.timedelta(days=1)


class Delivery(Base):
    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # e.g. the Slack event_id
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def first_delivery(session: Session, key: str, now: dt.datetime | None = None) -> bool:
    """Record `key`; True the first time it is seen, False for every later (re)delivery.

    One atomic INSERT .. ON CONFLICT DO NOTHING, so two replicas racing on the same retry cannot both win.
    """
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(Delivery)
            .values(key=key, received_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Delivery.key)
        )
        # RETURNING, not rowcount: psycopg reports no usable rowcount for this statement.
        return session.execute(stmt).first() is not None
    try:
        with session.begin_nested():
            session.add(Delivery(key=key, received_at=now))
        return True
    except IntegrityError:
        return False


def forget_old_deliveries(session: Session, now: dt.datetime | None = None) -> int:
    """Delete records older than KEEP_FOR; returns how many."""
    cutoff = (now or utcnow()) - KEEP_FOR
    return session.execute(delete(Delivery).where(Delivery.received_at < cutoff)).rowcount or 0
