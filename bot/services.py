"""The composition root: builds the services once from Settings and hands them to listeners, CLI and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.config import Settings
from feedback.db import Database
from knowledge.base import KnowledgeBase, KnowledgeConfig
from knowledge.embedding import Embedder


@dataclass
class Services:
    settings: Settings
    _cache: dict = field(default_factory=dict, repr=False)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.resolved_database_url)

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
