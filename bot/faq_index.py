"""FAQ entries written in Slack live in the database; the knowledge index holds a copy of the active ones.

`index_faq` copies one entry in when support adds it, `unindex_faq` takes it out when it is withdrawn;
`reindex_faqs` makes the index agree with the database: it copies back every active entry the index
lacks (after `erp-coach ingest --reset`, a new embedding model, or a lost data folder) and removes every
withdrawn one it still holds (withdrawn where this index could not be reached). `erp-coach run`,
`serve` and `ingest` call it at start. This module is the bridge because `knowledge/` and `feedback/`
must not import each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect

from feedback import faq as faq_store
from feedback.db import Database
from knowledge.base import KnowledgeBase

log = logging.getLogger("erp_coach.faq")


@dataclass(frozen=True)
class Reindexed:
    indexed: int = 0  # active entries the index lacked, now in it
    removed: int = 0  # withdrawn entries the index still held, now out of it


def _index_lang(lang: str) -> str:
    return "en" if lang.startswith("en") else "zh"


def _key(entry: faq_store.FaqEntry) -> str:
    return f"faq:{entry.faq_id}"  # how KnowledgeBase.sources names an entry added with add_faq


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


def unindex_faq(kb: KnowledgeBase, entry: faq_store.FaqEntry) -> bool:
    """Take a withdrawn entry out of the index now; False when the index did not hold it."""
    return kb.remove_faq(entry.faq_id)


def _has_faq_table(db: Database) -> bool:
    url = db.engine.url
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(url.database).exists():
        return False  # no database yet: nothing to copy, and do not create an empty file
    return inspect(db.engine).has_table(faq_store.FaqEntry.__tablename__)


def reindex_faqs(db: Database, kb: KnowledgeBase, *, only_missing: bool = True) -> Reindexed:
    """Index the active entries the index lacks (all of them with only_missing=False) and remove the
    withdrawn ones it holds. Nothing to do when the database has no FAQ table yet (not migrated)."""
    if not _has_faq_table(db):
        return Reindexed()
    with db.begin() as session:
        entries = faq_store.all_entries(session)
    kb.refresh()  # what other processes wrote (say `erp-coach faq withdraw`), not this one's old copy
    present = set(kb.sources)
    missing = [e for e in entries if not e.withdrawn and (not only_missing or _key(e) not in present)]
    stale = [e for e in entries if e.withdrawn and _key(e) in present]
    for entry in missing:
        index_faq(kb, entry)
    removed = sum(unindex_faq(kb, entry) for entry in stale)
    if missing or removed:
        log.info("FAQ index: %d entries re-indexed, %d withdrawn removed", len(missing), removed)
    return Reindexed(indexed=len(missing), removed=removed)
