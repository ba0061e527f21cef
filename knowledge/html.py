"""HTML manuals (help-site pages, Confluence and CHM exports) as Markdown, with nothing of their text lost.

Exports put much of their text outside `<p>`: a note in a `<div class="note">`, a tip in a `<blockquote>`,
steps written as lines with `<br>`. All of it is read, in document order: headings, paragraphs (a `<br>`
keeps its line, so `1. 打开<br>2. 点击` stays two steps), lists (nested ones indented under their item),
tables row by row (`实收数量 | 仓库实际点到的数量`, as a Word table reads) and the text of any other element.
A table used for page layout (a cell holding headings, lists or tables) is read as the page it lays out.
"""

from __future__ import annotations

import re

from bs4 import NavigableString, Tag
from bs4.element import PreformattedString  # comments, doctypes, CDATA: not text a reader sees

_HEADINGS = {f"h{n}" for n in range(1, 7)}
_PARAGRAPHS = {"p", "pre", "figure", "figcaption", "summary", "dt", "dd", "caption", "address", "legend"}
_LISTS = {"ol", "ul", "menu"}
_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "mark", "q",
    "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var", "label", "nobr",
}  # fmt: skip
_LAYOUT = sorted(_HEADINGS | _LISTS | {"table", "pre"})
# A line the Markdown reader would take for a heading or a code fence is text here.
_MARKDOWN_SYNTAX = re.compile(r"^(#{1,6}[ \t]|```|~~~)")


def html_markdown(body: Tag) -> str:
    """The body's text as Markdown, in document order."""
    out: list[str] = []
    _container(body, out)
    return "\n".join(out)


def _container(el: Tag, out: list[str]) -> None:
    run: list[str] = []  # inline text between blocks: a paragraph of its own

    def flush() -> None:
        if text := _lines(_inline(run)):
            out.append(f"\n{text}\n")
        run.clear()

    for child in el.children:
        if not isinstance(child, Tag):
            if isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                run.append(child)
            continue
        name = child.name
        if name in _INLINE or name == "br":
            run.append(child)
            continue
        flush()
        if name in _HEADINGS:
            if text := _one_line(child):
                out.append(f"\n{'#' * int(name[1])} {text}\n")
        elif name in _PARAGRAPHS:
            # A figure is a picture with its caption: one line, as they stand together.
            if text := (_one_line(child) if name == "figure" else _lines(_inline(child.contents))):
                out.append(f"\n{text}\n")
        elif name in _LISTS:
            items = _items(child, "")
            if items:
                out.append("\n" + "\n".join(items) + "\n")
            else:
                _container(child, out)  # no <li> of its own (ul > div > li): read what it holds
        elif name == "table" and not _is_layout(child):
            if rows := _rows(child):
                out.append("\n" + "\n".join(rows) + "\n")
        else:
            _container(child, out)
    flush()


def _inline(nodes) -> str:
    """Text of inline content, a `<br>` as a line break."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, PreformattedString):
            continue
        if isinstance(node, NavigableString):
            parts.append(str(node))
        elif node.name == "br":
            parts.append("\n")
        elif node.name in _PARAGRAPHS or node.name in _HEADINGS or node.name in _LISTS or node.name == "div":
            parts.append("\n" + _inline(node.children) + "\n")
        elif node.name in ("table", "tr", "td", "th", "li"):
            parts.append(" " + _inline(node.children) + " ")
        else:
            parts.append(_inline(node.children))
    return "".join(parts)


def _lines(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(f"\\{line}" if _MARKDOWN_SYNTAX.match(line) else line for line in lines if line)


def _one_line(el) -> str:
    return " ".join(_inline(el.children).split())


def _items(lst: Tag, indent: str) -> list[str]:
    """A list's items as Markdown lines, its nested lists indented under their item."""
    ordered = lst.name == "ol"
    try:
        number = int(lst.get("start", 1))
    except ValueError:
        number = 1
    lines: list[str] = []
    for li in lst.find_all("li", recursive=False):
        nested = [c for c in li.children if isinstance(c, Tag) and c.name in _LISTS]
        text = " ".join(_inline(c for c in li.children if c not in nested).split())
        if text:
            lines.append(f"{indent}{number}. {text}" if ordered else f"{indent}- {text}")
            number += 1
        for sub in nested:
            lines.extend(_items(sub, indent + "   "))
    return lines


def _rows(table: Tag) -> list[str]:
    """Each row as its cells' text joined by " | " (a nested table's rows are read with its cell)."""
    rows = []
    if (caption := table.find("caption", recursive=False)) and (text := _one_line(caption)):
        rows.append(text)
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = [_one_line(cell) for cell in tr.find_all(["td", "th"], recursive=False)]
        if cells := [c for c in cells if c]:
            rows.append(" | ".join(dict.fromkeys(cells)))
    return rows


def _is_layout(table: Tag) -> bool:
    return any(cell.find(_LAYOUT) is not None for cell in table.find_all(["td", "th"]))
