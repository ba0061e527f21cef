"""FAQ entries written in Slack live in the database; the knowledge index holds a copy.

`index_faq` copies one entry in when support adds it; `reindex_faqs` copies back every entry the index
lacks, after `erp-coach ingest --reset`, a new embedding model, or a lost data folder (`erp-coach run`).
This module is the bridge because `knowledge/` and `feedback/` must not import each other.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import inspect

from feedback import faq as faq_store
from feedback.db import Database
from knowledge.base import KnowledgeBase

log = logging.getLogger("erp_coach.faq")


def _index_lang(lang: str) -> str:
    return "en" if lang.startswith("en") else "zh"


def index_faq(kb: KnowledgeBase, entry: faq_store.FaqEntry) -> None:
    """Put one database FAQ entry into the index now (replacing an older copy with the same id)."""
    kb.add_faq(
        entry.faq_id,
        entry.question,
        entry.answer,
        roles=list(entry.roles or []),
        lang=_index_lang(entry.lang),
        source=entry.source,
    )


def _has_faq_table(db: Database) -> bool:
    url = db.engine.url
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(url.database).exists():
        return False  # no database yet: nothing to copy, and do not create an empty file
    return inspect(db.engine).has_table(faq_store.FaqEntry.__tablename__)


def reindex_faqs(db: Database, kb: KnowledgeBase, *, only_missing: bool = True) -> int:
    """Index the database's FAQ entries the index lacks (all of them with only_missing=False).

    Returns how many were indexed; 0 when the database has no FAQ table yet (not migrated)."""
    if not _has_faq_table(db):
        return 0
    with db.begin() as session:
        entries = faq_store.all_entries(session)
    present = set(kb.sources) if only_missing else set()
    missing = [e for e in entries if f"faq:{e.faq_id}" not in present]
    for entry in missing:
        index_faq(kb, entry)
    if missing:
        log.info("re-indexed %d FAQ entries from the database", len(missing))
    return len(missing)
