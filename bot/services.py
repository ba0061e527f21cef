"""The composition root: builds the services once from Settings and hands them to listeners, CLI and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.config import Settings
from feedback.db import Database


@dataclass
class Services:
    settings: Settings
    _cache: dict = field(default_factory=dict, repr=False)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.resolved_database_url)
