"""How dense and lexical candidates become one ranked, role- and language-aware list, and when to abstain.

The numbers in `SearchTuning` were calibrated on the dev questions over the shared Odoo corpus
(benchmarks/questions/dev.jsonl); `erp-coach eval --mode` compares this fusion with each side alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchTuning:
    candidates: int = 100  # passages taken from each side before fusion and re-ranking
    max_hits: int = 15  # distinct sources returned
    # Convex fusion of normalized scores; Chinese questions lean on the lexical side because the
    # default English MiniLM embeds Chinese poorly.
    dense_weight_en: float = 0.5
    dense_weight_zh: float = 0.1
    role_boost: float = 0.06  # pages tagged for the asker's role; untagged pages are never pushed down
    lang_boost: float = 0.06  # pages written in the question's language
    counterpart_share: float = 0.9  # a page's translation inherits this share of its score
    faq_margin: float = 0.1  # a matching FAQ leads when within this of the best page
    # Abstention: answer when the best evidence clears these (see `decide`).
    min_dense_en: float = 0.45
    min_coverage_en: float = 0.6
    min_coverage_zh: float = 0.5
    mode: str = "hybrid"  # "hybrid" | "dense" | "lexical" (baselines for eval)


@dataclass
class Evidence:
    """What the abstention decision looks at, reported in `reason`."""

    lang: str
    dense_top: float  # best cosine similarity of any passage
    coverage_top: float  # best idf-weighted share of question terms found in one passage
    fused_top: float


def decide(ev: Evidence, tuning: SearchTuning) -> tuple[bool, str]:
    """Answer or abstain, with the reason in plain words."""
    if ev.lang == "zh" or tuning.mode == "lexical":
        ok = (
            ev.coverage_top >= tuning.min_coverage_zh
            if ev.lang == "zh"
            else ev.coverage_top >= tuning.min_coverage_en
        )
        need = tuning.min_coverage_zh if ev.lang == "zh" else tuning.min_coverage_en
        why = f"best passage covers {ev.coverage_top:.0%} of the question's terms (need {need:.0%})"
        return ok, ("answered: " if ok else "abstained: ") + why
    if tuning.mode == "dense":
        ok = ev.dense_top >= tuning.min_dense_en
        why = f"best similarity {ev.dense_top:.2f} (need {tuning.min_dense_en:.2f})"
        return ok, ("answered: " if ok else "abstained: ") + why
    ok = ev.dense_top >= tuning.min_dense_en or ev.coverage_top >= tuning.min_coverage_en
    why = (
        f"best similarity {ev.dense_top:.2f} (need {tuning.min_dense_en:.2f}) and term coverage "
        f"{ev.coverage_top:.0%} (need {tuning.min_coverage_en:.0%}); either suffices"
    )
    return ok, ("answered: " if ok else "abstained: ") + why
