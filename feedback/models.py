"""Imports every model module so Alembic and `Base.metadata` see all tables. Add new modules here."""

from feedback import (  # noqa: F401
    channels,
    colleague_ratings,
    deliveries,
    faq,
    people,
    questions,
    scheduler,
    surveys,
    tickets,
    training,
)
