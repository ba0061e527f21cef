"""The composition root: builds the services once from Settings and hands them to listeners, CLI and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from feedback.db import Database
from knowledge.base import KnowledgeBase, KnowledgeConfig
from knowledge.embedding import Embedder

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
        return KnowledgeBase(
            KnowledgeConfig(
                data_dir=self.settings.data_dir,
                chroma_url=self.settings.chroma_url,
                role_folders=dict(self.settings.role_folders),
            ),
            self.embedder,
        )
