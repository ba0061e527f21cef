"""A persisted BM25 index that reads Chinese and English, fast at 100k passages.

Chinese is segmented into words (jieba) with question words dropped, and words longer than two characters
also add their character bigrams (robust to segmentation differences between questions and manuals:
入库单/入库 match on 入库); Latin words are lowercased, lightly stemmed and stripped
of stop words. Postings live in a scipy CSC matrix (passages x terms) of precomputed BM25 weights, so a
query is a handful of array slices and one `np.bincount`: a few milliseconds at 100k passages.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_START = "\u3400"

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "without",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "done",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "not",
        "no",
        "yes",
        "any",
        "some",
        "all",
        "each",
        "every",
        "also",
        "just",
        "only",
        "very",
        "too",
        "than",
        "more",
        "most",
        "such",
        "own",
        "same",
        "other",
        "s",
        "t",
        "don",
        "doesn",
        "didn",
        "isn",
        "aren",
        "wasn",
        "weren",
        "won",
        "wouldn",
        "shouldn",
        "couldn",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "get",
        "got",
        "make",
        "let",
        "want",
        "need",
        "know",
        "tell",
        "way",
        "really",
    ]
)


def _stem(word: str) -> str:
    """Light suffix stripping so invoice/invoices/invoicing and receive/received meet."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


# Question words and fillers that say nothing about the topic ("怎么", "能不能", "系统里").
_ZH_STOP_TEXT = """怎么 怎么办 怎样 怎么样 如何 什么 为什么 哪里 哪儿 哪个 哪些 谁 吗 呢 吧 啊 呀 的 地 得 了 着 过 我 我们 你 你们
    他 她 它 他们 能 能不能 可以 可不可以 要 是 在 和 与 及 把 被 就 都 也 还 又 再 让 给 对 从 到 这 那 这个 那个
    一下 一个 请问 请 有 没有 会 该 应该 需要 想 用 系统 里 上 下 中 时候 之后 以后 后 前 弄 做 办 设 能否"""
ZH_STOP_WORDS = frozenset(_ZH_STOP_TEXT.split())
_jieba = None


def _top_rows(scores: np.ndarray, postings: Sequence[np.ndarray], k: int) -> np.ndarray:
    """The (at most) k best-scoring rows with a score above zero, best first, equal scores by row.

    Partitioning all n scores costs 0.5-0.9 ms at 100k passages, most of a BM25 query. One term's
    postings are distinct rows, so the k-th best score among them is a floor for the k-th best overall:
    only rows at or above it can be in the top k, and there are few. The shortest postings list longer
    than k is cheapest to partition and, being the rarest term's, gives the highest floor."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    longer = [p for p in postings if len(p) > k]
    if longer:
        rare = min(longer, key=len)
        floor = np.partition(scores[rare], len(rare) - k)[len(rare) - k]
        rows = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores > 0)
    else:  # at most k rows per term: the union is small
        rows = np.unique(np.concatenate(postings))
        rows = rows[scores[rows] > 0]
    values = scores[rows]
    if len(rows) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values > kth
        keep[np.flatnonzero(values == kth)[: k - int(keep.sum())]] = True  # ties at the cut: lowest rows
        rows, values = rows[keep], values[keep]
    return rows[np.lexsort((rows, -values))]


def segment(run: str) -> list[str]:
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba.Tokenizer()
    return _jieba.lcut(run)


def tokenize(text: str) -> list[str]:
    """Index terms: stemmed Latin words without stop words; Chinese words (jieba) without question words,
    plus the character bigrams of longer words so 入库单 and 入库 still meet."""
    if len(text) <= _MEMO_CHARS:
        return list(_tokenize_short(text))
    return _tokenize(text)


# One search tokenizes its question a dozen times over (BM25 per language, idf mass, page coverage,
# section choice) and the headings of the sections it weighs; passages at ingest are longer and pass by.
_MEMO_CHARS = 300


@functools.lru_cache(maxsize=8192)
def _tokenize_short(text: str) -> tuple[str, ...]:
    return tuple(_tokenize(text))


def _tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        tok = match.group(0)
        if tok[0] >= _CJK_START:
            for word, inside in _chinese_words(tok):
                out.append(word)
                out.extend(inside)
        elif tok not in STOP_WORDS:
            tok = tok.replace("’", "'").split("'")[0]
            if tok and tok not in STOP_WORDS:
                out.append(_stem(tok))
    return out


def subwords(text: str) -> frozenset[str]:
    """The character bigrams `tokenize` adds inside `text`'s longer Chinese words, less any that is a word
    of `text` itself: 报价单 gives 报价 and 价单."""
    if len(text) <= _MEMO_CHARS:
        return _subwords_short(text)
    return _subwords(text)


@functools.lru_cache(maxsize=4096)
def _subwords_short(text: str) -> frozenset[str]:
    return _subwords(text)


def _subwords(text: str) -> frozenset[str]:
    words: set[str] = set()
    inside: set[str] = set()
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", text).lower()):
        if match.group(0)[0] >= _CJK_START:
            for word, bigrams in _chinese_words(match.group(0)):
                words.add(word)
                inside.update(bigrams)
    return frozenset(inside - words)


def _chinese_words(run: str) -> Iterator[tuple[str, list[str]]]:
    """The index words of a run of Chinese characters (jieba's, without question words), each with the
    character bigrams inside it when it is longer than two."""
    for word in segment(run):
        if word not in ZH_STOP_WORDS:
            yield word, [word[i : i + 2] for i in range(len(word) - 1)] if len(word) > 2 else []


class LexicalIndex:
    """BM25 (k1, b) over passages identified by string ids; persisted as two files under `directory`."""

    def __init__(self, directory: Path | None = None, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.directory = directory
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self.vocab: dict[str, int] = {}
        self._tf = sparse.csr_matrix((0, 0), dtype=np.float32)  # passages x terms, raw counts
        self._weights = sparse.csc_matrix((0, 0), dtype=np.float32)
        self.idf = np.zeros(0, dtype=np.float32)
        self._pending: list[sparse.csr_matrix] = []
        self._dirty = False
        self._row_cache: dict[str, int] | None = None
        if directory is not None and (directory / "bm25.npz").exists():
            self._load()

    def __len__(self) -> int:
        return len(self.ids)

    # --- building -----------------------------------------------------------------------------------

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        self.add_tokenized(ids, [tokenize(t) for t in texts])

    def add_tokenized(self, ids: Sequence[str], token_lists: Iterable[list[str]]) -> None:
        rows, cols, vals = [], [], []
        for row, tokens in enumerate(token_lists):
            for term, count in Counter(tokens).items():
                col = self.vocab.get(term)
                if col is None:
                    col = self.vocab[term] = len(self.vocab)
                rows.append(row)
                cols.append(col)
                vals.append(count)
        new = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (np.asarray(rows), np.asarray(cols))),
            shape=(len(ids), len(self.vocab)),
        )
        # Stacked and re-weighted once, on the next query or save: ingesting 100k passages in batches
        # must not redo the whole matrix per batch.
        self._pending.append(new)
        self.ids.extend(ids)
        self._row_cache = None
        self._dirty = True

    def remove(self, ids: Iterable[str]) -> None:
        drop = set(ids)
        if not drop:
            return
        self._ensure()
        keep = np.fromiter((i not in drop for i in self.ids), dtype=bool, count=len(self.ids))
        if keep.all():
            return
        self._tf = self._tf[keep]
        self.ids = [i for i, k in zip(self.ids, keep, strict=True) if k]
        self._row_cache = None
        self._dirty = True

    def clear(self) -> None:
        self.ids, self.vocab, self._pending = [], {}, []
        self._tf = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._row_cache = None
        self._dirty = True

    def _ensure(self) -> None:
        if not self._dirty:
            return
        ncols = len(self.vocab)
        mats = ([self._tf] if self._tf.shape[0] else []) + self._pending
        for m in mats:
            m.resize((m.shape[0], ncols))
        self._tf = (
            sparse.vstack(mats, format="csr") if mats else sparse.csr_matrix((0, ncols), dtype=np.float32)
        )
        self._pending = []
        self._reweight()
        self._dirty = False

    def _reweight(self) -> None:
        tf = self._tf
        n = tf.shape[0]
        if n == 0:
            self._weights = sparse.csc_matrix(tf.shape, dtype=np.float32)
            self.idf = np.zeros(tf.shape[1], dtype=np.float32)
            return
        df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * lengths / max(lengths.mean(), 1.0))
        row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
        data = tf.data * (self.k1 + 1) / (tf.data + norm[row_of]) * self.idf[tf.indices]
        self._weights = sparse.csr_matrix(
            (data.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape
        ).tocsc()
        self._weights.sort_indices()  # `search` bisects each term's postings

    # --- querying -----------------------------------------------------------------------------------

    def query_terms(self, question: str) -> tuple[list[int], int]:
        """Known term columns of the question (with repeats) and how many of its terms the index lacks."""
        self._ensure()
        known, unknown = [], 0
        for term in tokenize(question):
            col = self.vocab.get(term)
            if col is None or self.idf[col] <= 0:
                unknown += 1
            else:
                known.append(col)
        return known, unknown

    def mass(self, text: str, subword_weight: float = 1.0) -> float:
        """The idf weight of a query's terms (unknown terms count as the rarest): what a passage holding
        each term once scores, roughly, its `subwords` weighed as `search` weighs them. Dividing BM25 by
        it puts different queries on one scale."""
        cols, unknown = self.query_terms(text)
        max_idf = float(self.idf.max()) if self.idf.size else 0.0
        weight = self._term_weight(text, subword_weight)
        return sum(float(self.idf[c]) * weight(c) for c in cols) + unknown * max_idf

    def _term_weight(self, text: str, subword_weight: float) -> Callable[[int], float]:
        """How much each of `text`'s term columns counts: `subword_weight` for its `subwords`, else 1."""
        if subword_weight == 1.0:
            return lambda _col: 1.0
        inside = {self.vocab[t] for t in subwords(text) if t in self.vocab}
        return lambda col: subword_weight if col in inside else 1.0

    def named_share(self, text: str, words: set[str]) -> float:
        """The idf-weighted share of `text`'s known terms (a page title, say) that are among `words`
        (index terms of a question): 0.0 when the text has no known term."""
        self._ensure()
        total = found = 0.0
        for term in dict.fromkeys(tokenize(text)):
            col = self.vocab.get(term)
            if col is None or self.idf[col] <= 0:
                continue
            total += float(self.idf[col])
            if term in words:
                found += float(self.idf[col])
        return found / total if total > 0 else 0.0

    def search(
        self, question: str, k: int = 100, allowed: np.ndarray | None = None, subword_weight: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-k rows by BM25: (rows, scores, coverage). Coverage is the idf-weighted share of the
        question's terms that the passage contains (unknown terms count as the rarest), in [0, 1].
        `allowed` (a boolean array over rows, see `rows_where`) keeps the top k among those rows only.
        `subword_weight` scales the question's `subwords` in the score (not in coverage)."""
        cols, unknown = self.query_terms(question)
        n = len(self.ids)
        if not cols or n == 0:
            empty = np.zeros(0)
            return empty.astype(np.int64), empty, empty
        counts = Counter(cols)
        weight = self._term_weight(question, subword_weight)
        w = self._weights
        idx_parts, val_parts = [], []
        for col, qtf in counts.items():
            start, end = w.indptr[col], w.indptr[col + 1]
            idx_parts.append(w.indices[start:end])
            val_parts.append(w.data[start:end] * (qtf * weight(col)))
        scores = np.bincount(np.concatenate(idx_parts), weights=np.concatenate(val_parts), minlength=n)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        top = _top_rows(scores, idx_parts, k)
        # Coverage of the top rows only, looked up in each term's postings (sorted rows).
        covered = np.zeros(len(top))
        for col, rows in zip(counts, idx_parts, strict=True):
            if not len(rows):  # a term whose passages were all removed
                continue
            at = np.minimum(np.searchsorted(rows, top), len(rows) - 1)
            covered += np.where(rows[at] == top, float(self.idf[col]), 0.0)
        max_idf = float(self.idf.max()) if self.idf.size else 1.0
        total = float(sum(self.idf[c] for c in counts)) + unknown * max_idf
        coverage = covered / total if total > 0 else np.zeros_like(covered)
        return top, scores[top], coverage

    def rows_where(self, ids: set[str] | frozenset[str]) -> np.ndarray:
        """A boolean mask over the index's rows: True where the row's passage id is in `ids`."""
        return np.fromiter((pid in ids for pid in self.ids), dtype=bool, count=len(self.ids))

    def coverage_of(self, question: str, groups: Sequence[Sequence[str]]) -> list[float]:
        """For each group of passage ids (say, all passages of one page), the idf-weighted share of the
        question's terms found anywhere in the group (unknown terms count as the rarest)."""
        return self.coverage_many([[(question, "")]], groups)[0]

    def coverage_many(
        self, questions: Sequence[Sequence[tuple[str, str]]], groups: Sequence[Sequence[str]]
    ) -> list[list[float]]:
        """`coverage_of` for several questions over the same groups, walking the groups once. A question
        is given as units (text, alternative): a term of the text also counts as found when any term of
        its alternative is (a Chinese ERP term is covered by a page that names its English words)."""
        self._ensure()
        max_idf = float(self.idf.max()) if self.idf.size else 0.0
        asked: list[list[tuple[float, list[int]]]] = []  # per question: (weight, columns that cover it)
        for units in questions:
            terms = []
            for text, alternative in units:
                alt = self.query_terms(alternative)[0] if alternative else []
                for term in dict.fromkeys(tokenize(text)):
                    col = self.vocab.get(term)
                    known = col is not None and self.idf[col] > 0
                    terms.append((float(self.idf[col]) if known else max_idf, ([col] if known else []) + alt))
            asked.append(terms)
        uniq = sorted({c for terms in asked for _, cols in terms for c in cols})
        if not uniq or not groups:
            return [[0.0 for _ in groups] for _ in questions]
        where = {c: i for i, c in enumerate(uniq)}
        present = self._terms_present([self._rows(ids) for ids in groups], np.asarray(uniq))
        out = []
        for terms in asked:
            total = sum(weight for weight, _ in terms)
            if total <= 0:
                out.append([0.0] * len(groups))
                continue
            found = np.zeros(len(groups))
            for weight, cols in terms:
                if cols:
                    found += weight * present[:, [where[c] for c in cols]].any(axis=1)
            out.append([float(v) for v in found / total])
        return out

    def _terms_present(self, groups: Sequence[list[int]], cols: np.ndarray) -> np.ndarray:
        """groups x cols: True where a row of the group holds the term. Read off the groups' own rows of
        the passage matrix (a few hundred rows), not the terms' postings, which at 100k passages run to
        thousands of rows for a common word."""
        present = np.zeros((len(groups), len(cols)), dtype=bool)
        rows = np.fromiter((r for g in groups for r in g), dtype=np.int64)
        if not len(rows):
            return present
        group_of = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        indptr, indices = self._tf.indptr, self._tf.indices
        starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
        # Every stored term of every row, flattened: row r's entries are indices[starts[r]:starts[r]+len].
        flat = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        terms, owners = indices[flat], np.repeat(group_of, lengths)
        pos = np.minimum(np.searchsorted(cols, terms), len(cols) - 1)
        hit = cols[pos] == terms
        present[owners[hit], pos[hit]] = True
        return present

    def _rows(self, ids: Sequence[str]) -> list[int]:
        row_of = self._row_of()
        return [row_of[i] for i in ids if i in row_of]

    def _row_of(self) -> dict[str, int]:
        if self._row_cache is None or len(self._row_cache) != len(self.ids):
            self._row_cache = {pid: row for row, pid in enumerate(self.ids)}
        return self._row_cache

    # --- persistence --------------------------------------------------------------------------------

    def save(self) -> None:
        if self.directory is None:
            return
        self._ensure()
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / "bm25.tmp.npz"
        tf = self._tf
        np.savez(tmp, data=tf.data, indices=tf.indices, indptr=tf.indptr, shape=np.asarray(tf.shape))
        meta_tmp = self.directory / "bm25.tmp.json"
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        meta_tmp.write_text(
            json.dumps({"ids": self.ids, "vocab": vocab}, ensure_ascii=False), encoding="utf-8"
        )
        os.replace(meta_tmp, self.directory / "bm25.json")
        os.replace(tmp, self.directory / "bm25.npz")

    def _load(self) -> None:
        assert self.directory is not None
        meta = json.loads((self.directory / "bm25.json").read_text(encoding="utf-8"))
        with np.load(self.directory / "bm25.npz") as arrays:
            shape = tuple(int(x) for x in arrays["shape"])
            self._tf = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        self.ids = list(meta["ids"])
        self.vocab = {term: i for i, term in enumerate(meta["vocab"])}
        if len(self.ids) != self._tf.shape[0]:
            raise ValueError("the lexical index files disagree; run `erp-coach ingest --reset`")
        self._dirty = True
        self._ensure()
