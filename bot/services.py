"""The composition root: builds the services once from Settings and hands them to listeners, CLI and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from feedback.db import Database

if TYPE_CHECKING:
    from slack_sdk import WebClient


@dataclass
class Services:
    settings: Settings
    _cache: dict = field(default_factory=dict, repr=False)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.resolved_database_url)

    @cached_property
    def slack_client(self) -> WebClient:
        from bot.slack_client import create_web_client

        return create_web_client(self.settings)
