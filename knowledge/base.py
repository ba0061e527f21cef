"""The knowledge base: ingest manuals and FAQs incrementally, search them, answer or abstain.

Storage under `data_dir`: `chroma/` (passage vectors; or a Chroma server), `lexical/bm25.*` (the BM25
index) and `lexical/passages.json` (passage texts, metadata and the per-file content hashes that make
re-ingestion incremental). All three are updated together by `ingest`, `add_faq` and `remove_faq`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from knowledge.chunking import chunk_document
from knowledge.crosslingual import (
    CJK_WORDS,
    LATIN_WORDS,
    ChineseTerm,
    adjacent_pairs,
    chinese_matches,
    glossary,
    glossary_matches,
    reverse_glossary,
)
from knowledge.embedding import Embedder
from knowledge.index import VectorIndex
from knowledge.intent import same_kind
from knowledge.lexical import LexicalIndex, tokenize
from knowledge.loaders import (
    SAVE_AS,
    SUPPORTED_SUFFIXES,
    Document,
    LoadError,
    detect_lang,
    load_file,
    reader_signature,
)
from knowledge.ranking import Evidence, SearchTuning, decide
from knowledge.reasons import Reason, Why
from knowledge.scope import Scope, in_scope, parse_scope
from knowledge.synonyms import SynonymMatch, SynonymsError, Thesaurus
from knowledge.types import Hit, IngestReport, SearchResult

ProgressCallback = Callable[[int, int, int], None]  # (files done, files total, passages embedded so far)

_STORE_VERSION = 1
_EMBED_BATCH = 256
_SKIP_NAMES = ("readme", "license", "licence", "changelog")
_SCOPE_CACHE = 8  # scopes whose passage sets (and vectors) are kept between searches


@dataclass
class KnowledgeConfig:
    data_dir: Path
    chroma_url: str = ""
    role_folders: Mapping[str, str] = field(default_factory=dict)
    tuning: SearchTuning = field(default_factory=SearchTuning)
    synonyms_file: Path | None = None  # the company's own phrases, added to the built-in thesaurus


@dataclass
class _Passage:
    id: str
    file: str  # manifest key: absolute path of the file, or "faq:<id>" for FAQs added at run time
    source: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    kind: str = "manual"
    lang: str = "en"
    roles: tuple[str, ...] = ()
    answer: str | None = None
    cites: str | None = None
    counterpart: str | None = None


class KnowledgeBaseError(Exception):
    """The stored indexes cannot be used as they are; the message says what to run."""


@dataclass
class _ScopeView:
    """The passages a scope admits, with what a scoped search needs of them; valid until the next change
    of the indexes (`_rebuild_lookups` drops every view)."""

    scope: Scope
    pids: frozenset[str]
    sources: frozenset[str]
    rows: np.ndarray  # lexical rows in scope (boolean mask)
    vector_ids: list[str] | None = None  # in-scope vectors, fetched from Chroma by id on first use
    vectors: np.ndarray | None = None


class KnowledgeBase:
    def __init__(self, config: KnowledgeConfig, embedder: Embedder) -> None:
        self.config = config
        self.embedder = embedder
        self.tuning = config.tuning
        self._lock = threading.RLock()
        lexical_dir = Path(config.data_dir) / "lexical"
        self._store_path = lexical_dir / "passages.json"
        self._vectors = VectorIndex(Path(config.data_dir) / "chroma", url=config.chroma_url)
        self._files: dict[str, dict] = {}  # key -> {"hash", "root", "source", "ids"}
        self._passages: dict[str, _Passage] = {}
        self._stored_model: str | None = None
        self._store_stamp: tuple[int, int] | None = None
        self._scopes: dict[Scope, _ScopeView] = {}
        self._whole: _ScopeView | None = None
        try:
            self._lexical = LexicalIndex(lexical_dir)
            self._load_store()
        except (ValueError, KeyError, OSError) as exc:
            raise KnowledgeBaseError(
                f"the index under {config.data_dir} is unreadable ({exc}); run `erp-coach ingest --reset`"
            ) from None
        self._lexical.directory = lexical_dir
        try:
            self._thesaurus = Thesaurus.load(config.synonyms_file)
        except SynonymsError as exc:
            raise KnowledgeBaseError(str(exc)) from None
        self._glossary = glossary(self._thesaurus.chinese)
        self._reverse_glossary = reverse_glossary(self._glossary)
        self._rebuild_lookups()

    def close(self) -> None:
        """Release the vector store (the indexes on disk stay). A command or test that opens a knowledge
        base for a while closes it; the bot closes its own on shutdown."""
        with self._lock:  # an ingest or search in progress finishes first
            self._vectors.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- status ---------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._passages)

    @property
    def sources(self) -> list[str]:
        return sorted(self._by_source)

    def folders(self) -> list[str]:
        """The top-level folders that hold indexed pages (what a search scope usually names)."""
        self.refresh()
        with self._lock:
            return sorted(
                {s.split("/", 1)[0] for s in self._by_source if "/" in s and not s.startswith("faq:")}
            )

    def empty_scopes(self, scope: Scope | str) -> list[str]:
        """The prefixes of `scope` under which no page is indexed (a typo, or a folder not ingested)."""
        self.refresh()
        with self._lock:
            sources = list(self._by_source)
        return [prefix for prefix in parse_scope(scope) if not any(in_scope(s, (prefix,)) for s in sources)]

    # --- ingestion --------------------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[str | Path], reset: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Index files and folders (each folder is a knowledge root: sources are relative to it).

        Unchanged files cost nothing and changed files are replaced. Files that no longer exist (whatever
        root they were ingested from, so a moved or renamed folder leaves nothing behind) or that are gone
        from an ingested folder are removed from both indexes. Files that cannot be loaded are skipped with
        a reason; if an earlier version was indexed, it is removed too, so the bot stops quoting it."""
        started = time.perf_counter()
        report = IngestReport()
        paths = list(paths)  # read twice: discovery and the roots
        with self._lock:
            if reset or self._model_changed():
                self._clear()
            files, unreadable = discover(paths, report)
            report.files_seen = len(files)
            seen_keys = {str(path) for path, _ in files}
            roots = self._roots(paths)
            gone = [
                key
                for key in self._files
                if not key.startswith("faq:")
                and key not in seen_keys
                and not any(_is_under(key, folder) for folder in unreadable)
                and (any(_is_under(key, root) for root in roots) or _missing_on_disk(key))
            ]
            for key in gone:
                self._remove_file(key)
            report.files_removed = len(gone)

            pending: list[tuple[_Passage, str, str]] = []  # (passage, embed text, lexical text)
            role_sig = json.dumps(sorted(dict(self.config.role_folders).items()))
            done = 0

            def flush() -> None:
                if pending:
                    self._add_passages(pending)
                    report.chunks += len(pending)
                    pending.clear()

            def skip(path: Path, root: Path, reason: Reason, *, withdraw: bool = True) -> None:
                # Keeping the earlier version would go on quoting text the admin has emptied or broken.
                # A file that cannot be read at all (permissions, a share not answering) says nothing
                # about its content: its earlier version stays until it can be read again.
                if str(path) in self._files:
                    if withdraw:
                        self._remove_file(str(path))
                        report.files_removed += 1
                        reason = reason.with_note("earlier_version_removed")
                    else:
                        reason = reason.with_note("earlier_version_kept")
                report.skipped.append((_display(path, root), reason))
                if progress:
                    progress(done, len(files), report.chunks + len(pending))

            for path, root in files:
                key = str(path)
                done += 1
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    unreadable = Reason("unreadable_file", {"detail": str(exc.strerror or exc)})
                    skip(path, root, unreadable, withdraw=False)
                    continue
                reader = reader_signature(path)
                digest = hashlib.sha256(data + (role_sig + reader).encode()).hexdigest()
                entry = self._files.get(key)
                if entry is not None and entry["hash"] == digest:
                    report.files_unchanged += 1
                    if progress:
                        progress(done, len(files), report.chunks + len(pending))
                    continue
                try:
                    left_out: list[Reason] = []
                    docs = load_file(path, root, self.config.role_folders, warn=left_out.append)
                except LoadError as exc:
                    skip(path, root, exc.reason)
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
                    error = {"error": exc.__class__.__name__, "detail": str(exc)}
                    skip(path, root, Reason("unexpected_error", error))
                    continue
                if entry is not None:
                    self._remove_file(key)
                ids = []
                for doc in docs:
                    for passage, embed_text, lex_text in self._passages_for(doc, key):
                        ids.append(passage.id)
                        pending.append((passage, embed_text, lex_text))
                self._files[key] = {
                    "hash": digest,
                    "reader": reader,
                    "root": str(root),
                    "source": docs[0].source,
                    "ids": ids,
                }
                report.files_indexed += 1
                if entry is not None and _reread(entry, data, role_sig, reader):
                    report.files_reread += 1
                report.left_out.extend((_display(path, root), what) for what in left_out)
                if len(pending) >= _EMBED_BATCH:
                    flush()
                if progress:
                    progress(done, len(files), report.chunks + len(pending))
            flush()
            self._commit()
        report.seconds = time.perf_counter() - started
        return report

    def add_faq(
        self,
        faq_id: str,
        question: str,
        answer: str,
        roles: Sequence[str] = (),
        lang: str | None = None,
        source: str | None = None,
    ) -> None:
        """Index one FAQ entry at once (replacing an entry with the same id); searchable on return."""
        key = f"faq:{faq_id}"
        doc = Document(
            source=key,
            title=question.strip(),
            lang=lang or detect_lang(question + answer),
            roles=tuple(r.strip().lower() for r in roles if r.strip()),
            kind="faq",
            faq_id=str(faq_id),
            question=question.strip(),
            answer=answer.strip(),
            cites=source,
        )
        with self._lock:
            self.refresh()  # start from the store on disk, or this write would undo another process's
            self._remove_file(key)
            items = list(self._passages_for(doc, key))
            self._add_passages(items)
            self._files[key] = {"hash": "", "root": "", "source": key, "ids": [p.id for p, _, _ in items]}
            self._commit()

    def remove_faq(self, faq_id: str) -> bool:
        """Remove a FAQ entry added with `add_faq`; False when there was none."""
        key = f"faq:{faq_id}"
        with self._lock:
            self.refresh()  # another process may have removed it, or written since this one last looked
            if key not in self._files:
                return False
            self._remove_file(key)
            self._commit()
            return True

    # --- search ---------------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        role: str | None = None,
        lang: str | None = None,
        scope: Scope | str | None = None,
    ) -> SearchResult:
        """Rank pages for `question` (the asker's `role` boosts its pages) and decide to answer or abstain.

        `scope` (source prefixes such as `("财务", "inventory")`; empty or None = everything) restricts the
        search to those pages: both sides rank only in-scope passages, so out-of-scope pages can neither
        crowd the in-scope ones out of the candidate lists nor be answered with; when nothing in scope
        matches well enough, the search abstains."""
        started = time.perf_counter()
        self.refresh()
        tuning = self.tuning
        question = question.strip()
        qlang = lang if lang in ("zh", "en") else detect_lang(question)
        role = role.lower() if role else None
        scope = parse_scope(scope or ())
        if not question or not self._passages:
            why = Why(False, "no_question" if not question else "empty_knowledge_base")
            return SearchResult(question, role, qlang, False, [], why, (time.perf_counter() - started) * 1000)
        view = self._scope_view(scope) if scope else None
        if view is not None and not view.pids:
            why = Why(False, "nothing_in_scope", {"scope": ", ".join(scope)})
            return SearchResult(question, role, qlang, False, [], why, (time.perf_counter() - started) * 1000)
        # A Chinese question also searches with the English words of the ERP terms it names: the model is
        # English and many pages exist only in English.
        expand = qlang == "zh" and tuning.crosslingual and tuning.mode == "hybrid"
        terms = glossary_matches(question, self._glossary) if expand else []
        rendering = None
        if terms:
            with self._lock:  # its share is weighed with the index's idf
                rendering = _Rendering.of(question, terms, self._lexical)
        english = rendering.text if rendering else ""
        # A question in the employees' words also searches with the manual's words for them (English
        # thesaurus; the company's Chinese phrases with Chinese manual words).
        synonyms: list[SynonymMatch] = []
        if qlang == "en" and tuning.synonyms and tuning.mode == "hybrid":
            synonyms = self._thesaurus.matches(question)
        elif terms:
            synonyms = _chinese_synonyms(question, terms)
        also = " ".join(m.expansion for m in synonyms)
        own = f"{question} {also}" if also else question
        # An English question also searches the Chinese pages with the Chinese words of the ERP terms it
        # names: most of a Chinese company's manuals exist only in Chinese, which the model reads poorly.
        crossing = tuning.crosslingual and tuning.lang_fair and tuning.mode == "hybrid"
        to_chinese = qlang == "en" and crossing and self._has_chinese
        # The lexical side runs here, before the encode, and not on a worker thread beside it: the model's
        # forward pass is thousands of Python calls, and a second thread taking the GIL between them slowed
        # the encode more than BM25 costs (100k passages, alternating both ways question by question:
        # full-search p95 34.8 -> 30.4 and 37.5 -> 32.3 ms, p50 0.6 ms faster; Odoo corpus p95 26.9 -> 25.0).
        chinese: _Rendering | None = None
        lexical_results: list[_LexicalResult] = []
        if tuning.mode != "dense":
            if to_chinese:
                chinese, lexical_results = self._english_searches(question, synonyms, own, view)
            elif rendering and tuning.lang_fair:
                # Each page is matched in its own language: Chinese pages by the question's own words,
                # English pages by its English rendering, which stands for only `rendering.share` of it.
                queries = [(own, "zh", 1.0), (english, "en", rendering.share)]
                lexical_results = self._lexical_searches(queries, view)
            else:
                lex_query = f"{own} {english}" if english and tuning.expand_lexical else own
                lexical_results = self._lexical_searches([(lex_query, None, 1.0)], view)
        dense_text = english or (own if qlang == "en" else question)
        vec = None if tuning.mode == "lexical" else self.embedder.encode([dense_text])[0]
        dense_view = view if view is not None else self._whole_view()
        if dense_view is not None and vec is not None:
            self._load_scope_vectors(dense_view)  # a Chroma read, once per scope and index state
        with self._lock:
            hits, evidence = self._rank(
                question, vec, qlang, role, rendering, lexical_results, synonyms, view, chinese
            )
        if hits:
            why = decide(evidence, tuning)
        else:
            why = Why(False, "nothing_matched_in_scope", {"scope": ", ".join(scope)}) if scope else None
            why = why or Why(False, "nothing_matched")
        return SearchResult(
            question=question,
            role=role,
            lang=qlang,
            answered=why.answered,
            hits=hits,
            why=why,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def _rank(
        self,
        question: str,
        vec: np.ndarray | None,
        qlang: str,
        role: str | None,
        rendering: _Rendering | None,
        lexical_results: list[_LexicalResult],
        synonyms: Sequence[SynonymMatch] = (),
        view: _ScopeView | None = None,
        chinese: _Rendering | None = None,
    ) -> tuple[list[Hit], Evidence]:
        tuning = self.tuning
        k = min(tuning.candidates, len(self._passages))
        # pid -> [dense_sim, dense_rank, lex_score, lex_rank, coverage]
        cand: dict[str, list] = {}
        dense_top = 0.0
        dense_first = None  # the dense side's best passage (its list comes best first)
        d_floor, d_span = 0.0, 1.0
        if vec is not None and tuning.mode != "lexical":
            ids, sims = self._dense(vec, k, view)
            dense_first = ids[0] if len(ids) else None
            for rank, (pid, sim) in enumerate(zip(ids, sims, strict=True), 1):
                cand[pid] = [float(sim), rank, None, None, 0.0]
            dense_top = float(sims[0]) if len(sims) else 0.0
            d_floor = float(sims[-1]) if len(sims) else 0.0
            d_span = max(dense_top - d_floor, 1e-6)
        english = rendering.text if rendering else ""
        fair = bool(rendering) and tuning.lang_fair and tuning.mode == "hybrid"
        fair_en = chinese is not None  # only made for hybrid, language-fair search
        lex_value: dict[str, float] = {}  # pid -> BM25 on the scale of the result that matched it
        for result in lexical_results:
            for pid, score, rank, cov in result.entries:
                entry = cand.setdefault(pid, [None, None, None, None, 0.0])
                entry[2], entry[3], entry[4] = score, rank, cov
                lex_value[pid] = score * result.scale
        l_max = max(lex_value.values(), default=1.0) or 1.0
        coverage_top = max((c[4] for c in cand.values()), default=0.0)
        if tuning.mode == "hybrid":
            if qlang == "zh":
                wd = tuning.dense_weight_zh_expanded if english else tuning.dense_weight_zh
            else:
                wd = tuning.dense_weight_en
        else:
            # Baselines are plain: one side alone, no role, language, translation or FAQ preferences.
            wd = 1.0 if tuning.mode == "dense" else 0.0
            tuning = replace(
                tuning,
                role_boost=0.0,
                lang_boost=0.0,
                counterpart_share=0.0,
                faq_margin=-1.0,
                second_passage_weight=0.0,
            )
        # Best passage per source, with role and language preferences applied.
        best: dict[str, tuple[float, str]] = {}
        second: dict[str, float] = {}  # the score of each page's second-best candidate passage
        passage_score: dict[str, float] = {}
        for pid, (dsim, _dr, _ls, _lr, _cov) in cand.items():
            p = self._passages.get(pid)
            if p is None:
                continue
            d_norm = (dsim - d_floor) / d_span if dsim is not None else 0.0
            l_norm = lex_value.get(pid, 0.0) / l_max
            if fair:
                # The vector is the English rendering's: for a Chinese passage its similarity says nothing,
                # so it is left out; for an English one it counts for the share of the question rendered.
                d_norm = l_norm if p.lang == "zh" else rendering.share * d_norm
            elif fair_en and p.lang == "zh":
                # The vector is the English question's: a Chinese passage is judged by its Chinese terms.
                d_norm = l_norm
            score = wd * d_norm + (1 - wd) * l_norm
            if role and role in p.roles:
                score += tuning.role_boost
            if p.lang == qlang:
                score += tuning.lang_boost
            passage_score[pid] = score
            prev = best.get(p.source)
            if prev is None or score > prev[0]:
                if prev is not None:
                    second[p.source] = max(second.get(p.source, 0.0), prev[0])
                best[p.source] = (score, pid)
            else:
                second[p.source] = max(second.get(p.source, 0.0), score)
        # A page with a second matching passage is more likely about the question than one lucky passage.
        bonus = {source: tuning.second_passage_weight * extra for source, extra in second.items()}
        for source, extra in bonus.items():
            score, pid = best[source]
            best[source] = (score + extra, pid)
        # A page's translation shares its relevance (the question may be answered in either language).
        if tuning.counterpart_share > 0:
            for source, (score, _pid) in list(best.items()):
                other = self._counterpart_of.get(source)
                if other is None or (qlang == "en" and self._passages[best[source][1]].lang != "zh"):
                    # An English question gains nothing from the Chinese translation of a page.
                    continue
                if view is not None and other not in view.sources:
                    continue  # a translation outside the scope stays out
                inherited = score * tuning.counterpart_share
                if other not in best or best[other][0] < inherited:
                    other_pids = self._by_source.get(other)
                    if other_pids:
                        keep_pid = best[other][1] if other in best else other_pids[0]
                        best[other] = (inherited, keep_pid)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        # Pages that cover more of the question's terms across all their sections move up (a question often
        # names several aspects that one page spreads over several passages).
        page_cov: dict[str, float] = {}
        if tuning.mode != "dense" and ranked:
            head = ranked[: tuning.rerank_pages]
            groups = []
            for source, (_score, pid) in head:
                ids = list(self._by_source.get(source, []))
                cites = self._resolve(self._passages[pid].cites) if self._passages[pid].cites else None
                if cites:
                    ids += self._by_source.get(cites, [])
                groups.append(ids)
            # A phrase is found on a page that names it or the manual's words for it.
            phrases = _phrase_units(question, synonyms)
            other = rendering if fair else chinese  # the question's terms in the other language
            if other is not None:
                # A term also counts as found on a page that names it in the other language.
                either, own, rendered = self._lexical.coverage_many(
                    [other.units, phrases, [(other.text, "")]], groups
                )
            elif synonyms:
                [either] = self._lexical.coverage_many([phrases], groups)
            else:
                cov_query = f"{question} {english}" if english and tuning.coverage_with_english else question
                [either] = self._lexical.coverage_many([[(cov_query, "")]], groups)
            # Abstention looks at coverage in either language: with `lang_fair`, a Chinese ERP term counts
            # as found on a page that names its English words; without, the question's terms plus their
            # English words must all be found.
            for (source, _), cov in zip(head, either, strict=True):
                page_cov[source] = cov
            rank_cov = page_cov
            if other is not None:
                # What ranking looks at: each page's coverage in its own language (see `lang_fair`); a
                # page in the other language is matched by the rendering, for the share it stands for.
                rank_cov = {}
                for (source, (_, pid)), c_own, c_other in zip(head, own, rendered, strict=True):
                    same = self._passages[pid].lang == qlang
                    rank_cov[source] = c_own if same else other.share * c_other
            weight = tuning.page_coverage_weight
            if weight and tuning.mode == "hybrid":
                head = [(src, (sc + weight * rank_cov[src], pid)) for src, (sc, pid) in head]
            title_weight = tuning.title_rank_weight_zh if qlang == "zh" and tuning.mode == "hybrid" else 0.0
            if title_weight:
                asked = _asked_terms(question, rendering)
                titled = self._lexical.named_share
                head = [
                    (src, (sc + title_weight * titled(self._passages[pid].title, asked), pid))
                    for src, (sc, pid) in head
                ]
            if (weight or title_weight) and tuning.mode == "hybrid":
                ranked = sorted(head, key=lambda item: -item[1][0]) + ranked[len(head) :]
        # When a page ranks above its own translation into the question's language, the translation goes
        # first: same content, in the asker's language.
        if tuning.mode == "hybrid":
            ranked = self._question_language_first(ranked, qlang)
        if ranked and tuning.faq_margin >= 0:
            ranked = self._faq_first(ranked, cand, question, tuning, bonus)
        hits = []
        sections = _SectionChooser(self._lexical, question, passage_score, tuning)
        for source, (score, pid) in ranked[: tuning.max_hits]:
            pid = sections.best(pid, self._by_source.get(source, ()), self._passages)
            p = self._passages[pid]
            dsim, drank, lscore, lrank, _cov = cand.get(pid, [None, None, None, None, 0.0])
            cites = self._cited_page(p.cites)
            hits.append(
                Hit(
                    source=source,
                    title=p.title,
                    heading_path=p.heading_path,
                    text=p.text,
                    score=round(score, 4),
                    kind=p.kind,
                    lang=p.lang,
                    roles=p.roles,
                    answer=p.answer,
                    dense_rank=drank,
                    dense_score=dsim,
                    lexical_rank=lrank,
                    lexical_score=lscore,
                    cites=cites,
                    cites_title=self._passages[self._by_source[cites][0]].title if cites else None,
                )
            )
        page_coverage = max((page_cov.get(h.source, 0.0) for h in hits[:3]), default=0.0)
        # Both retrievers' first choice is the page we answer with: independent evidence that it is on topic.
        firsts = set()
        if dense_first is not None:
            firsts.add(self._page_of(dense_first))
        if lex_value:
            firsts.add(self._page_of(max(lex_value, key=lex_value.__getitem__)))
        agree = bool(hits) and firsts == {self._page_of(hits[0].source)}
        title_coverage = 0.0  # only English evidence weighs it (see `SearchTuning.title_weight_en`)
        if hits and tuning.mode == "hybrid" and qlang == "en":
            # How much of the answer's title the question names, a Chinese title by the question's terms.
            title_coverage = self._lexical.named_share(hits[0].title, _asked_terms(question, chinese))
        evidence = Evidence(
            qlang,
            dense_top,
            coverage_top,
            ranked[0][1][0] if ranked else 0.0,
            page_coverage,
            agree,
            rendered=bool(rendering),
            title_coverage=title_coverage,
        )
        return hits, evidence

    def _faq_first(
        self,
        ranked: list,
        cand: dict[str, list],
        question: str,
        tuning: SearchTuning,
        bonus: Mapping[str, float],
    ) -> list:
        """A matching FAQ entry leads when it is about as good as the best page: of those, the one whose
        question covers most of the asker's terms (not one that shares only "谁" and "审批"); equal
        coverage, up to float noise (0.9999 against 1.0), goes to the better scored. An entry that covers
        less than `faq_min_coverage` of the question, or asks a different kind of question ("报销款什么时候
        到账？" for "如何报销", "报销单提交以后还能撤回吗？" for "怎么提交报销单"), answers a neighbouring
        question: it is not preferred, and one of another kind that ranks first gives way to the best page
        however far behind (a short entry's BM25 can be well above the page it was written from). An entry
        is one passage: it is held against the pages' scores without their second-passage `bonus`."""
        window = range(min(len(ranked), tuning.max_hits))
        top_score = max(ranked[i][1][0] - bonus.get(ranked[i][0], 0.0) for i in window)

        def faq(i: int) -> _Passage | None:
            p = self._passages[ranked[i][1][1]]
            return p if p.kind == "faq" else None

        def coverage(i: int) -> float:
            return round(cand.get(ranked[i][1][1], [0.0] * 5)[4], 6)

        def fits(i: int) -> bool:
            return not tuning.faq_same_kind or same_kind(question, faq(i).title)

        close = [i for i in window if ranked[i][1][0] >= top_score - tuning.faq_margin]
        matching = [i for i in close if faq(i) and coverage(i) >= tuning.faq_min_coverage and fits(i)]
        if matching:
            lead = max(matching, key=lambda i: (coverage(i), -i))
        elif faq(0) and not fits(0):
            lead = next((i for i in window if not faq(i)), 0)
        else:
            lead = 0
        if lead:
            ranked = list(ranked)
            ranked.insert(0, ranked.pop(lead))
        return ranked

    def _page_of(self, pid_or_source: str) -> str:
        """The manual page a passage (or source) stands for: a FAQ entry stands for the page it cites."""
        p = self._passages.get(pid_or_source)
        source = p.source if p is not None else pid_or_source
        pids = self._by_source.get(source)
        first = self._passages[pids[0]] if pids else None
        if first is not None and first.kind == "faq":
            return self._cited_page(first.cites) or source
        return source

    def _english_searches(
        self, question: str, synonyms: Sequence[SynonymMatch], own: str, view: _ScopeView | None
    ) -> tuple[_Rendering | None, list[_LexicalResult]]:
        """An English question's lexical side: with Chinese terms (see `_Rendering.chinese`), each page is
        matched in its own language: English pages by the question's own words, Chinese pages by the
        Chinese terms, which stand for only `chinese.share` of it."""
        with self._lock:
            chinese = _Rendering.chinese(question, synonyms, self._reverse_glossary, self._lexical)
        if chinese is None:
            return None, self._lexical_searches([(own, None, 1.0)], view)
        return chinese, self._lexical_searches([(own, "en", 1.0), (chinese.text, "zh", chinese.share)], view)

    def _lexical_searches(
        self, queries: list[tuple[str, str | None, float]], view: _ScopeView | None = None
    ) -> list[_LexicalResult]:
        """BM25 for each (query, passage language or None for all, share). One query alone keeps raw BM25;
        a query per language is divided by its own weight so the languages share one scale. With a scope
        view, only in-scope rows are ranked (so the top k are the best in-scope passages)."""
        out = []
        with self._lock:  # an ingest in progress finishes first
            k = min(self.tuning.candidates, len(self._lexical))
            allowed = None
            if view is not None:
                allowed = view.rows if len(view.rows) == len(self._lexical) else None
                if allowed is None:  # the index changed since the view was made
                    allowed = self._lexical.rows_where(view.pids)
            for query, lang, share in queries:
                rows, scores, coverage = self._lexical.search(query, k, allowed, self.tuning.subword_weight)
                scale = (
                    share / max(self._lexical.mass(query, self.tuning.subword_weight), 1e-6) if lang else 1.0
                )
                # Passages of the other language are dropped here, before the encode, not in `_rank`.
                entries = []
                for rank, (row, score, cov) in enumerate(zip(rows, scores, coverage, strict=True), 1):
                    pid = self._lexical.ids[row]
                    p = self._passages.get(pid)
                    if p is not None and (lang is None or p.lang == lang):
                        entries.append((pid, float(score), rank, float(cov)))
                out.append(_LexicalResult(entries, scale))
        return out

    def _scope_view(self, scope: Scope) -> _ScopeView:
        """The passages `scope` admits: pages under its prefixes, FAQ entries that are under them or cite a
        page that is, and FAQ entries added at run time that cite no page. Cached per scope until the
        indexes change."""
        with self._lock:
            view = self._scopes.get(scope)
            if view is not None:
                return view
            pids = set()
            sources = set()
            for source, source_pids in self._by_source.items():
                first = self._passages[source_pids[0]]
                cited = self._cited_page(first.cites) if first.kind == "faq" else None
                # A FAQ entry that cites no page here (one added from a resolved ticket) belongs to no
                # folder: it answers in every scope, as it does unscoped.
                unplaced = first.kind == "faq" and cited is None and source.startswith("faq:")
                if in_scope(source, scope) or unplaced or (cited is not None and in_scope(cited, scope)):
                    pids.update(source_pids)
                    sources.add(source)
            frozen = frozenset(pids)
            view = _ScopeView(scope, frozen, frozenset(sources), self._lexical.rows_where(frozen))
            if len(self._scopes) >= _SCOPE_CACHE:
                self._scopes.pop(next(iter(self._scopes)))
            self._scopes[scope] = view
            return view

    def _whole_view(self) -> _ScopeView | None:
        """Every passage, as a view whose vectors the dense side ranks exactly, when the index is small
        enough (`scope_exact_limit`). Chroma's HNSW graph is rebuilt at random on each start from the
        vectors not yet persisted in it, and then misses true neighbours: on the Odoo corpus (1,968
        passages) the best passage was absent from its top 100 in some starts, so the same question was
        answered in one process and abstained in the next. Exact ranking costs ~1 ms at 20k vectors."""
        if len(self._passages) > self.tuning.scope_exact_limit:
            return None
        with self._lock:
            if self._whole is None:
                pids = frozenset(self._passages)
                rows = np.ones(len(self._lexical), dtype=bool)
                self._whole = _ScopeView((), pids, frozenset(self._by_source), rows)
            return self._whole

    def _load_scope_vectors(self, view: _ScopeView) -> None:
        """Fetch the scope's vectors by id (not with a metadata filter: ~25x slower at 100k), when the
        scope is small enough to rank exactly in numpy (`SearchTuning.scope_exact_limit`)."""
        if view.vectors is not None or len(view.pids) > self.tuning.scope_exact_limit:
            return
        ids, matrix = self._vectors.vectors(sorted(view.pids))
        if len(ids):
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.maximum(norms, 1e-12)
        view.vector_ids, view.vectors = ids, matrix

    def _dense(self, vec: np.ndarray, k: int, view: _ScopeView | None) -> tuple[list[str], np.ndarray]:
        """The dense side's top k: from Chroma unfiltered, or, within a scope, the best in-scope passages:
        ranked exactly over the scope's vectors when it is small, else from a query widened until the
        out-of-scope passages cannot crowd the in-scope ones out, then filtered in Python."""
        if view is None:
            whole = self._whole  # exact when the whole index is small (see `_whole_view`)
            if whole is None or whole.vectors is None:
                return self._vectors.query(vec, k)
            view = whole
        k = min(k, len(view.pids))
        if view.vectors is not None and view.vector_ids:
            q = (vec / max(float(np.linalg.norm(vec)), 1e-12)).astype(np.float32)
            # Not `vectors @ q`: that is OpenBLAS on all cores, whose threads then spin for ~100 ms and
            # slow the model's next encode two- to three-fold on a 2-core machine (measured at 2k to
            # 10k passages: encode p50 21 -> 41-52 ms when questions come one after another).
            # einsum's own loop is single-threaded: ~0.3 ms at 2k passages, ~3 ms at 20k.
            sims = np.einsum("ij,j->i", view.vectors, q)
            top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            return [view.vector_ids[i] for i in top], sims[top]
        total = len(self._passages)
        wide = min(total, max(k, k * -(-total // max(len(view.pids), 1)) * 2))
        ids, sims = self._vectors.query(vec, wide)
        keep = [i for i, pid in enumerate(ids) if pid in view.pids][:k]
        return [ids[i] for i in keep], np.asarray(sims, dtype=np.float32)[keep]

    def _question_language_first(self, ranked: list, qlang: str) -> list:
        position = {source: i for i, (source, _) in enumerate(ranked)}
        out = list(ranked)
        moved: set[str] = set()
        for source, (_score, pid) in ranked:
            other = self._counterpart_of.get(source)
            if other is None or other in moved or self._passages[pid].lang == qlang:
                continue
            j = position.get(other)
            if j is None or j < position[source]:
                continue
            i = next(k for k, (s, _) in enumerate(out) if s == source)
            k = next(k for k, (s, _) in enumerate(out) if s == other)
            entry = out.pop(k)
            out.insert(i, (entry[0], (out[i][1][0], entry[1][1])))  # takes the place (and score) of its twin
            moved.add(other)
        return out

    # --- internals --------------------------------------------------------------------------------------

    def _passages_for(self, doc: Document, key: str) -> Iterable[tuple[_Passage, str, str]]:
        base = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
        suffix = f"-{doc.faq_id}" if doc.kind == "faq" and not key.startswith("faq:") else ""
        for n, chunk in enumerate(
            chunk_document(doc, self.embedder.count_tokens, self.embedder.passage_tokens)
        ):
            passage = _Passage(
                id=f"{base}{suffix}-{n}",
                file=key,
                source=doc.source,
                title=doc.title,
                heading_path=chunk.heading_path,
                text=chunk.text,
                kind=doc.kind,
                lang=doc.lang,
                roles=tuple(doc.roles),
                answer=doc.answer or None,
                cites=doc.cites,
                counterpart=doc.counterpart,
            )
            # Headings say what a passage is about: count them twice on the lexical side.
            heading = " ".join(chunk.heading_path)
            lex_text = (
                f"{doc.question} {chunk.embed_text}" if doc.kind == "faq" else f"{heading} {chunk.embed_text}"
            )
            yield passage, chunk.embed_text, lex_text

    def _add_passages(self, items: Sequence[tuple[_Passage, str, str]]) -> None:
        if not items:
            return
        vectors = self.embedder.encode([e for _, e, _ in items])
        ids = [p.id for p, _, _ in items]
        metadatas = [
            {
                "source": p.source,
                "kind": p.kind,
                "lang": p.lang,
                "roles": ",".join(p.roles),
                "title": p.title[:200],
            }
            for p, _, _ in items
        ]
        self._vectors.add(ids, vectors, metadatas)
        self._lexical.add_tokenized(ids, [tokenize(lex) for _, _, lex in items])
        for p, _, _ in items:
            self._passages[p.id] = p

    def _remove_file(self, key: str) -> None:
        entry = self._files.pop(key, None)
        if entry is None:
            return
        ids = [i for i in entry["ids"] if i in self._passages]
        self._vectors.delete(ids)
        self._lexical.remove(ids)
        for i in ids:
            del self._passages[i]

    def _clear(self) -> None:
        self._vectors.clear()
        self._lexical.clear()
        self._files.clear()
        self._passages.clear()

    def _model_changed(self) -> bool:
        stored = self._stored_model
        return bool(self._passages) and stored is not None and stored != self._model_signature()

    def _model_signature(self) -> str:
        return f"{self.embedder.model_name}:{self.embedder.dimension}"

    def _roots(self, paths: Iterable[str | Path]) -> list[str]:
        return [str(Path(p).expanduser().resolve()) for p in paths if Path(p).expanduser().is_dir()]

    def _commit(self) -> None:
        self._lexical.save()
        self._store_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "version": _STORE_VERSION,
            "model": self._model_signature(),
            "files": self._files,
            "passages": [asdict(p) for p in self._passages.values()],
        }
        tmp = self._store_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self._store_path)
        self._store_stamp = self._stamp()
        self._stored_model = payload["model"]
        self._rebuild_lookups()

    def refresh(self) -> bool:
        """Pick up an ingest made by another process (say `erp-coach ingest` while the bot runs): reload the
        passage store and the lexical index when they changed on disk. Cheap when nothing changed (a stat).
        The dense side is shared through Chroma itself (use CHROMA_URL when several processes write)."""
        stamp = self._stamp()
        if stamp == self._store_stamp:
            return False
        with self._lock:
            if stamp == self._store_stamp:
                return False
            try:
                lexical = LexicalIndex(self._lexical.directory)
                passages, files, model = self._read_store()
                if set(lexical.ids) != set(passages):
                    return False  # caught between two writes of another process; next search retries
            except (ValueError, KeyError, OSError):
                return False
            self._lexical, self._passages, self._files, self._stored_model = lexical, passages, files, model
            self._store_stamp = stamp
            self._rebuild_lookups()
            return True

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self._store_path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _load_store(self) -> None:
        self._store_stamp = self._stamp()
        if not self._store_path.exists():
            return
        self._passages, self._files, self._stored_model = self._read_store()
        if set(self._lexical.ids) != set(self._passages):
            raise ValueError("the lexical index and the passage store disagree")

    def _read_store(self) -> tuple[dict[str, _Passage], dict[str, dict], str | None]:
        payload = json.loads(self._store_path.read_text(encoding="utf-8"))
        passages = {}
        for raw in payload["passages"]:
            raw["heading_path"] = tuple(raw["heading_path"])
            raw["roles"] = tuple(raw["roles"])
            p = _Passage(**raw)
            passages[p.id] = p
        return passages, payload["files"], payload.get("model")

    def _rebuild_lookups(self) -> None:
        self._scopes = {}  # scope views describe the old indexes
        self._whole = None
        by_source: dict[str, list[str]] = {}
        for pid, p in self._passages.items():
            by_source.setdefault(p.source, []).append(pid)
        self._by_source = by_source
        # Citations in FAQ files and translation links in front matter are often relative to a
        # sub-folder ("inventory/x.md" for "manuals/inventory/x.md"): resolve them by unique path suffix.
        # When several pages end with the same path, the one with the fewest extra folders wins
        # (faq.csv next to manuals/ citing "inventory/x.md" means manuals/inventory/x.md, not
        # manuals/zh_CN/inventory/x.md); a tie is ambiguous and left unresolved.
        suffixes: dict[str, tuple[int, str | None]] = {}
        for source in by_source:
            parts = source.split("/")
            for i in range(len(parts)):
                tail = "/".join(parts[i:])
                prev = suffixes.get(tail)
                if prev is None or i < prev[0]:
                    suffixes[tail] = (i, source)
                elif i == prev[0] and prev[1] != source:
                    suffixes[tail] = (i, None)
        self._suffixes = {tail: src for tail, (_, src) in suffixes.items() if src is not None}
        counterpart_of: dict[str, str] = {}
        for pids in by_source.values():
            p = self._passages[pids[0]]
            if p.counterpart:
                other = self._resolve(p.counterpart)
                if other in by_source and other != p.source:
                    counterpart_of[p.source] = other
                    counterpart_of.setdefault(other, p.source)
        self._counterpart_of = counterpart_of
        self._has_chinese = any(p.lang == "zh" for p in self._passages.values())

    def _cited_page(self, path: str | None) -> str | None:
        """The indexed page a FAQ cites, or None when it cites nothing we hold."""
        resolved = self._resolve(path)
        return resolved if resolved in self._by_source else None

    def _resolve(self, path: str | None) -> str | None:
        if not path:
            return None
        path = path.strip().lstrip("./")
        return self._suffixes.get(path) or path


@dataclass
class _LexicalResult:
    # (passage id, BM25, rank in the query's list, coverage), best first, of the passages in the
    # query's language (all of them for a query with none)
    entries: list[tuple[str, float, int, float]]
    scale: float  # what puts this query's BM25 on the scale shared with the other language's


@dataclass
class _Rendering:
    """A question's ERP terms in the other language (glossary), and the share of the question they stand
    for: the idf weight of the glossary-matched words (and, for a Chinese question, its Latin words) over
    the question's whole weight. `of` renders a Chinese question in English, `chinese` an English one in
    Chinese."""

    text: str
    share: float
    units: list[tuple[str, str]]  # (Chinese words, their English words) for coverage in either language

    @classmethod
    def of(
        cls, question: str, matches: Sequence[tuple[str, str]], lexical: LexicalIndex
    ) -> _Rendering | None:
        """None when no matched term has English words (a company phrase may map to Chinese words only)."""
        english = [(zh, " ".join(LATIN_WORDS.findall(words))) for zh, words in matches]
        english = [(zh, en) for zh, en in english if en]
        if not english:
            return None
        latin = " ".join(LATIN_WORDS.findall(question))
        text = " ".join([en for _, en in english] + ([latin] if latin else []))
        covered = " ".join([zh for zh, _ in english] + ([latin] if latin else []))
        total = lexical.mass(question)
        share = min(1.0, lexical.mass(covered) / total) if total > 0 else 0.0
        return cls(text, share, _phrase_units(question, _spans(question, matches)))

    @classmethod
    def chinese(
        cls,
        question: str,
        synonyms: Sequence[SynonymMatch],
        reverse: Sequence[ChineseTerm],
        lexical: LexicalIndex,
    ) -> _Rendering | None:
        """An English question's ERP terms in Chinese (the glossary read backwards), the share of the
        question they stand for, and its coverage units: each thesaurus phrase and each word with the
        Chinese terms it stands for as alternatives. None when it names no term the glossary knows."""
        sequences = [tokenize(question), *(tokenize(m.expansion) for m in synonyms)]
        words = {w for seq in sequences for w in seq}
        pairs = set().union(*(adjacent_pairs(seq) for seq in sequences))
        matched = chinese_matches(words, reverse, pairs)
        if not matched:
            return None

        def terms_for(text: str) -> list[str]:
            have = set(tokenize(text))
            return [t.chinese for t in matched if t.english & have]

        *phrases, (rest, _) = _phrase_units(question, synonyms)
        units, covered = [], []
        for phrase, expansion in phrases:
            found = terms_for(f"{phrase} {expansion}")
            units.append((phrase, " ".join([expansion, *found])))
            covered += [phrase] if found else []
        unmatched = rest
        for word in dict.fromkeys(LATIN_WORDS.findall(rest)):
            found = terms_for(word)
            if found:
                units.append((word, " ".join(found)))
                covered.append(word)
                unmatched = re.sub(rf"\b{re.escape(word)}\b", " ", unmatched)
        units.append((unmatched, ""))
        total = lexical.mass(question)
        share = min(1.0, lexical.mass(" ".join(covered)) / total) if total > 0 else 0.0
        text = " ".join(dict.fromkeys(t.chinese for t in matched))
        return cls(text, share, units)


def _asked_terms(question: str, other: _Rendering | None) -> set[str]:
    """The question's index terms, with those of its rendering in the other language (which is how a
    title in that language is named)."""
    asked = set(tokenize(question))
    if other is not None:
        asked.update(tokenize(other.text))
    return asked


def _spans(question: str, matches: Sequence[tuple[str, str]]) -> list[SynonymMatch]:
    """Glossary matches (term, words) placed in the question, at each term's first occurrence."""
    return [SynonymMatch(zh, words, i, i + len(zh)) for zh, words in matches if (i := question.find(zh)) >= 0]


def _chinese_synonyms(question: str, matches: Sequence[tuple[str, str]]) -> list[SynonymMatch]:
    """Matched terms whose manual words are Chinese (the company's phrases): searched on Chinese pages."""
    placed = ((m, " ".join(CJK_WORDS.findall(m.expansion))) for m in _spans(question, matches))
    return [SynonymMatch(m.phrase, chinese, m.start, m.end) for m, chinese in placed if chinese]


def _phrase_units(question: str, synonyms: Sequence[SynonymMatch]) -> list[tuple[str, str]]:
    """Coverage units of a question: each matched phrase with its manual words as an alternative, then
    the rest of the question."""
    if not synonyms:
        return [(question, "")]
    rest = list(question)
    for m in synonyms:
        rest[m.start : m.end] = " " * (m.end - m.start)
    return [(m.phrase, m.expansion) for m in synonyms] + [("".join(rest), "")]


_HOW_TO = re.compile(r"如何|怎么|怎样|怎麽|步骤|流程|\bhow\b|\bsteps?\b|\bprocedure\b", re.IGNORECASE)
_STEP_LINE = re.compile(
    r"^\s*(?:\d+[.、)．]|[一二三四五六七八九十]+[、.．]|step\s*\d+)", re.IGNORECASE | re.MULTILINE
)


class _SectionChooser:
    """Which section of a ranked page to quote. Page ranking is settled; here only the passage changes:
    among the page's candidate passages, the fused score plus a bonus when the section's own heading
    names the question's terms (idf-weighted) and, for how-to questions, when it holds numbered steps.
    A short passage that merely mentions the terms ("重新点击提交") must not beat the section titled
    with them that holds the procedure."""

    def __init__(
        self, lexical: LexicalIndex, question: str, scores: Mapping[str, float], tuning: SearchTuning
    ) -> None:
        self._lexical = lexical
        self._scores = scores
        self._tuning = tuning
        self._howto = bool(_HOW_TO.search(question))
        self._qterms = {t: self._idf(t) for t in set(tokenize(question))}
        self._qtotal = sum(self._qterms.values())

    def _idf(self, term: str) -> float:
        col = self._lexical.vocab.get(term)
        return float(self._lexical.idf[col]) if col is not None else 0.0

    def best(self, pid: str, page_pids: Sequence[str], passages: Mapping[str, _Passage]) -> str:
        if passages[pid].kind == "faq" or self._tuning.mode != "hybrid" or self._qtotal <= 0:
            return pid
        options = [q for q in page_pids if q in self._scores and passages[q].kind != "faq"]
        if len(options) < 2:
            return pid
        return max(options, key=lambda q: (self._value(q, passages[q]), q == pid))

    def _value(self, pid: str, p: _Passage) -> float:
        own_heading = set(tokenize(" ".join(p.heading_path[1:])))  # the title is every section's
        named = sum(w for t, w in self._qterms.items() if t in own_heading) / self._qtotal
        value = self._scores[pid] + self._tuning.section_heading_weight * named
        if self._howto and len(_STEP_LINE.findall(p.text)) >= 2:
            value += self._tuning.section_steps_bonus
        return value


def _reread(entry: Mapping, data: bytes, role_sig: str, reader: str) -> bool:
    """True when a file was indexed again only because its format is now read better: same bytes, same
    roles, an earlier reader (an entry without one predates reader versions)."""
    before = entry.get("reader", "")
    return (
        before != reader and entry["hash"] == hashlib.sha256(data + (role_sig + before).encode()).hexdigest()
    )


def _missing_on_disk(key: str) -> bool:
    """True when the file of a manifest key is no longer on disk (deleted, or its folder moved away)."""
    try:
        return not stat.S_ISREG(os.stat(key).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False  # cannot tell (no permission, a share not answering): keep it rather than drop it


def _is_under(key: str, root: str) -> bool:
    return key.startswith(root.rstrip(os.sep) + os.sep)


def discover(paths: Iterable[str | Path], report: IngestReport) -> tuple[list[tuple[Path, Path]], list[str]]:
    """The files to ingest (with their root), and the folders that could not be listed: what was
    indexed from those stays, as for a file that cannot be read for now. Files passed over for a reason
    (a README, a folder that cannot be listed, a path that does not exist) go to `report.skipped`."""
    files: list[tuple[Path, Path]] = []
    unreadable: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():

            def cannot_list(exc: OSError, root: Path = path) -> None:
                folder = Path(exc.filename) if exc.filename else root
                unreadable.append(str(folder))
                report.skipped.append(
                    (
                        _display(folder, root) if folder != root else str(folder),
                        Reason("unreadable_folder", {"detail": str(exc.strerror or exc)}),
                    )
                )

            found = []
            # Symlinked folders are followed (a manual folder linked in from a share), each real
            # folder once, so a link back up the tree cannot loop.
            visited = {os.path.realpath(path)}
            for folder, dirs, names in os.walk(path, onerror=cannot_list, followlinks=True):
                keep = []
                for d in dirs:
                    real = os.path.realpath(os.path.join(folder, d))
                    if not d.startswith(".") and real not in visited:
                        visited.add(real)
                        keep.append(d)
                dirs[:] = keep
                found.extend(Path(folder, name) for name in names if not name.startswith("."))
            for file in sorted(found):
                rel = file.relative_to(path)
                suffix = file.suffix.lower()
                # "~$手册.docx": the lock file Word and WPS keep beside a document that is open.
                if not file.is_file() or suffix not in SUPPORTED_SUFFIXES | SAVE_AS.keys():
                    continue
                if file.name.startswith("~$"):
                    continue
                if file.stem.lower() in _SKIP_NAMES:
                    report.skipped.append((rel.as_posix(), Reason("describes_folder")))
                    continue
                files.append((file, path))
        elif path.is_file():
            files.append((path, path.parent))
        else:
            report.skipped.append((str(raw), Reason("no_such_path")))
    return files, unreadable


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def with_tuning(kb: KnowledgeBase, **changes: object) -> KnowledgeBase:
    """The same knowledge base searched with other tuning (eval modes, calibration)."""
    kb.tuning = replace(kb.tuning, **changes)
    return kb
