"""English questions about manuals written only in Chinese, measured on the Odoo corpus's Chinese half.

Most of a Chinese company's manuals exist only in Chinese. The Odoo corpus has 76 Chinese pages that
translate English ones, so a knowledge base of those pages alone (and the Chinese FAQ entries) stands in for
such a company. The dev sets' English questions whose page has a Chinese translation are asked of it,
with that translation as the page that answers; their unanswerable English questions stay unanswerable.
The held-out test set is left out unless asked for (`--test`), as everywhere else.

Usage: python benchmarks/english_over_chinese.py [--test] [KB_DIR]   (default: ../shared/corpus/odoo-16)
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from knowledge import evaluation  # noqa: E402
from knowledge.base import KnowledgeBase, KnowledgeConfig  # noqa: E402
from knowledge.embedding import Embedder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_KB = REPO / ".." / "shared" / "corpus" / "odoo-16"
QUESTIONS = REPO / "benchmarks" / "questions"
CHINESE = "manuals/zh_CN/"


def chinese_half(corpus: Path, into: Path) -> set[str]:
    """Copy the Chinese pages and Chinese FAQ entries of `corpus` into `into`; the pages' paths."""
    shutil.copytree(corpus / CHINESE, into / CHINESE)
    with (corpus / "faq.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with (into / "faq.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["lang"] == "zh")
    return {p.relative_to(into).as_posix() for p in (into / CHINESE).rglob("*") if p.is_file()}


def english_questions(source: Path, pages: set[str], into: Path) -> Path:
    """The English questions of `source`, answered by the Chinese translation of their page; answerable
    questions whose page has none are left out (the Chinese half may still answer them in part)."""
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["lang"] != "en":
            continue
        if q["answerable"]:
            q["relevant"] = [
                r.replace("manuals/", CHINESE, 1)
                for r in q["relevant"]
                if r.replace("manuals/", CHINESE, 1) in pages
            ]
            if not q["relevant"]:
                continue
        lines.append(json.dumps(q, ensure_ascii=False))
    out = into / source.name
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--test"]
    corpus = Path(args[0]) if args else DEFAULT_KB
    sets = ["dev", "dev_extra", "dev_more", "dev_blind"] + (["test"] if "--test" in sys.argv else [])
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir, data_dir = Path(tmp) / "kb", Path(tmp) / "data"
        pages = chinese_half(corpus, kb_dir)
        kb = KnowledgeBase(KnowledgeConfig(data_dir=data_dir), embedder)
        try:
            report = kb.ingest([kb_dir])
            print(
                f"Chinese half of {corpus.resolve()}: {report.files_indexed} files, {report.chunks} passages"
            )
            print(
                f"{'set':<10} {'n':>3} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7} {'abst. answerable':>17} "
                f"{'abst. unanswerable':>19}"
            )
            for name in sets:
                questions = evaluation.load_questions(
                    english_questions(QUESTIONS / f"{name}.jsonl", pages, Path(tmp))
                )
                m = evaluation.score(evaluation.run(kb, questions))
                en = m.per_lang.get("en", {"n": 0, "hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0})
                unanswerable = (
                    f"{m.abstained_unanswerable:.0%} of {m.n_unanswerable}" if m.n_unanswerable else "-"
                )
                print(
                    f"{name:<10} {en['n']:>3} {en['hit@1']:>6.3f} {en['hit@5']:>6.3f} {en['mrr@10']:>7.3f} "
                    f"{m.abstained_answerable:>11.0%} of {m.n_answerable:<3} {unanswerable:>19}"
                )
        finally:
            kb.close()


if __name__ == "__main__":
    main()
