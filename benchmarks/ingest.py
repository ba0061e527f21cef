"""Ingest throughput: passages/s of `KnowledgeBase.ingest` against raw `model.encode` on the same passages.

Usage: python benchmarks/ingest.py [KB_DIR]   (default: ../shared/corpus/odoo-16)
Target: ingest >= 0.9x the raw encode throughput (the model is the cost; everything else must be noise).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from knowledge.base import KnowledgeBase, KnowledgeConfig  # noqa: E402
from knowledge.chunking import chunk_document  # noqa: E402
from knowledge.embedding import Embedder  # noqa: E402
from knowledge.loaders import SUPPORTED_SUFFIXES, LoadError, load_file  # noqa: E402

DEFAULT_KB = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "odoo-16"


def passages(kb_dir: Path, embedder: Embedder) -> list[str]:
    texts = []
    for path in sorted(kb_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            try:
                docs = load_file(path, kb_dir)
            except LoadError:
                continue
            for doc in docs:
                texts.extend(
                    p.embed_text for p in chunk_document(doc, embedder.count_tokens, embedder.passage_tokens)
                )
    return texts


def main() -> None:
    kb_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_KB
    embedder = Embedder()
    texts = passages(kb_dir, embedder)
    embedder.encode(texts[:64])  # warm-up
    print(f"corpus: {kb_dir.resolve()}  passages: {len(texts)}")

    start = time.perf_counter()
    embedder.encode(texts)
    raw = time.perf_counter() - start
    print(f"raw model.encode:   {len(texts) / raw:8.1f} passages/s  ({raw:.1f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(KnowledgeConfig(data_dir=Path(tmp)), embedder)
        report = kb.ingest([kb_dir])
        print(
            f"KnowledgeBase.ingest: {report.chunks_per_second:8.1f} passages/s  ({report.seconds:.1f} s, "
            f"{report.files_indexed} files, {report.chunks} passages)"
        )
        again = kb.ingest([kb_dir])
        print(f"re-ingest unchanged: {again.seconds:.2f} s, {again.chunks} passages embedded")
    ratio = report.chunks_per_second / (len(texts) / raw)
    print(f"ratio ingest/raw: {ratio:.2f}x  (target >= 0.90x)")


if __name__ == "__main__":
    main()
