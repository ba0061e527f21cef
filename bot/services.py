"""The composition root: builds the services once from Settings and hands them to listeners, CLI and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import feedback
from bot.config import Settings
from feedback.db import Database
from feedback.scheduler import QuietHours, SendWindow, parse_working_days
from feedback.surveys import SurveyCatalog
from feedback.training import TrainingCatalog
from knowledge.base import KnowledgeBase, KnowledgeConfig
from knowledge.embedding import Embedder

if TYPE_CHECKING:
    from slack_sdk import WebClient

_EXAMPLES = Path(feedback.__file__).parent / "examples"  # shipped samples, copied on first run


@dataclass
class Services:
    settings: Settings
    _cache: dict = field(default_factory=dict, repr=False)

    def close(self) -> None:
        """Release what was opened: the knowledge base's store and threads, the database pool."""
        kb = self.__dict__.pop("knowledge", None)
        if kb is not None:
            kb.close()
        db = self.__dict__.get("db")
        if db is not None:
            db.dispose()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.resolved_database_url)

    @cached_property
    def slack_client(self) -> WebClient:
        from bot.slack_client import create_web_client

        return create_web_client(self.settings)

    @cached_property
    def ack_client(self) -> WebClient:
        """For lookups before an ack: one quick try, no waiting out rate limits (see create_web_client)."""
        from bot.slack_client import create_web_client

        return create_web_client(self.settings, ack_path=True)

    @cached_property
    def directory(self):
        """Who is asking (role, language, time zone), shared by every listener."""
        from bot.identity import Directory

        return Directory(
            self.db,
            roles=self.settings.roles,
            admins=self.settings.slack_admins,
            usergroup_roles=dict(self.settings.slack_usergroup_roles),
        )

    @cached_property
    def embedder(self) -> Embedder:
        """The sentence-transformers model, loaded once per process (a few seconds)."""
        return Embedder(self.settings.embedding_model)

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        return KnowledgeBase(knowledge_config(self.settings), self.embedder)

    @cached_property
    def send_window(self) -> SendWindow:
        """When scheduled DMs may go out: time zone, quiet hours, working days (settings), and each
        person's Slack do-not-disturb once there is a Slack to ask."""
        from bot.dnd import SlackDnd

        return SendWindow(
            tz=self.settings.timezone,
            quiet_hours=QuietHours.parse(self.settings.quiet_hours),
            working_days=parse_working_days(self.settings.working_days),
            dnd=SlackDnd(lambda: self.slack_client) if self.settings.slack_bot_token else None,
        )

    @cached_property
    def surveys(self) -> SurveyCatalog:
        catalog = SurveyCatalog(self.settings.surveys_path, self.settings.roles, _EXAMPLES / "surveys.yaml")
        catalog.ensure_file()
        return catalog

    @cached_property
    def training(self) -> TrainingCatalog:
        catalog = TrainingCatalog(
            self.settings.training_path,
            self.settings.roles,
            _EXAMPLES / "training.yaml",
            timezone=self.settings.timezone,
        )
        catalog.ensure_file()
        return catalog


def knowledge_config(settings: Settings, data_dir: Path | None = None) -> KnowledgeConfig:
    """The knowledge base's settings; another `data_dir` (eval's scratch index) is always embedded."""
    return KnowledgeConfig(
        data_dir=data_dir or settings.data_dir,
        chroma_url="" if data_dir else settings.chroma_url,
        role_folders=dict(settings.role_folders),
        synonyms_file=settings.synonyms_file,
    )
