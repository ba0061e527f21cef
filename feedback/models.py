"""Imports every model module so Alembic and `Base.metadata` see all tables. Add new modules here."""

from feedback import people, questions, scheduler, surveys, training  # noqa: F401
