"""Duplicate-ticket suggestion quality: precision/recall of the similar-ticket score per threshold.

Usage: python benchmarks/ticket_similarity.py [--pairs benchmarks/ticket_pairs.jsonl]

Each line of the pairs file is {"a": {"title", "description"}, "b": {...}, "same": bool, "lang": "zh"|"en"|"mixed"}.
A pair's score is computed exactly as `feedback.tickets.similar_open_tickets` does with text, tokenizer and
rendering: the mean of the cosine of the bundled model's embeddings of `similar_text` ("title\\ndescription")
and the Dice overlap of the `knowledge.lexical.tokenize` word sets; for a Chinese and an English ticket,
`cross_language_score` (the Chinese one's English ERP terms against the other's words), printed against
`CROSS_LANGUAGE_THRESHOLD` as well. "score >= threshold" predicts "same problem".
Printed per language and overall: precision/recall/F1 per threshold, the best-F1 and best-F0.5 thresholds
(F0.5 weighs precision higher: an unrelated suggestion is a nuisance, a missed duplicate costs little), and
min/median/max of the score, the cosine alone and the Dice alone for same and different pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bot.config import Settings  # noqa: E402
from feedback.tickets import CROSS_LANGUAGE_THRESHOLD, _dice, cross_language_score, similar_text  # noqa: E402
from knowledge.crosslingual import english_rendering  # noqa: E402
from knowledge.embedding import Embedder  # noqa: E402
from knowledge.lexical import tokenize  # noqa: E402

DEFAULT_PAIRS = Path(__file__).resolve().parent / "ticket_pairs.jsonl"
CURRENT = Settings.model_fields["ticket_similarity_threshold"].default
THRESHOLDS = sorted({round(0.40 + 0.05 * i, 2) for i in range(8)} | {CURRENT})
WIDE = [round(0.05 * i, 2) for i in range(1, 20)]
LANGS = ("zh", "en", "mixed", "all")


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score_pairs(pairs: list[dict], embedder: Embedder) -> dict[str, np.ndarray]:
    texts = [similar_text(SimpleNamespace(**p[side])) for p in pairs for side in ("a", "b")]
    vectors = embedder.encode(texts)
    cosine = np.einsum("ij,ij->i", vectors[0::2], vectors[1::2]).astype(float)
    dice = np.array(
        [_dice(set(tokenize(texts[2 * i])), set(tokenize(texts[2 * i + 1]))) for i in range(len(pairs))]
    )
    score = (cosine + dice) / 2
    cross_pairs = np.zeros(len(pairs), bool)
    for i in range(len(pairs)):
        a, b = texts[2 * i], texts[2 * i + 1]
        cross = cross_language_score((a, english_rendering(a)), (b, english_rendering(b)), tokenize)
        if cross is not None:
            score[i], cross_pairs[i] = cross, True
    return {"score": score, "cosine": cosine, "dice": dice, "cross": cross_pairs}


def f_beta(p: float, r: float, beta: float) -> float:
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


HEADER = f"  {'thr':>5} {'TP':>4} {'FP':>4} {'FN':>4} {'prec':>6} {'recall':>6} {'F1':>6} {'F0.5':>6}"


def table(
    scores: np.ndarray, same: np.ndarray, thresholds: list[float] = THRESHOLDS, current: float = CURRENT
) -> tuple[list[str], dict]:
    """One line per threshold; and per beta (1, 0.5) the best (F, threshold, line), lowest threshold on ties."""
    lines = [HEADER]
    best: dict[float, tuple[float, float, str]] = {1.0: (-1, 0, ""), 0.5: (-1, 0, "")}
    for thr in thresholds:
        pred = scores >= thr  # as in similar_open_tickets
        tp, fp, fn = int((pred & same).sum()), int((pred & ~same).sum()), int((~pred & same).sum())
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1, f05 = f_beta(p, r, 1.0), f_beta(p, r, 0.5)
        line = f"  {thr:5.2f} {tp:4d} {fp:4d} {fn:4d} {p:6.3f} {r:6.3f} {f1:6.3f} {f05:6.3f}"
        for beta, f in ((1.0, f1), (0.5, f05)):
            if f > best[beta][0]:
                best[beta] = (f, thr, line)
        lines.append(line + ("  <- current" if thr == current else ""))
    return lines, best


def spread(values: np.ndarray) -> str:
    if not len(values):
        return "      -"
    return f"{values.min():.3f} / {np.median(values):.3f} / {values.max():.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    args = parser.parse_args()
    pairs = load(args.pairs)
    embedder = Embedder("")
    parts = score_pairs(pairs, embedder)
    same = np.array([bool(p["same"]) for p in pairs])
    lang = np.array([p["lang"] for p in pairs])
    print(f"pairs: {args.pairs}  model: {embedder.model_name}")

    for group in LANGS:
        mask = np.ones(len(pairs), bool) if group == "all" else lang == group
        if not mask.any():
            continue
        n_same, n_diff = int((mask & same).sum()), int((mask & ~same).sum())
        print(f"\n== {group}: {mask.sum()} pairs ({n_same} same, {n_diff} different)")
        scores, thresholds, current = parts["score"], THRESHOLDS, CURRENT
        if group == "mixed":  # scored by cross_language_score, against its own threshold
            thresholds = sorted({round(0.15 + 0.05 * i, 2) for i in range(8)} | {CROSS_LANGUAGE_THRESHOLD})
            current = CROSS_LANGUAGE_THRESHOLD
        elif group == "all":  # cross-language pairs shifted so that each line decides as the bot would
            scores = scores + parts["cross"] * (CURRENT - CROSS_LANGUAGE_THRESHOLD)
            print(f"  (cross-language pairs: score + {CURRENT - CROSS_LANGUAGE_THRESHOLD:.2f})")
        lines, best = table(scores[mask], same[mask], thresholds, current)
        print("\n".join(lines))
        print(f"  best F1 at {best[1.0][1]:.2f}, best F0.5 at {best[0.5][1]:.2f}")
        print(f"  {'min / median / max':>28} {'same':>23} {'different':>23}")
        for name in ("score", "cosine", "dice"):
            values = parts[name]
            print(f"  {name:>28} {spread(values[mask & same]):>23} {spread(values[mask & ~same]):>23}")

    print("\neach part alone as the score (all pairs, thresholds 0.05-0.95):")
    for name in ("cosine", "dice"):
        _, best = table(parts[name], same, WIDE)
        print(f"  {name}\n{HEADER}\n{best[1.0][2]}  <- best F1\n{best[0.5][2]}  <- best F0.5")

    overlap = [
        (round(float(parts["score"][i]), 3), p["lang"], p["same"], p["a"]["title"], p["b"]["title"])
        for i, p in enumerate(pairs)
        if 0.45 <= parts["score"][i] < 0.65
    ]
    print(f"\npairs scoring 0.45-0.65 (where the threshold decides): {len(overlap)}")
    for row in sorted(overlap):
        print("  {:.3f} {:5} {!s:5} {} | {}".format(*row))


if __name__ == "__main__":
    main()
