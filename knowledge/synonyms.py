"""Questions in the employees' words, matched to the manuals' words: a search thesaurus.

Employees write "FOB on the invoice" where the manual says "Incoterms", or "goods issue" (SAP) where it
says "delivery order". The small English model does not bridge such gaps, so an English question is
expanded with the manual words of the phrases it contains (`data/synonyms_en.tsv`, plus the company's
own list, `SYNONYMS_FILE`). The expansion is added to both the lexical and the dense query; for term
coverage (abstention) a phrase counts as found on a page that names its manual words, as a Chinese ERP
term does with its English words (see `crosslingual`). The company's Chinese phrases (红冲 for
贷项通知单 / credit note) join that zh→en glossary: their English words render the question for the
English pages and the model, their Chinese words are searched on the Chinese pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from knowledge.lexical import tokenize

BUILTIN = Path(__file__).parent / "data" / "synonyms_en.tsv"
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_CJK = re.compile(r"[\u3400-\u9fff]")


class SynonymsError(Exception):
    """The company's synonyms file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class SynonymMatch:
    phrase: str  # as written in the question
    expansion: str  # the manual's words
    start: int
    end: int


class Thesaurus:
    """Phrases (as sequences of words by their index terms, so "bills of material" meets "bill of
    materials") and the manual words they stand for. Longest phrase first; a phrase is matched on whole
    words only, its stop words included."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        by_terms: dict[tuple[str, ...], list[str]] = {}
        # Chinese phrases are matched as the glossary's terms are (see `crosslingual.glossary`).
        self.chinese: list[tuple[str, str]] = []
        for phrase, expansion in entries:
            if _CJK.search(phrase):
                self.chinese.append((phrase, expansion.strip()))
                continue
            terms = _word_keys(phrase)
            if terms and expansion.strip():
                by_terms.setdefault(terms, []).append(expansion.strip())
        self._entries = {terms: " ".join(dict.fromkeys(exps)) for terms, exps in by_terms.items()}
        self._longest = max((len(t) for t in self._entries), default=0)

    def __len__(self) -> int:
        return len(self._entries) + len(self.chinese)

    @classmethod
    def load(cls, extra: Path | None = None) -> Thesaurus:
        """The built-in list, plus the company's file when given (its lines add to the built-in ones)."""
        entries = list(_builtin())
        if extra is not None:
            entries += read_file(extra)
        return cls(entries)

    def matches(self, question: str) -> list[SynonymMatch]:
        """The phrases found in an English question, in question order, longest first where they overlap."""
        if not self._entries:
            return []
        words = [(_word_key(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(question.lower())]
        found: list[SynonymMatch] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(w for w, _, _ in words[i : i + n])
                expansion = self._entries.get(key)
                if expansion is not None:
                    start, end = words[i][1], words[i + n - 1][2]
                    found.append(SynonymMatch(question[start:end], expansion, start, end))
                    i += n
                    break
            else:
                i += 1
        return found


def _word_key(word: str) -> str:
    """A word as phrases match it: its index term ("bills" and "bill" meet), or itself where it has none.
    Stop words stay: "make to order" is not "order", nor "clock in" "clock"."""
    terms = tokenize(word)
    return terms[0] if len(terms) == 1 else word


def _word_keys(phrase: str) -> tuple[str, ...]:
    return tuple(_word_key(w) for w in _WORD.findall(phrase.lower()))


def read_file(path: Path) -> list[tuple[str, str]]:
    """`phrase<TAB>manual words` lines; `#` comments and blank lines are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = Path(path).read_text(encoding="gb18030")
    except OSError as exc:
        raise SynonymsError(f"cannot read the synonyms file {path}: {exc.strerror or exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" not in line:
            raise SynonymsError(f"{path}:{n}: expected 'phrase<TAB>manual words', got {line.strip()!r}")
        phrase, expansion = (part.strip() for part in line.split("\t", 1))
        if not phrase or not expansion:
            raise SynonymsError(f"{path}:{n}: both the phrase and its manual words are needed")
        out.append((phrase, expansion))
    return out


@cache
def _builtin() -> tuple[tuple[str, str], ...]:
    return tuple(read_file(BUILTIN)) if BUILTIN.exists() else ()
