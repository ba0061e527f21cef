"""PDF manuals as sections, the way a reader sees the pages rather than the way the text is drawn.

A PDF has no paragraphs or headings, only lines placed on pages. Manuals exported from Word or WPS carry
their headings as bookmarks (the outline): each bookmark starts a section where its heading line stands,
so a passage is cited as `手册 › 第一章 收货 › 1.2 验证收货` rather than `手册 › p. 5`. Without bookmarks,
the lines that number headings (第一章, 一、, 1.1) do the same; without those, a page is a section. The
running header and footer every page repeats (`仓库操作手册 V2.0`, `第 3 页 共 20 页`) and the table of
contents' dot leaders are left out: they would be searched and quoted as if they were the steps. A line
the page wrapped is joined to the next one again, so a step reads, embeds and is searched as one line;
Chinese lines join without a space.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from knowledge.loaders import Section, normalize_blank_lines, numbered_heading_level, numbered_heading_ranks

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CJK_SPACED = re.compile(r"(?<=[\u3400-\u9fff，。、；：？！“”（）]) (?=[\u3400-\u9fff，。、；：？！“”（）])")
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|(?:page\s*)?\d+(?:\s*(?:/|of)\s*\d+)?)[-–—\s]*$",
    re.IGNORECASE,
)
_DOT_LEADER = re.compile(r"(?:\.{4,}|…{2,}|·{4,})\s*\d+$")
_TOC_TITLE = re.compile(r"^(?:目\s*录|contents|table of contents)$", re.IGNORECASE)
_LIST_START = re.compile(
    r"^\s*(?:\d+[.)、]|[（(]\d+[）)]|[-*+•●▪■◆]\s|第[一二三四五六七八九十\d]+[步章节条])"
)
_ENDS_SENTENCE = tuple("。！？：；.!?:;")
_EDGE = 2  # lines at the top and at the bottom of a page where a running header or footer can stand
_MIN_WRAP_WIDTH = 40  # display columns: a page whose longest line is shorter has no wrapped lines


class _Line(NamedTuple):
    text: str
    wraps: bool  # the page ran out of width here: the next line goes on with it


class Heading(NamedTuple):
    depth: int
    title: str
    page: int  # 0-based


def pdf_sections(page_texts: list[str], headings: list[Heading], title: str) -> list[Section]:
    """Sections of a PDF from each page's extracted text and its bookmarks (may be empty)."""
    pages = _without_running_lines([_page_lines(text) for text in page_texts])
    headings = headings or _numbered_headings(pages)
    if not headings:
        return [
            Section((title, f"p. {i}"), text)
            for i, lines in enumerate(pages, 1)
            if (text := _join(_lines(lines)))
        ]
    by_page: dict[int, list[Heading]] = {}
    for heading in headings:
        by_page.setdefault(heading.page, []).append(heading)
    sections: list[Section] = []
    path: list[str] = []
    body: list[_Line] = []

    def flush() -> None:
        if text := _join(body):
            sections.append(Section((title, *path), text))
        body.clear()

    for i, raw in enumerate(pages):
        lines = _lines(raw)
        pos = 0
        for heading in by_page.get(i, ()):
            at = next((k for k in range(pos, len(lines)) if _same(lines[k].text, heading.title)), None)
            body.extend(lines[pos : pos if at is None else at])
            flush()
            path[heading.depth :] = [heading.title]
            pos = pos if at is None else at + 1  # a bookmark whose line is not found starts where it points
        body.extend(lines[pos:])
    flush()
    return sections


def _numbered_headings(pages: list[list[str]]) -> list[Heading]:
    """Without bookmarks, the lines that number a heading as Chinese documents do (第一章, 一、, （一）, 1.1),
    when there are at least two; their depth by the kinds of numbering the document uses."""
    ranks = numbered_heading_ranks(line for lines in pages for line in lines)
    return [
        Heading(ranks[kind] - 1, line, i)
        for i, lines in enumerate(pages)
        for line in lines
        if ranks and (kind := numbered_heading_level(line))
    ]


def outline_headings(reader) -> list[Heading]:
    """The bookmarks of a pypdf reader in reading order; none when they cannot be read (the pages still
    can)."""
    out: list[Heading] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # noqa: BLE001 - a broken bookmark loses its heading, not the file
                continue
            name = " ".join(str(getattr(item, "title", "") or "").split())
            if name and page is not None and page >= 0:
                out.append(Heading(depth, name, page))

    try:
        walk(reader.outline, 0)
    except Exception:  # noqa: BLE001 - same: a PDF with a broken outline reads as pages
        return []
    # A bookmark pointing back to an earlier page (an appendix listed first) would reorder the text.
    return sorted(out, key=lambda h: h.page) if out else out


def _page_lines(text: str) -> list[str]:
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = " ".join(line.split())
        if _spaced_out(line):
            line = _CJK_SPACED.sub("", line)
        lines.append(line)
    return lines


def _spaced_out(line: str) -> bool:
    """Some PDFs place every Chinese character on its own (`到 货 后 验 证`): text extraction then puts a
    space between each, which breaks the words apart for search."""
    pairs = re.findall(r"[\u3400-\u9fff]( ?)(?=[\u3400-\u9fff])", line)
    return len(pairs) >= 3 and sum(1 for p in pairs if p) >= 0.6 * len(pairs)


def _without_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers, and lines at the top or bottom of at least half the pages (three or more), with
    their numbers ignored: `第 3 页 共 20 页` and the manual's name in its header."""

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", "".join(line.split()))

    def edges(lines: list[str]) -> list[int]:
        filled = [k for k, line in enumerate(lines) if line]
        return sorted(set(filled[:_EDGE] + filled[-_EDGE:]))

    seen = Counter(k for lines in pages for k in {key(lines[e]) for e in edges(lines)})
    running = {k for k, n in seen.items() if len(pages) >= 3 and n >= max(3, len(pages) / 2)}
    out = []
    for lines in pages:
        drop = {e for e in edges(lines) if key(lines[e]) in running or _PAGE_NUMBER.match(lines[e])}
        if any(_DOT_LEADER.search(line) for line in lines):  # a page of the table of contents
            drop |= {k for k, line in enumerate(lines) if _DOT_LEADER.search(line) or _TOC_TITLE.match(line)}
        out.append([line for k, line in enumerate(lines) if k not in drop])
    return out


def _width(line: str) -> int:
    return sum(2 if _CJK.match(ch) else 1 for ch in line)


def _lines(lines: list[str]) -> list[_Line]:
    """The page's lines, each marked when it runs (nearly) the full width of the page and ends
    mid-sentence."""
    widest = max((_width(line) for line in lines), default=0)
    return [
        _Line(
            line,
            widest >= _MIN_WRAP_WIDTH and _width(line) >= 0.85 * widest and not line.endswith(_ENDS_SENTENCE),
        )
        for line in lines
    ]


def _join(lines: list[_Line]) -> str:
    out: list[str] = []
    wraps = False
    for line in lines:
        if not line.text:
            out.append("")
        elif out and out[-1] and wraps and not _LIST_START.match(line.text):
            space = "" if _CJK.match(out[-1][-1]) and _CJK.match(line.text[0]) else " "
            out[-1] += space + line.text
        else:
            out.append(line.text)
        wraps = line.wraps
    return normalize_blank_lines("\n".join(out))


def _same(line: str, heading: str) -> bool:
    return "".join(line.split()) == "".join(heading.split())
