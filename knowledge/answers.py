"""What the bot says for a search result, as plain data: a FAQ answer, a quoted passage, or abstention.

No LLM: the answer is the company's own text. Views (Slack blocks, the CLI) render an `Answer`;
the wording around it (labels, the abstain message) comes from the i18n catalogs of the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.types import Hit, SearchResult


@dataclass(frozen=True)
class Reference:
    source: str  # page path relative to its knowledge root
    citation: str  # "Title › Section › Subsection"


@dataclass
class Answer:
    kind: str  # "faq" | "passage" | "abstain"
    lang: str  # question language
    text: str = ""  # the FAQ answer or the quoted passage, steps intact
    question: str = ""  # for a FAQ: the FAQ's own question
    reference: Reference | None = None  # where the text comes from
    related: list[Reference] = field(default_factory=list)  # 2-3 further sections (see SearchResult.related)
    reason: str = ""


def compose(result: SearchResult, n_related: int = 3) -> Answer:
    if not result.answered or result.best is None:
        # Still offer the closest pages: the asker may recognise the right one.
        related = [_ref(h) for h in _distinct_pages(result.hits)[:n_related]]
        return Answer("abstain", result.lang, related=related, reason=result.reason)
    best = result.best
    related_hits = result.related(n_related)
    if best.kind == "faq":
        return Answer(
            "faq",
            result.lang,
            text=best.answer or "",
            question=best.text,
            reference=Reference(best.cites, best.cites_title or best.cites) if best.cites else None,
            related=[_ref(h) for h in related_hits],
            reason=result.reason,
        )
    return Answer(
        "passage",
        result.lang,
        text=best.text,
        reference=_ref(best),
        related=[_ref(h) for h in related_hits],
        reason=result.reason,
    )


def _ref(hit: Hit) -> Reference:
    if hit.kind == "faq":
        return Reference(hit.page, hit.text)
    return Reference(hit.source, hit.citation)


def _distinct_pages(hits: list[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for hit in hits:
        if hit.page not in seen:
            seen.add(hit.page)
            out.append(hit)
    return out
