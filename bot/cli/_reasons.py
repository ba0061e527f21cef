"""Why ingestion skipped a file (`cli.skip.<code>`) and why a search answered or abstained (`cli.why.<code>`),
in the CLI's language, filled with the same params as knowledge/'s English."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import t
from knowledge.reasons import Reason, Why


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


def why_text(why: Why, lang: str) -> str:
    """Why a search answered or abstained, in `lang` (English where the catalog has no entry yet)."""
    try:
        text = t(f"cli.why.{why.code}", lang, **why.params)
    except (KeyError, IndexError, ValueError):
        return str(why)
    return t("cli.decision.answered" if why.answered else "cli.decision.abstained", lang, why=text)
