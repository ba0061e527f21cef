"""Check question sets: schema, relevant paths exist, zh/en pairing, no leaks between files.

Usage (from the repository root):
    python benchmarks/questions/check.py                      # dev + test over the Odoo corpus
    python benchmarks/questions/check.py tests/data/questions_small.jsonl --kb sample_kb

Exits 1 and lists every problem when a check fails; prints counts per file, language and
answerability otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_DEFAULT_FILES = [_ROOT / "benchmarks/questions/dev.jsonl", _ROOT / "benchmarks/questions/test.jsonl"]
_DEFAULT_KB = _ROOT.parent / "shared/corpus/odoo-16"
_FIELDS = ("id", "question", "lang", "role", "relevant", "answerable")
_ROLES = {"finance", "warehouse", "sales", "purchasing", "hr", None}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _front_matter(path: Path) -> dict[str, str]:
    """The flat `key: value` lines of a Markdown file's YAML front matter (enough for pairing)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return {}
    block = text.split("---", 2)[1]
    pairs = (line.split(":", 1) for line in block.splitlines() if ":" in line)
    return {k.strip(): v.strip().strip("'\"") for k, v in pairs}


def _check_row(row: dict, kb: Path, where: str) -> list[str]:
    problems: list[str] = []
    if tuple(row) != _FIELDS:
        problems.append(f"{where}: fields {list(row)} != {list(_FIELDS)}")
    if row.get("lang") not in ("en", "zh"):
        problems.append(f"{where}: lang {row.get('lang')!r}")
    if row.get("role") not in _ROLES:
        problems.append(f"{where}: role {row.get('role')!r}")
    question = row.get("question", "")
    if not question.strip():
        problems.append(f"{where}: empty question")
    has_cjk = bool(_CJK.search(question))
    if has_cjk != (row.get("lang") == "zh"):
        problems.append(f"{where}: lang {row.get('lang')} but CJK={has_cjk}: {question}")
    relevant = row.get("relevant", [])
    if row.get("answerable") is True:
        if not relevant:
            problems.append(f"{where}: answerable without relevant pages")
    elif row.get("answerable") is False:
        if relevant:
            problems.append(f"{where}: unanswerable but lists relevant pages")
    else:
        problems.append(f"{where}: answerable must be true or false")
    for rel in relevant:
        if not (kb / rel).is_file():
            problems.append(f"{where}: missing {rel}")
    # A Chinese question over the Odoo corpus cites the zh page first, then its English original.
    if row.get("lang") == "zh" and relevant and relevant[0].startswith("manuals/zh_CN/"):
        meta = _front_matter(kb / relevant[0]) if (kb / relevant[0]).is_file() else {}
        expected = "manuals/" + meta.get("en_version", "?")
        if relevant[1:] != [expected]:
            problems.append(f"{where}: zh page's counterpart is {expected}, got {relevant[1:]}")
    if row.get("lang") == "en" and any("/zh_CN/" in r for r in relevant):
        problems.append(f"{where}: English question cites a zh_CN page")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=_DEFAULT_FILES)
    parser.add_argument(
        "--kb", type=Path, default=_DEFAULT_KB, help="knowledge root the paths are relative to"
    )
    args = parser.parse_args(argv)

    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    for file in args.files:
        counts: collections.Counter[tuple[str, bool]] = collections.Counter()
        pages: collections.Counter[str] = collections.Counter()
        roles: collections.Counter[str] = collections.Counter()
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{file.name}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not JSON ({exc})")
                continue
            problems += _check_row(row, args.kb, where)
            if row.get("id") in seen_ids:
                problems.append(f"{where}: duplicate id {row.get('id')}")
            seen_ids.add(row.get("id"))
            key = re.sub(r"\W+", "", row.get("question", "").lower())
            if key in seen_questions:
                problems.append(f"{where}: same question as {seen_questions[key]}")
            seen_questions.setdefault(key, where)
            counts[(row.get("lang"), row.get("answerable"))] += 1
            roles[str(row.get("role"))] += 1
            pages.update(row.get("relevant", [])[:1])
        print(f"{file.name}: {sum(counts.values())} questions")
        for (lang, answerable), count in sorted(counts.items(), key=str):
            print(f"  {lang} {'answerable' if answerable else 'unanswerable':>12}: {count}")
        areas = collections.Counter(p.split("/")[-2] for p in pages.elements())
        print(f"  distinct first-relevant pages: {len(pages)}; by area: {dict(sorted(areas.items()))}")
        print(f"  roles: {dict(sorted(roles.items()))}")
    if problems:
        print(f"\n{len(problems)} problem(s):", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
