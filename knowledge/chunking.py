"""Sections in, passages out, each small enough for the embedding model and carrying its heading path.

Blocks (paragraphs, whole lists, tables, code) are packed greedily into passages of at most `max_tokens`
model tokens, counted with the model's own tokenizer. A numbered list that fits in one passage is never
split across two; a block too long for one passage is split on sentence ends (English . ! ? and Chinese
。！？；), and only a single over-long sentence is cut by tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from knowledge.loaders import Document
from knowledge.screenshots import alt_text_only, screenshot_spans
from knowledge.types import HEADING_SEPARATOR

TokenCounter = Callable[[Sequence[str]], list[int]]

_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)、]|[-*+•]|[（(]?\d+[）)])\s+|^\s*\d+[.、]")
_NUMBERED = re.compile(r"^\s*(?:\d+[.)、]|[（(]\d+[）)])")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?])|(?<=[.;:])(?=\s)")


@dataclass
class Passage:
    heading_path: tuple[str, ...]
    text: str  # the passage as shown to users (steps intact)
    embed_text: str  # what the model and the lexical index see: heading path + passage


def heading_line(heading_path: Sequence[str]) -> str:
    return HEADING_SEPARATOR.join(heading_path)


def chunk_document(doc: Document, count_tokens: TokenCounter, max_tokens: int) -> list[Passage]:
    """Passages for a manual page; a FAQ entry is one passage (question, then answer)."""
    if doc.kind == "faq":
        text = f"{doc.question}\n{alt_text_only(doc.answer)}"
        return [Passage((doc.title,), doc.question, text)]
    out: list[Passage] = []
    for section in doc.sections:
        head = heading_line(section.heading_path)
        # The heading line is embedded with every passage; the passage gets what is left.
        budget = max(32, max_tokens - count_tokens([head])[0] - 2)
        for text in split_text(section.text, count_tokens, budget):
            out.append(Passage(section.heading_path, text, f"{head}\n{alt_text_only(text)}"))
    return out


def split_text(text: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    blocks = _blocks(text)
    if not blocks:
        return []
    sizes = count_tokens(blocks)
    passages: list[str] = []
    current: list[str] = []
    used = 0

    def flush() -> None:
        nonlocal used
        if current:
            passages.append("\n\n".join(current))
        current.clear()
        used = 0

    for block, size in zip(blocks, sizes, strict=True):
        if size > budget:
            flush()
            pieces = _split_long_block(block, count_tokens, budget)
            passages.extend(pieces)
            continue
        if used + size > budget:
            flush()
        current.append(block)
        used += size + 1
    flush()
    return passages


def _blocks(text: str) -> list[str]:
    """Paragraphs separated by blank lines, except that a list (with its indented continuation lines and
    the blank lines between its items) stays one block."""
    blocks: list[list[str]] = []
    current: list[str] = []
    in_list = False
    pending_blank = False
    for line in text.splitlines():
        if not line.strip():
            pending_blank = True
            continue
        is_item = bool(_LIST_ITEM.match(line))
        continuation = in_list and (line.startswith((" ", "\t")) or is_item)
        if current and (pending_blank or is_item != in_list) and not continuation:
            blocks.append(current)
            current = []
        if not current:
            in_list = is_item
        current.append(line.rstrip())
        pending_blank = False
    if current:
        blocks.append(current)
    return ["\n".join(b).strip() for b in blocks if "\n".join(b).strip()]


def _split_long_block(block: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    lines = block.splitlines()
    if len(lines) > 1 and _LIST_ITEM.match(lines[0]):
        units = _list_items(lines)  # a list too long for one passage: split between items
        joiner = "\n"
    else:
        units = _sentences(block)
        joiner = "" if _is_cjk_heavy(block) else " "
    sizes = count_tokens(units)
    out: list[str] = []
    current: list[str] = []
    used = 0
    for unit, size in zip(units, sizes, strict=True):
        if size > budget:
            if current:
                out.append(joiner.join(current))
                current, used = [], 0
            out.extend(_hard_split(unit, count_tokens, budget))
            continue
        if used + size > budget and current:
            out.append(joiner.join(current))
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        out.append(joiner.join(current))
    return out


def _sentences(block: str) -> list[str]:
    """The block split after sentence ends, except inside a screenshot (its alt text may hold a 。or ！)."""
    spans = screenshot_spans(block)
    cuts = [
        m.start()
        for m in _SENTENCE_END.finditer(block)
        if not any(start < m.start() < end for start, end in spans)
    ]
    pieces = [block[i:j] for i, j in zip([0, *cuts], [*cuts, len(block)], strict=True)]
    return [p.strip() for p in pieces if p.strip()]


def _list_items(lines: list[str]) -> list[str]:
    items: list[list[str]] = []
    for line in lines:
        if _LIST_ITEM.match(line) or not items:
            items.append([line])
        else:
            items[-1].append(line)
    return ["\n".join(i) for i in items]


def _hard_split(text: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    """Last resort for one sentence longer than the budget: cut by characters, checked by tokens."""
    out: list[str] = []
    rest = text
    while rest:
        lo, hi = 1, len(rest)
        # Largest prefix within budget (binary search on characters; tokens grow monotonically).
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count_tokens([rest[:mid]])[0] <= budget:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        space = rest.rfind(" ", 0, cut)
        if cut < len(rest) and space > cut // 2:
            cut = space
        for start, end in screenshot_spans(rest):  # never inside a screenshot: before it, or after it
            if start < cut < end:
                cut = start if start > 0 else end
                break
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [o for o in out if o]


def _is_cjk_heavy(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk > len(text) * 0.3
