"""Measure search quality on a question set: hit@1, hit@5, MRR@10 per language, abstention, latency.

Question lines: {"id", "question", "lang", "role", "relevant": [paths relative to the KB], "answerable"}.
A FAQ hit counts as the manual page it cites (when that page is in the knowledge base), so ranked
sources are always real pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.loaders import LoadError, decode_bytes, detect_lang
from knowledge.types import SearchResult


class QuestionSetError(Exception):
    """A question file that cannot be evaluated; the message names the line."""


@dataclass
class Question:
    id: str
    question: str
    lang: str
    role: str | None
    relevant: list[str]
    answerable: bool


@dataclass
class Outcome:
    question: Question
    ranked_sources: list[str]
    answered: bool
    latency_ms: float
    result: SearchResult | None = None

    def line(self) -> dict:
        return {
            "id": self.question.id,
            "ranked_sources": self.ranked_sources,
            "answered": self.answered,
            "latency_ms": round(self.latency_ms, 2),
        }

    def rank(self) -> int | None:
        """1-based rank of the first relevant source, None when absent."""
        relevant = set(self.question.relevant)
        return next((i for i, s in enumerate(self.ranked_sources, 1) if s in relevant), None)


@dataclass
class Metrics:
    per_lang: dict[str, dict[str, float]] = field(default_factory=dict)
    abstained_answerable: float = 0.0
    abstained_unanswerable: float = 0.0
    n_answerable: int = 0
    n_unanswerable: int = 0
    latency_p50: float = 0.0
    latency_p95: float = 0.0


def load_questions(path: Path) -> list[Question]:
    """One question per line: a JSON object with "question", the pages that answer it ("relevant", a list
    of sources or one source) or "answerable": false, and optionally "id", "lang" and "role". UTF-8 or
    GBK. Raises QuestionSetError naming the file and line of the first mistake."""
    try:
        text = decode_bytes(Path(path).read_bytes())
    except LoadError as exc:
        raise QuestionSetError(f"{path}: {exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(_question(json.loads(line), n))
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path}:{n}: not a question line ({exc})") from None
        except QuestionSetError as exc:
            raise QuestionSetError(f"{path}:{n}: {exc}") from None
    return out


def _question(raw: object, n: int) -> Question:
    if not isinstance(raw, dict):
        raise QuestionSetError(f"not a question line (a JSON object is needed, not {type(raw).__name__})")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QuestionSetError('no "question" (the question, as text)')
    relevant = raw.get("relevant") or []
    if isinstance(relevant, str):
        relevant = [relevant]
    if not isinstance(relevant, list) or not all(isinstance(r, str) and r.strip() for r in relevant):
        raise QuestionSetError(
            '"relevant" must be the sources of the pages that answer it, e.g. ["hr/费用报销.md"]'
        )
    answerable = raw.get("answerable", True if relevant else None)
    if answerable is None or (answerable and not relevant):
        raise QuestionSetError(
            'say which pages answer it ("relevant": ["folder/page.md"]) or mark it "answerable": false'
        )
    return Question(
        id=str(raw.get("id", n)),
        question=question,
        # without "lang", the question's own: a Chinese question must not be searched (and scored) as English
        lang=("zh" if str(raw["lang"]).lower().startswith("zh") else "en")
        if raw.get("lang")
        else detect_lang(question),
        role=raw.get("role") or None,
        relevant=[r.strip() for r in relevant],
        answerable=bool(answerable),
    )


def ranked_pages(result: SearchResult) -> list[str]:
    return list(dict.fromkeys(hit.page for hit in result.hits))


def run(
    kb: KnowledgeBase, questions: Iterable[Question], progress: Callable[[int], None] | None = None
) -> list[Outcome]:
    outcomes = []
    for i, q in enumerate(questions, 1):
        result = kb.search(q.question, role=q.role, lang=q.lang)
        outcomes.append(Outcome(q, ranked_pages(result), result.answered, result.latency_ms, result))
        if progress:
            progress(i)
    return outcomes


def score(outcomes: list[Outcome]) -> Metrics:
    m = Metrics()
    answerable = [o for o in outcomes if o.question.answerable and o.question.relevant]
    for lang in sorted({o.question.lang for o in answerable}):
        group = [o for o in answerable if o.question.lang == lang]
        ranks = [o.rank() for o in group]
        m.per_lang[lang] = {
            "n": len(group),
            "hit@1": sum(1 for r in ranks if r == 1) / len(group),
            "hit@5": sum(1 for r in ranks if r is not None and r <= 5) / len(group),
            "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / len(group),
        }
    ans = [o for o in outcomes if o.question.answerable]
    unans = [o for o in outcomes if not o.question.answerable]
    m.n_answerable, m.n_unanswerable = len(ans), len(unans)
    m.abstained_answerable = sum(not o.answered for o in ans) / len(ans) if ans else 0.0
    m.abstained_unanswerable = sum(not o.answered for o in unans) / len(unans) if unans else 0.0
    lat = np.asarray([o.latency_ms for o in outcomes]) if outcomes else np.zeros(1)
    m.latency_p50, m.latency_p95 = float(np.percentile(lat, 50)), float(np.percentile(lat, 95))
    return m
