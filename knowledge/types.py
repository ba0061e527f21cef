"""Plain values that cross the boundary of `knowledge/`: what search returns and what ingestion reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.reasons import Reason, Why

HEADING_SEPARATOR = " › "
# Beyond the first two related sections, one scoring under this share of the answer's score is left out.
# On the four Odoo dev sets, the fourth hit (the usual third related section) of 466 answered questions
# was a page that answers the question for 35 (7.5%); 106 scored under half the answer's, and 1 of those
# did. The rest was filler, such as 出问题找谁 under the month-end close deadlines.
RELATED_MIN_SHARE = 0.5
RELATED_ALWAYS = 2


@dataclass(frozen=True)
class Hit:
    """One ranked passage (a manual section) or FAQ entry."""

    source: str  # path relative to its knowledge root ("inventory/receipts.md"), or "faq:<id>" for DB FAQs
    title: str
    heading_path: tuple[str, ...]
    text: str  # the passage, steps intact; for a FAQ, the question
    score: float  # fused score, higher is better
    kind: str = "manual"  # "manual" | "faq"
    lang: str = "en"  # content language: "zh" | "en"
    roles: tuple[str, ...] = ()
    answer: str | None = None  # FAQ answer text
    dense_rank: int | None = None
    dense_score: float | None = None
    lexical_rank: int | None = None
    lexical_score: float | None = None
    cites: str | None = None  # FAQ entries: the manual page the answer comes from (a source, when indexed)
    cites_title: str | None = None  # FAQ entries: that page's title, for the citation

    @property
    def page(self) -> str:
        """The page this hit stands for: a FAQ's cited manual page, else its own source."""
        return self.cites or self.source

    @property
    def citation(self) -> str:
        parts = [self.title, *[h for h in self.heading_path if h != self.title]]
        return HEADING_SEPARATOR.join(p for p in parts if p)


@dataclass
class SearchResult:
    question: str
    role: str | None
    lang: str  # detected (or given) question language: "zh" | "en"
    answered: bool  # False = abstained: nothing matched well enough to quote
    hits: list[Hit]  # best first, one per distinct source where possible
    why: Why | None = None  # why it answered or abstained: --explain says it in the CLI's language
    latency_ms: float = 0.0

    @property
    def reason(self) -> str:
        """Why it answered or abstained, in English (logs, --json)."""
        return str(self.why) if self.why else ""

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def faq(self) -> Hit | None:
        best = self.best
        return best if self.answered and best is not None and best.kind == "faq" else None

    def related(self, n: int = 3) -> list[Hit]:
        """Up to n further sections, best first: one per other page (a FAQ counts as the page it cites),
        plus the FAQ entries about the best page itself. Those answer the neighbouring questions
        ("报销款什么时候到账？" under the steps of 提交报销) and beat a weak section of an unrelated page;
        a section of the page already cited does not. Past the first `RELATED_ALWAYS`, none scores under
        `RELATED_MIN_SHARE` of the best's score: a third related section is filler more often than not."""
        best = self.best
        if best is None:
            return []
        floor = best.score * RELATED_MIN_SHARE if best.score > 0 else float("-inf")
        seen = {best.page}
        out: list[Hit] = []
        for hit in self.hits[1:]:
            if len(out) >= RELATED_ALWAYS and hit.score < floor:
                continue
            if hit.kind == "faq" and hit.page == best.page:
                out.append(hit)
            elif hit.page not in seen:
                seen.add(hit.page)
                out.append(hit)
            if len(out) == n:
                break
        return out


@dataclass
class IngestReport:
    files_seen: int = 0
    files_indexed: int = 0  # new or changed files embedded this run
    files_unchanged: int = 0
    files_reread: int = 0  # of files_indexed: unchanged, read again because their format is now read better
    files_removed: int = 0  # files whose passages left the index: gone from disk, or now failing to load
    chunks: int = 0  # chunks embedded this run
    skipped: list[tuple[str, Reason]] = field(default_factory=list)  # (path, why; str() says it in English)
    # (path, what was left out) of files that were indexed without part of them: FAQ entries half filled in
    left_out: list[tuple[str, Reason]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0
