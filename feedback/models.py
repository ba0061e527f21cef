"""Imports every model module so Alembic and `Base.metadata` see all tables. Add new modules here."""

from feedback import deliveries, faq, people, questions, tickets  # noqa: F401
