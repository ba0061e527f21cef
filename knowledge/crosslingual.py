"""Questions about pages in the other language: the ERP glossary between Chinese and English terms.

The default embedding model is English, and many manual pages exist only in English, so a Chinese question
gets an English rendering of the ERP terms it contains (a glossary, `data/glossary_zh_en.tsv`, longest
match first). The rendering is what the dense side embeds and is added to the lexical query; Chinese
pages are still matched by the Chinese words themselves. The other way round, an English question about
pages written only in Chinese searches them with the Chinese terms whose English words it names
(`reverse_glossary`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from knowledge.loaders import detect_lang

_GLOSSARY = Path(__file__).parent / "data" / "glossary_zh_en.tsv"


@cache
def _terms() -> list[tuple[str, str]]:
    pairs = []
    for line in _GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        zh, en = line.split("\t", 1)
        pairs.append((zh.strip(), en.strip()))
    return sorted(pairs, key=lambda p: -len(p[0]))  # longest first: 供应商账单 before 账单


def glossary(extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The built-in glossary with the company's own Chinese phrases added (theirs win a tie)."""
    extra = list(extra)
    if not extra:
        return _terms()
    return sorted(extra + _terms(), key=lambda p: -len(p[0]))


def glossary_matches(question: str, terms: Sequence[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """The glossary terms found in `question` as (Chinese term, English words), in question order.

    A term that begins and ends inside two different words is a false match: 定金 (deposit) is not in
    固定金额 (固定 | 金额). One aligned end is enough, as jieba splits some compounds oddly (收 | 货单)."""
    token_of = _token_spans(question)
    taken = [False] * len(question)
    found: list[tuple[int, str, str]] = []
    for zh, en in _terms() if terms is None else terms:
        start = question.find(zh)
        while start != -1:
            end = start + len(zh)
            if not any(taken[start:end]) and _whole(token_of, start, end):
                taken[start:end] = [True] * (end - start)
                found.append((start, zh, en))
            start = question.find(zh, start + 1)
    return [(zh, en) for _, zh, en in sorted(found)]


def _token_spans(text: str) -> list[tuple[int, int]]:
    """For each character, the (start, end) of the jieba word it belongs to."""
    from knowledge.lexical import segment

    spans: list[tuple[int, int]] = []
    pos = 0
    for word in segment(text):
        spans.extend([(pos, pos + len(word))] * len(word))
        pos += len(word)
    return spans


def _whole(token_of: list[tuple[int, int]], start: int, end: int) -> bool:
    """The match [start, end) lies inside one word, or begins or ends on a word boundary."""
    first, last = token_of[start], token_of[end - 1]
    return first == last or first[0] == start or last[1] == end


def english_terms(question: str) -> str:
    """The English words for the glossary terms found in `question`, in question order ("" if none)."""
    return " ".join(en for _, en in glossary_matches(question))


def english_rendering(text: str) -> str | None:
    """For a Chinese text, the English words of the ERP terms it names ("" when none); None for a text that
    is not Chinese. What tickets in two languages are compared on."""
    return english_terms(text) if detect_lang(text) == "zh" else None


# The other way: an English question about pages written only in Chinese (most of a Chinese company's
# manuals). The glossary's English words, read back, give the Chinese terms to search those pages with.
LATIN_WORDS = re.compile(r"[A-Za-z0-9]+")
CJK_WORDS = re.compile(r"[\u3400-\u9fff]+")


@dataclass(frozen=True)
class ChineseTerm:
    english: frozenset[str]  # the glossary's English words, as index terms
    chinese: str  # the term, plus the Chinese manual words of a company phrase (红冲 -> 贷项通知单)
    lead: tuple[str, str] | None = None  # its first two English words: the name the glossary gives first


def reverse_glossary(terms: Sequence[tuple[str, str]]) -> list[ChineseTerm]:
    """The glossary read from English to Chinese; terms without English words are left out."""
    from knowledge.lexical import tokenize

    out = []
    for zh, words in terms:
        tokens = tokenize(" ".join(LATIN_WORDS.findall(words)))
        if tokens:
            chinese = " ".join([zh, *CJK_WORDS.findall(words)])
            lead = (tokens[0], tokens[1]) if len(tokens) > 2 else None
            out.append(ChineseTerm(frozenset(tokens), chinese, lead))
    return out


def adjacent_pairs(tokens: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(tokens, tokens[1:], strict=False))


def chinese_matches(
    words: Iterable[str], reverse: Sequence[ChineseTerm], pairs: Iterable[tuple[str, str]] = ()
) -> list[ChineseTerm]:
    """The terms whose English words are all among `words` (index terms of the question and of its
    thesaurus expansion), or whose first two words stand side by side in it (`pairs`): 年假 is "annual
    leave time off". Not any two: "time off" would fetch 病假 (sick time off) and every other kind of
    leave; nor just some words: "lead time" must not fetch 休假 (time off)."""
    have, pairs = set(words), set(pairs)
    return [t for t in reverse if t.english <= have or t.lead in pairs]
