"""Word (.docx) manuals as Markdown, in the order Word shows them.

Manuals written in Word rarely use the "List Number" style: Word's numbering buttons put a numbering
reference (`w:numPr`) on a "List Paragraph" or a plain paragraph, and a picture of the screen often sits in
its own paragraph between two steps. Headings are what Word's navigation pane shows: a heading style
(`Heading 2`, or `标题 2` as WPS and a Chinese Word name it) or an outline level; in a document with
neither, the numbers its writer typed (一、收货). Tables stay where they stand, so a table of fields is
cited under the section it explains. A text box (a callout such as "注意：过账后不能修改") floats beside
the paragraph it is anchored to, often a heading or a step: its lines follow that paragraph rather than
join its text, as do the footnotes the paragraph refers to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.styles.style import StyleFactory

from knowledge.loaders import numbered_heading_level, numbered_heading_ranks
from knowledge.screenshots import screenshot_markdown

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*\d*$", re.IGNORECASE)
# Alt text Office writes by itself ("A screenshot of a computer. Description automatically generated"):
# it names no step, and its words would be searched as if the manual said them.
_AUTO_ALT = re.compile(r"automatically generated|已自动生成|自动生成的说明", re.IGNORECASE)
_CHINESE_DIGITS = "零一二三四五六七八九"

_W_P, _W_TBL, _W_SDT = qn("w:p"), qn("w:tbl"), qn("w:sdt")
# Word writes a text box twice, as a drawing (mc:Choice) and in VML for Word 2007 (mc:Fallback): read once.
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_SKIPPED_INLINE = {qn(t) for t in ("w:pPr", "w:rPr", "w:del", "w:moveFrom", "w:instrText", "w:delText")} | {
    _MC_FALLBACK
}
_BREAKS = {qn(t) for t in ("w:tab", "w:br", "w:cr", "w:ptab")}
_VML = "{urn:schemas-microsoft-com:vml}"
_PICTURES = {qn("w:drawing"), qn("w:pict"), qn("w:object")}
_TEXT_BOX = qn("w:txbxContent")
_NOTE_REFS = {qn("w:footnoteReference"): "footnote", qn("w:endnoteReference"): "endnote"}
_NOTE_PARTS = {RT.FOOTNOTES: "footnote", RT.ENDNOTES: "endnote"}
_PICTURE_DATA = (qn("a:blip"), f"{_VML}imagedata")


class _Level(NamedTuple):
    fmt: str = "decimal"  # numFmt: decimal, bullet, none, chineseCounting, ...
    text: str = ""  # lvlText: "%1.", "第%1章", "%1.%2"
    start: int = 1
    legal: bool = False  # isLgl: every number of the text in Arabic digits ("1.1", not "一.1")


_DEFAULT = _Level()


@dataclass
class _Numbering:
    """numbering.xml: for each list (numId) and level, its number format and start; and the counters."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    counters: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, document) -> _Numbering:
        try:
            root = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):  # no numbering part: no lists
            return cls()
        abstract: dict[str, dict[int, _Level]] = {}
        for node in root.findall(qn("w:abstractNum")):
            abstract[node.get(qn("w:abstractNumId"))] = {
                int(lvl.get(qn("w:ilvl"), 0)): _level(lvl) for lvl in node.findall(qn("w:lvl"))
            }
        out = cls()
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            levels = dict(abstract.get(ref.get(qn("w:val")) if ref is not None else "", {}))
            for override in num.findall(qn("w:lvlOverride")):  # "restart numbering at 1" writes these
                ilvl = int(override.get(qn("w:ilvl"), 0))
                if (lvl := override.find(qn("w:lvl"))) is not None:
                    levels[ilvl] = _level(lvl)
                if (start := override.find(qn("w:startOverride"))) is not None:
                    levels[ilvl] = levels.get(ilvl, _DEFAULT)._replace(start=_int(start.get(qn("w:val")), 1))
            out.levels[num.get(qn("w:numId"))] = levels
        return out

    def format(self, num_id: str, ilvl: int) -> str:
        level = self.levels.get(num_id, {}).get(ilvl, _DEFAULT)
        if level.fmt == "bullet" and not level.text.strip():
            return "none"  # a bullet of a blank: how pandoc and Word indent a paragraph inside a step
        return level.fmt

    def next(self, num_id: str, ilvl: int) -> tuple[int, str]:
        """Count one more item at `ilvl` of list `num_id` (deeper levels start again, as in Word): its
        count at that level, and its number as Word renders it (`3.2`, `第三章`)."""
        levels = self.levels.get(num_id, {})
        counts = self.counters.setdefault(num_id, [])
        while len(counts) <= ilvl:
            counts.append(levels.get(len(counts), _DEFAULT).start - 1)
        counts[ilvl] += 1
        del counts[ilvl + 1 :]
        level = levels.get(ilvl, _DEFAULT)
        if not level.text:
            return counts[ilvl], _number(counts[ilvl], level.fmt)

        def place(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            if k >= len(counts):
                return ""
            return _number(counts[k], "decimal" if level.legal else levels.get(k, _DEFAULT).fmt)

        return counts[ilvl], re.sub(r"%([1-9])", place, level.text).strip()


def _level(lvl) -> _Level:
    fmt = lvl.find(qn("w:numFmt"))
    text = lvl.find(qn("w:lvlText"))
    start = lvl.find(qn("w:start"))
    legal = lvl.find(qn("w:isLgl"))
    return _Level(
        fmt.get(qn("w:val"), "decimal") if fmt is not None else "decimal",
        text.get(qn("w:val"), "") if text is not None else "",
        _int(start.get(qn("w:val")) if start is not None else None, 1),
        legal is not None and legal.get(qn("w:val"), "1") not in ("0", "false", "off"),
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _number(n: int, fmt: str) -> str:
    if fmt in (
        "chineseCounting",
        "chineseCountingThousand",
        "chineseLegalSimplified",
        "ideographTraditional",
    ):
        return _chinese(n)
    if fmt in ("lowerLetter", "upperLetter") and 0 < n <= 26:
        letter = chr(ord("a") + n - 1)
        return letter.upper() if fmt == "upperLetter" else letter
    return str(n)


def _chinese(n: int) -> str:
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CHINESE_DIGITS[tens] + "十")
    return head + (_CHINESE_DIGITS[ones] if ones else "")


def docx_markdown(document) -> tuple[str, str]:
    """(the title the document gives itself, or "", its body as Markdown)."""
    numbering = _Numbering.of(document)
    reading = _Reading(document.part.rels, _Notes(document))
    typed = _typed_headings(document, _Reading(document.part.rels))
    title = ""
    out: list[str] = []
    pending: list[str] = []  # paragraphs after a list item, kept with it if the list goes on
    in_list: str | None = None  # numId of the list the last item belonged to

    def flush_pending(continued: bool) -> None:
        for text in pending:
            out.append(f"   {text}" if continued else f"\n{text}\n")
        pending.clear()

    def paragraph(block, text: str) -> None:
        nonlocal title, in_list
        style = _style(document, block)
        name = (style.name or "").strip() if style is not None else ""
        if _TOC_STYLE.match(name):
            return
        if name.lower() in _TITLE_STYLES:
            title = title or text
            return
        num_id, ilvl = _num_pr(block, style)
        level = _heading_level(block, style) or (0 if num_id else typed.get(numbered_heading_level(text), 0))
        if level:
            flush_pending(False)
            in_list = None
            number = (
                numbering.next(num_id, ilvl)[1] if num_id and numbering.format(num_id, ilvl) != "none" else ""
            )
            out.append(f"\n{'#' * min(level + 1, 6)} {f'{number} ' if number else ''}{text}\n")
            return
        fmt = numbering.format(num_id, ilvl) if num_id else "none"
        if fmt == "none":
            if in_list is not None:
                pending.append(text)  # a screenshot or a note between two steps belongs to the step
            else:
                out.append(f"\n{text}\n")
            return
        flush_pending(continued=in_list == num_id)
        indent = "   " * ilvl
        if fmt == "bullet":
            out.append(f"{indent}- {text}")
        else:
            out.append(f"{indent}{numbering.next(num_id, ilvl)[0]}. {text}")
        in_list = num_id

    for block in _blocks(document.element.body):
        if block.tag == _W_TBL:
            flush_pending(False)
            in_list = None
            out.append("\n" + "\n".join(_table_rows(block, reading)) + "\n")
            continue
        boxes: list[str] = []
        text = " ".join(_inline(block, reading, boxes).split())
        if text:
            paragraph(block, text)
        for line in boxes:  # kept with a step like a screenshot; after a heading, the section's first lines
            if in_list is not None:
                pending.append(line)
            else:
                out.append(f"\n{line}\n")
    flush_pending(False)
    return title, "\n".join(out)


@dataclass
class _Reading:
    """What reading a paragraph needs beyond it: the part's relationships (where a linked picture points)
    and the document's notes. Without notes, a note reference reads as nothing (the headings' pre-pass)."""

    rels: object
    notes: _Notes | None = None

    def note(self, kind: str, note_id: str | None) -> tuple[str, str]:
        return self.notes.mark(kind, note_id) if self.notes is not None else ("", "")


class _Notes:
    """Footnotes and endnotes (注释): a reference reads `[1]` where it stands, numbered in reading order as
    Word numbers them, and the note's text follows its paragraph like a text box's lines."""

    def __init__(self, document) -> None:
        self._text: dict[tuple[str, str | None], str] = {}
        self._count = 0
        for rel in document.part.rels.values():
            kind = _NOTE_PARTS.get(rel.reltype)
            if kind is None or rel.is_external:
                continue
            part = rel.target_part
            root = part.element if hasattr(part, "element") else parse_xml(part.blob)
            reading = _Reading(part.rels)
            for note in root.findall(qn(f"w:{kind}")):
                if note.get(qn("w:type")) not in (None, "normal"):  # the separator lines above the notes
                    continue
                text = " ".join(" ".join(_inline(p, reading).split()) for p in note.iter(_W_P)).strip()
                if text:
                    self._text[(kind, note.get(qn("w:id")))] = text

    def mark(self, kind: str, note_id: str | None) -> tuple[str, str]:
        text = self._text.get((kind, note_id), "")
        if not text:
            return "", ""
        self._count += 1
        return f"[{self._count}]", text


def _typed_headings(document, reading: _Reading) -> dict[int, int]:
    """Many manuals are written without heading styles: the writer types 一、收货 or 1.1 验证收货 in body
    text. In a document with no heading at all, such lines are its headings: {numbering kind: heading
    level}, by the kinds the document uses (第一章 above 一、 above （一） above 1.1). Empty otherwise."""
    lines = []
    for block in _blocks(document.element.body):
        if block.tag != _W_P:
            continue
        style = _style(document, block)
        if _heading_level(block, style):
            return {}
        if _num_pr(block, style)[0] is None:
            lines.append(" ".join(_inline(block, reading).split()))
    return numbered_heading_ranks(lines)


def _blocks(body):
    """Paragraphs and tables of the body in order; content controls opened, a table of contents left out
    (it repeats every heading)."""
    for child in body:
        if child.tag in (_W_P, _W_TBL):
            yield child
        elif child.tag == _W_SDT:
            gallery = child.find(f".//{qn('w:docPartGallery')}")
            if gallery is not None and "contents" in (gallery.get(qn("w:val")) or "").lower():
                continue
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content)


def _style(document, p):
    """The paragraph's style; the document's default paragraph style when it names none (or one that
    styles.xml lacks, as copy and paste between documents leaves)."""
    ref = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    found = document.styles.element.get_by_id(ref.get(qn("w:val"))) if ref is not None else None
    return StyleFactory(found) if found is not None else document.styles.default(WD_STYLE_TYPE.PARAGRAPH)


def _chain(style):
    """The style and the styles it is based on (a style can inherit its numbering or outline level)."""
    seen = set()
    while style is not None and style.style_id not in seen:
        seen.add(style.style_id)
        yield style
        style = style.base_style


def _ppr_value(p, style, path: str) -> str | None:
    """A paragraph property, set on the paragraph itself or inherited from its style."""
    for ppr in [p.find(qn("w:pPr"))] + [s.element.find(qn("w:pPr")) for s in _chain(style)]:
        if ppr is not None and (node := ppr.find(path)) is not None:
            return node.get(qn("w:val"))
    return None


def _num_pr(p, style) -> tuple[str | None, int]:
    num_id = _ppr_value(p, style, f"{qn('w:numPr')}/{qn('w:numId')}")
    if num_id in (None, "0"):  # numId 0: numbering switched off on this paragraph
        return None, 0
    ilvl = _int(_ppr_value(p, style, f"{qn('w:numPr')}/{qn('w:ilvl')}"), 0)
    return num_id, max(0, min(ilvl, 8))


def _heading_level(p, style) -> int:
    for s in _chain(style):
        if m := _HEADING_STYLE.match((s.name or "").strip()):
            return int(m.group(1))
    outline = _int(_ppr_value(p, style, qn("w:outlineLvl")), 9)
    return outline + 1 if 0 <= outline < 9 else 0  # 9: body text


def _inline(el, reading: _Reading, boxes: list[str] | None = None) -> str:
    """A paragraph's text in order, pictures as Markdown screenshots; deleted text and field codes left out.
    The lines of its text boxes and notes go to `boxes`, or inline where no paragraph follows (a table
    cell)."""
    parts: list[str] = []
    for child in el:
        if child.tag == qn("w:t"):
            parts.append(child.text or "")
        elif child.tag in _BREAKS:
            parts.append(" ")
        elif child.tag in _NOTE_REFS:
            mark, note = reading.note(_NOTE_REFS[child.tag], child.get(qn("w:id")))
            parts.append(mark)
            if note and boxes is not None:
                boxes.append(f"{mark} {note}")
            elif note:
                parts.append(f" {note} ")
        elif child.tag in _PICTURES:
            lines = [line for box in _outermost(child, _TEXT_BOX) for line in _box_lines(box, reading)]
            if boxes is None:
                parts.append(f" {' '.join(lines)} " if lines else "")
            else:
                boxes.extend(lines)
            if not lines or any(not _within(n, _TEXT_BOX, child) for n in child.iter(*_PICTURE_DATA)):
                parts.append(_picture(child, reading.rels))
        elif child.tag not in _SKIPPED_INLINE:
            parts.append(_inline(child, reading, boxes))
    return "".join(parts)


def _box_lines(box, reading: _Reading):
    """A text box's paragraphs (and table rows, and the boxes inside it), one line each."""
    for block in _blocks(box):
        if block.tag == _W_TBL:
            yield from _table_rows(block, reading)
            continue
        inner: list[str] = []
        if text := " ".join(_inline(block, reading, inner).split()):
            yield text
        yield from inner


def _outermost(el, tag):
    """The `tag` elements under `el` that are not inside another one."""
    for child in el:
        if child.tag == tag:
            yield child
        else:
            yield from _outermost(child, tag)


def _within(node, tag, top) -> bool:
    node = node.getparent()
    while node is not None and node is not top:
        if node.tag == tag:
            return True
        node = node.getparent()
    return False


def _picture(el, rels) -> str:
    """A picture as `![alt](src)`: a linked picture keeps where it links to; an embedded one has no address
    Slack could fetch, so it keeps its alt text only (`![收货界面]()`, quoted as [收货界面])."""
    alt = ""
    for node in el.iter(qn("wp:docPr"), f"{_VML}shape", f"{_VML}imagedata"):
        for key in ("descr", "title", "alt", "{urn:schemas-microsoft-com:office:office}title"):
            value = " ".join((node.get(key) or "").split())
            if value and not _AUTO_ALT.search(value):
                alt = alt or value
    src = ""
    for node in el.iter(qn("a:blip"), f"{_VML}imagedata"):
        for key in (qn("r:link"), qn("r:id")) if node.tag != qn("a:blip") else (qn("r:link"),):
            rel = rels.get(node.get(key) or "")
            if rel is not None and rel.is_external:
                src = src or rel.target_ref
    return screenshot_markdown(alt, src)


def _table_rows(tbl, reading: _Reading) -> list[str]:
    """Each row as its cells' text joined by " | " (a merged cell once)."""
    rows = []
    for tr in tbl.iter(qn("w:tr")):
        if tr.getparent() is not None and tr.getparent() is not tbl:
            continue  # a nested table's rows are read with its cell
        cells = []
        for tc in tr.findall(qn("w:tc")):
            text = " ".join(
                " ".join(_inline(p, reading).split()) for p in tc.iter(_W_P) if not _within(p, _TEXT_BOX, tc)
            )
            if text.strip():
                cells.append(text.strip())
        if cells:
            rows.append(" | ".join(dict.fromkeys(cells)))
    return rows
