"""Why ingestion skipped a file, in the CLI's language: `cli.skip.<code>` filled with the reason's params."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import t
from knowledge.reasons import Reason


def reason_text(reason: Reason, lang: str) -> str:
    """`reason` in `lang`, with its note (what became of the file's earlier version) after it. A code the
    catalog does not know yet is said as knowledge/ says it, in English."""
    text = _text(replace(reason, note=None), lang)
    if reason.note is None:
        return text
    return t("cli.ingest.reason_with_note", lang, reason=text, note=_text(Reason(reason.note), lang))


def _text(reason: Reason, lang: str) -> str:
    try:
        return t(f"cli.skip.{reason.code}", lang, **reason.params)
    except (KeyError, IndexError, ValueError):  # no entry, or one whose {params} do not match
        return str(reason)
