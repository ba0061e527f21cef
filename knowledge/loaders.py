"""Files in, documents out: Markdown, text, HTML, PDF, DOCX manuals and CSV/YAML FAQs.

Every loader returns `Document`s made of `Section`s (a heading path and its text, numbered lists kept as
Markdown lines) so chunking works the same whatever the file type. A file that cannot be read raises
`LoadError` with a reason a person can act on (a code from `knowledge.reasons` and its params);
ingestion reports it and carries on with the rest.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from knowledge.reasons import Reason
from knowledge.screenshots import screenshot_markdown

MANUAL_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"}
FAQ_SUFFIXES = {".csv", ".xlsx", ".yaml", ".yml"}
SUPPORTED_SUFFIXES = MANUAL_SUFFIXES | FAQ_SUFFIXES
# Office and WPS formats a manual folder often holds that are not read: each is reported with the format to
# save it as (Word and WPS can, in one step), rather than passed over as if the folder did not have it.
SAVE_AS = {
    ".doc": ".docx",
    ".wps": ".docx",
    ".rtf": ".docx",
    ".odt": ".docx",
    ".xls": ".xlsx",
    ".et": ".xlsx",
    ".ods": ".xlsx",
    ".ppt": ".pdf",
    ".pptx": ".pdf",
    ".dps": ".pdf",
    ".odp": ".pdf",
}

# Raised when a format comes to be read differently (more of its text, other sections): the next ingest
# reads its files again though they did not change, so nobody needs --reset after an upgrade. Unlisted: 1.
# At 2: Markdown setext headings, the HTML editors write (<img>, <br>, comments) and Obsidian links;
# plain-text numbered headings (第一章, 一、, 1.1); HTML text outside <p>, tables by row, screenshots; Word
# numbering, headings, tables, text boxes, footnotes; PDF bookmarks or numbered headings, running headers
# left out, wrapped lines joined.
READER_VERSIONS = {".md": 2, ".markdown": 2, ".txt": 2, ".html": 2, ".htm": 2, ".docx": 2, ".pdf": 2}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


class LoadError(Exception):
    """A file that cannot be ingested: `reason` says why (`code` and `params`, see `knowledge.reasons`);
    `str(err)` says it in English, in words an operator can act on."""

    def __init__(self, code: str, /, **params: str | int) -> None:
        self.reason = Reason(code, params)
        super().__init__(str(self.reason))

    @property
    def code(self) -> str:
        return self.reason.code

    @property
    def params(self) -> Mapping[str, str | int]:
        return self.reason.params


@dataclass
class Section:
    heading_path: tuple[str, ...]
    text: str


@dataclass
class Document:
    source: str  # path relative to the knowledge root, "/" separated
    title: str
    lang: str  # "zh" | "en"
    roles: tuple[str, ...] = ()
    kind: str = "manual"  # "manual" | "faq"
    sections: list[Section] = field(default_factory=list)
    # FAQ entries only
    faq_id: str = ""
    question: str = ""
    answer: str = ""
    cites: str | None = None  # the manual page a FAQ answer comes from, as written in the FAQ file
    counterpart: str | None = None  # the same page in the other language (front matter en_/zh_version)


def detect_lang(text: str) -> str:
    """ "zh" when Chinese characters make up a real share of the letters, else "en"."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    # One CJK character carries about as much as a short English word.
    return "zh" if cjk and cjk * 3 >= latin * 0.5 else "en"


def decode_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise LoadError("bad_encoding", byte=exc.start) from None


def reader_signature(path: Path) -> str:
    """What a file's content hash adds for the reader of its format: nothing at version 1, so an index made
    before a reader changed still counts the files of every other format unchanged."""
    suffix = path.suffix.lower()
    version = READER_VERSIONS.get(suffix, 1)
    return "" if version == 1 else f"\0reader{suffix}:{version}"


def parse_roles(value: object) -> tuple[str, ...]:
    """Roles from front matter or a FAQ column: a list, or a string split on , ; | or spaces."""
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,;|\s]+", str(value))
    return tuple(dict.fromkeys(str(r).strip().lower() for r in items if str(r).strip()))


def roles_for_path(source: str, role_folders: Mapping[str, str]) -> tuple[str, ...]:
    """Roles from the folder-to-role mapping: a key matches a folder name or a leading folder path."""
    if not role_folders:
        return ()
    parts = PurePosixPath(source).parts[:-1]
    roles: list[str] = []
    for key, value in role_folders.items():
        key_parts = PurePosixPath(key.strip("/")).parts
        if not key_parts:
            continue
        n = len(key_parts)
        if any(tuple(parts[i : i + n]) == key_parts for i in range(len(parts) - n + 1)):
            roles.extend(parse_roles(value))
    return tuple(dict.fromkeys(roles))


def load_file(
    path: Path,
    root: Path,
    role_folders: Mapping[str, str] | None = None,
    warn: Callable[[Reason], None] | None = None,
) -> list[Document]:
    """Load one file under `root`; raises LoadError when it cannot be ingested. `warn` hears about parts
    left out of a file that is otherwise loaded (a FAQ entry without an answer)."""
    source = path.relative_to(root).as_posix() if path != root else path.name
    suffix = path.suffix.lower()
    if suffix in SAVE_AS:
        raise LoadError("save_as_first", suffix=suffix, target=SAVE_AS[suffix])
    if suffix not in SUPPORTED_SUFFIXES:
        if not suffix:
            raise LoadError("no_file_type")
        raise LoadError("unsupported_type", suffix=suffix)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError("unreadable_file", detail=str(exc.strerror or exc)) from None
    if not data.strip():
        raise LoadError("empty")
    folder_roles = roles_for_path(source, role_folders or {})
    if suffix in {".md", ".markdown"}:
        docs = [_load_markdown(decode_bytes(data), source)]
    elif suffix == ".txt":
        docs = [_load_text(decode_bytes(data), source)]
    elif suffix in {".html", ".htm"}:
        docs = [_load_html(data, source)]
    elif suffix == ".pdf":
        docs = [_load_pdf(data, source)]
    elif suffix == ".docx":
        docs = [_load_docx(data, source)]
    elif suffix == ".csv":
        docs = _load_faq_rows(_csv_rows(decode_bytes(data)), source, warn)
    elif suffix == ".xlsx":
        docs = _load_faq_rows(_xlsx_rows(data), source, warn)
    else:
        docs = _load_faq_yaml(decode_bytes(data), source, warn)
    for doc in docs:
        if not doc.roles:
            doc.roles = folder_roles
    docs = [d for d in docs if d.kind == "faq" or any(s.text.strip() for s in d.sections)]
    if not docs:
        raise LoadError("no_text")
    return docs


# --- Markdown and plain text ----------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
# Markdown escapes (\*, \[) are noise in quotes and in the lexical index.
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


def clean_inline(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def _load_markdown(text: str, source: str) -> Document:
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            detail = str(getattr(exc, "problem", None) or exc)
            if mark is None:
                raise LoadError("malformed_front_matter_no_line", detail=detail) from None
            raise LoadError("malformed_front_matter", line=mark.line + 2, detail=detail) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise LoadError("front_matter_not_mapping")
        meta = loaded or {}
        text = text[match.end() :]
    sections = _markdown_sections(_markdown_html(text))
    title = str(meta.get("title") or "").strip()
    if not title:
        title = next((s.heading_path[0] for s in sections if s.heading_path), "") or _title_from(source)
    sections = _root_under_title(sections, title)
    body = " ".join(s.text for s in sections[:5])
    lang = _norm_lang(meta.get("lang")) or detect_lang(title + " " + body)
    counterpart = meta.get("zh_version") or meta.get("en_version")
    return Document(
        source=source,
        title=clean_inline(title),
        lang=lang,
        roles=parse_roles(meta.get("roles")),
        sections=sections,
        counterpart=str(counterpart) if counterpart else None,
    )


# What Markdown editors write into .md files beyond Markdown. HTML: Typora resizes a screenshot as `<img src
# alt style="zoom:50%">`, writers break lines in table cells with `<br>`, colour a warning with `<font>` and
# hide drafts in comments. A reader sees none of the tags (nor the comments); a button name in angle
# brackets (`点击<确定>`) is no tag and stays. Obsidian: `[[收货流程|收货]]` links show their text, `![[截图.png]]`
# embeds a picture (kept by name: its folder is the vault's, not the manual's), `> [!warning] 注意` a callout.
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_IMG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
_HTML_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HTML_FORMAT = re.compile(
    r"</?(?:font|span|u|b|i|s|em|strong|mark|sup|sub|small|big|center|div|p|kbd|details|summary|ins|del)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_WIKI_EMBED = re.compile(r"!\[\[([^\]\n|]+?)(?:\|[^\]\n]*)?\]\]")
_WIKI_LINK = re.compile(r"\[\[([^\]\n|#]*)(?:#([^\]\n|]*))?(?:\|([^\]\n]+))?\]\]")
_CALLOUT = re.compile(r"^(\s*>\s*)\[![\w-]+\][+-]?[ \t]*", re.M)
_HTML_ATTR = re.compile(r"""\b(alt|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _markdown_html(text: str) -> str:
    """`text` with the HTML above turned into what it shows, outside code blocks (where it is the text)."""
    parts = re.split(r"(^(?:```|~~~).*?(?:^(?:```|~~~)[^\n]*$|\Z))", text, flags=re.M | re.S)
    return "".join(part if i % 2 else _html_shown(part) for i, part in enumerate(parts))


def _html_shown(text: str) -> str:
    text = _HTML_COMMENT.sub("", text)

    def img(match: re.Match) -> str:
        attrs = {
            m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in _HTML_ATTR.finditer(match.group())
        }
        return screenshot_markdown(attrs.get("alt"), attrs.get("src")).strip()

    text = _HTML_IMG.sub(img, text)
    text = _WIKI_EMBED.sub(
        lambda m: screenshot_markdown(PurePosixPath(m.group(1).strip()).stem, "").strip(), text
    )
    text = _WIKI_LINK.sub(
        lambda m: (m.group(3) or PurePosixPath(m.group(1).strip()).name or m.group(2) or "").strip(), text
    )
    text = _CALLOUT.sub(r"\1", text)
    lines = []
    for line in text.split("\n"):
        # In a table row a line break would end the row: the cell's lines are joined with a space there.
        # In a step, the next line is indented under it, so it stays part of the step.
        item = re.match(r"\s*(?:\d+[.)、]|[-*+])\s+|\s*", line)
        line = _HTML_BR.sub(" " if line.lstrip().startswith("|") else "\n" + " " * item.end(), line)
        lines.append(_HTML_FORMAT.sub("", line))
    return "\n".join(lines)


def _markdown_sections(text: str) -> list[Section]:
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = normalize_blank_lines("\n".join(lines))
        if body:
            sections.append(Section(tuple(h for _, h in stack), body))
        lines.clear()

    source_lines = text.splitlines()
    underline = None  # index of a setext heading's underline, read with the heading above it
    for i, line in enumerate(source_lines):
        if i == underline:
            continue
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        heading = None
        if not in_fence:
            if match := _HEADING.match(line):
                heading = (len(match.group(1)), match.group(2))
            elif level := _setext_level(source_lines, i):
                heading, underline = (level, line), i + 1
        if heading:
            flush()
            level, name = heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, clean_inline(name.strip())))
        else:
            lines.append(clean_inline(line) if not in_fence else line)
    flush()
    return sections


_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_SETEXT = re.compile(r"^\s*(?:[-*+>|]|\d+[.)]\s)")


def _setext_level(lines: list[str], i: int) -> int:
    """1 or 2 when lines[i] is a heading underlined with === or --- (setext, as README-style manuals write
    them), else 0. Only a line standing alone (after a blank line or a heading) counts: under the last line
    of a longer paragraph, "---" is more often meant as a rule. A list item or table row is no heading."""
    if i + 1 >= len(lines) or not lines[i].strip() or _NOT_SETEXT.match(lines[i]):
        return 0
    if i > 0 and lines[i - 1].strip() and not _HEADING.match(lines[i - 1]):
        return 0
    match = _SETEXT.match(lines[i + 1])
    if not match:
        return 0
    return 1 if match.group(1)[0] == "=" else 2


def _root_under_title(sections: list[Section], title: str) -> list[Section]:
    """Every heading path starts with the page title (an H1 equal to it is not repeated)."""
    out = []
    for s in sections:
        path = s.heading_path
        if not path or path[0] != title:
            path = (title, *path)
        out.append(Section(path, s.text))
    return out


def _load_text(text: str, source: str) -> Document:
    lines = [ln for ln in text.splitlines()]
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    title = first if 0 < len(first) <= 80 else _title_from(source)
    if first == title:
        lines = lines[next(i for i, ln in enumerate(lines) if ln.strip()) + 1 :]
    return Document(
        source=source,
        title=title,
        lang=detect_lang(text[:2000]),
        sections=_text_sections(lines, title),
    )


# How Chinese documents number their outline, chapter down to sub-section: 第一章, 第一节, 一、, （一）, 1.1, 1.1.1.
# (A bare "1." numbers steps, not headings.)
_TEXT_HEADINGS = [
    re.compile(r"^第[一二三四五六七八九十百零〇\d]+章[\s：:]*\S"),
    re.compile(r"^第[一二三四五六七八九十百零〇\d]+节[\s：:]*\S"),
    re.compile(r"^[一二三四五六七八九十]+[、．.]\s*\S"),
    re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*\S"),
    re.compile(r"^\d+\.\d+\.?\s*[^\d.\s]"),
    re.compile(r"^\d+\.\d+\.\d+\.?\s*[^\d.\s]"),
]
_SENTENCE_MARKS = re.compile(r"[。，；！？,;!?]|[.:：]$")


def numbered_heading_level(line: str) -> int:
    """The outline level of a plain-text line that numbers a heading, else 0: a short line of its own
    with no sentence in it (`一、收货`, not `一、到货后先验收，再入库。`)."""
    line = line.strip()
    if len(line) > 40 or _SENTENCE_MARKS.search(line):
        return 0
    levels = [level for level, pattern in enumerate(_TEXT_HEADINGS, 1) if pattern.match(line)]
    return max(levels, default=0)


def numbered_heading_ranks(lines: Iterable[str]) -> dict[int, int]:
    """The kinds of numbered heading (`numbered_heading_level`) the lines use, each with its rank among
    them, 1 the highest (第一章 above 一、 above （一） above 1.1); empty unless at least two lines number a
    heading, since one such line may be chance."""
    kinds = [kind for line in lines if (kind := numbered_heading_level(line))]
    if len(kinds) < 2:
        return {}
    return {kind: rank for rank, kind in enumerate(sorted(set(kinds)), 1)}


def _text_sections(lines: list[str], title: str) -> list[Section]:
    """A plain-text manual in sections by its numbered headings when it has at least two, else one."""
    ranks = numbered_heading_ranks(lines)
    if not ranks:
        return [Section((title,), normalize_blank_lines("\n".join(lines)))]
    levels = [ranks.get(numbered_heading_level(line), 0) for line in lines]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        if text := normalize_blank_lines("\n".join(body)):
            sections.append(Section((title, *(name for _, name in stack)), text))
        body.clear()

    for line, level in zip(lines, levels, strict=True):
        if not level:
            body.append(line)
            continue
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, " ".join(line.split())))
    flush()
    return sections


def normalize_blank_lines(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n")).strip()


def _title_from(source: str) -> str:
    stem = PurePosixPath(source).stem
    return re.sub(r"[-_]+", " ", stem).strip() or stem


def _norm_lang(value: object) -> str:
    if not value:
        return ""
    v = str(value).strip().lower().replace("_", "-")
    if v.startswith("zh") or v in {"cn", "chinese", "中文"}:
        return "zh"
    if v.startswith("en") or v == "english":
        return "en"
    return ""


# --- HTML, PDF, DOCX ------------------------------------------------------------------------------


def _load_html(data: bytes, source: str) -> Document:
    from bs4 import BeautifulSoup

    from knowledge.html import html_markdown

    text = decode_bytes(data)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe"]):
        tag.decompose()
    for img in soup.find_all("img"):
        img.replace_with(screenshot_markdown(img.get("alt"), img.get("src")))
    title = ""
    if soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(strip=True)
    h1 = soup.find("h1")
    if not title and h1:
        title = h1.get_text(" ", strip=True)
    title = title or _title_from(source)
    for tag in soup(["head", "title"]):  # read above; a page without <body> has no other text there
        tag.decompose()
    # Markdown in document order, so that sections and lists work as for .md.
    markdown = html_markdown(soup.body or soup)
    doc = _load_markdown(markdown, source)
    doc.title = title
    doc.sections = _root_under_title(
        [
            Section(s.heading_path[1:] if s.heading_path[:1] == (doc.title,) else s.heading_path, s.text)
            for s in doc.sections
        ],
        title,
    )
    lang_attr = soup.find("html").get("lang") if soup.find("html") else None
    doc.lang = _norm_lang(lang_attr) or detect_lang(title + " ".join(s.text for s in doc.sections[:5]))
    return doc


def _load_pdf(data: bytes, source: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from knowledge.pdf import outline_headings, pdf_sections

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("encrypted_pdf")
        pages = [(page.extract_text() or "") for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError("broken_pdf", error=exc.__class__.__name__, detail=str(exc)) from None
    title = str(meta_title).strip() or _title_from(source)
    sections = pdf_sections(pages, outline_headings(reader), title)
    if not sections:
        raise LoadError("scanned_pdf")
    return Document(
        source=source,
        title=title,
        lang=detect_lang(title + " " + " ".join(s.text for s in sections[:5])),
        sections=sections,
    )


def _load_docx(data: bytes, source: str) -> Document:
    import zipfile

    import docx

    from knowledge.word import docx_markdown

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError("broken_docx", error=exc.__class__.__name__, detail=str(exc)) from None
    styled_title, markdown = docx_markdown(document)
    title = (document.core_properties.title or "").strip() or styled_title
    title = title or _title_from(source)
    sections = _root_under_title(_markdown_sections(markdown), title)
    return Document(
        source=source,
        title=title,
        lang=detect_lang(title + " ".join(s.text for s in sections[:5])),
        sections=sections,
    )


# --- FAQ files ------------------------------------------------------------------------------------

_FAQ_KEYS = {
    "question": ("question", "q", "问题"),
    "answer": ("answer", "a", "答案", "回答"),
    "roles": ("roles", "role", "角色"),
    "lang": ("lang", "language", "语言"),
    "source": ("source", "page", "来源"),
    "id": ("id", "faq_id"),
}


def _csv_rows(text: str) -> list[dict]:
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.count("\n") else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.DictReader(io.StringIO(text), dialect=dialect))
    except csv.Error as exc:
        raise LoadError("malformed_csv", detail=str(exc)) from None


def _xlsx_rows(data: bytes) -> list[dict]:
    """An Excel FAQ's rows as dicts, by its header row (the first row with anything in it). Every visible
    sheet whose header names a question and an answer column is read (one sheet per module is common);
    when none does, the first sheet, so the error names the columns it has."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException) as exc:
        raise LoadError("broken_xlsx", error=exc.__class__.__name__, detail=str(exc)) from None
    try:
        sheets = [_sheet_rows(ws) for ws in book.worksheets if ws.sheet_state == "visible"]
    finally:
        book.close()

    def has(header: list[str], key: str) -> bool:
        return any(_faq_key(h) in _FAQ_KEYS[key] for h in header)

    faq = [rows for header, rows in sheets if has(header, "question") and has(header, "answer")]
    if faq:
        return [row for rows in faq for row in rows]
    return sheets[0][1] if sheets else []


def _sheet_rows(ws) -> tuple[list[str], list[dict]]:
    """(header, rows below it); a row has every header's key, blank where the row is short."""
    rows = iter(ws.iter_rows(values_only=True))
    header: list[str] = []
    for values in rows:
        if any(_cell(v) for v in values):
            header = [_cell(v) for v in values]
            break
    out = []
    for values in rows:
        cells = [_cell(v) for v in values] + [""] * max(0, len(header) - len(values))
        out.append({h: c for h, c in zip(header, cells, strict=False) if h})
    return header, out


def _cell(value: object) -> str:
    """A cell as the sheet shows it: 3, not 3.0; a date as 2026-12-01."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat().removesuffix("T00:00:00")
    return str(value).strip()


def _load_faq_yaml(text: str, source: str, warn: Callable[[Reason], None] | None = None) -> list[Document]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = str(getattr(exc, "problem", None) or exc)
        if mark is None:
            raise LoadError("malformed_yaml_no_line", detail=detail) from None
        raise LoadError("malformed_yaml", line=mark.line + 1, detail=detail) from None
    if isinstance(data, dict):
        data = data.get("faq") or data.get("faqs") or data.get("entries") or data.get("questions")
    if not isinstance(data, list):
        raise LoadError("faq_yaml_not_list")
    return _load_faq_rows([row for row in data if isinstance(row, dict)], source, warn)


def _faq_key(column: object) -> str:
    """A FAQ file's column name as `_FAQ_KEYS` spells it (" 问题 ", "Question", a BOM before the first)."""
    return str(column).strip().lower().lstrip("\ufeff")


def _load_faq_rows(
    rows: list[dict], source: str, warn: Callable[[Reason], None] | None = None
) -> list[Document]:
    if not rows:
        raise LoadError("no_faq_entries")
    # Every row's keys, not the first one's: a YAML entry may leave out what it does not need (source, roles).
    keys: dict[str, object] = {}
    for row in rows:
        for k in row:
            if k is not None:
                keys.setdefault(_faq_key(k), k)

    def col(name: str) -> str | None:
        return next((keys[k] for k in _FAQ_KEYS[name] if k in keys), None)

    q_col, a_col = col("question"), col("answer")
    if q_col is None or a_col is None:
        found = ", ".join(map(repr, keys))
        q_names, a_names = ", ".join(_FAQ_KEYS["question"]), ", ".join(_FAQ_KEYS["answer"])
        if q_col is None and a_col is None:
            raise LoadError(
                "faq_no_question_or_answer_column", question_names=q_names, answer_names=a_names, found=found
            )
        if q_col is None:
            raise LoadError("faq_no_question_column", question_names=q_names, found=found)
        raise LoadError("faq_no_answer_column", answer_names=a_names, found=found)
    r_col, l_col, s_col, i_col = col("roles"), col("lang"), col("source"), col("id")
    docs = []
    for n, row in enumerate(rows, 1):
        question = str(row.get(q_col) or "").strip()
        answer = str(row.get(a_col) or "").strip()
        if not question or not answer:
            if (question or answer) and warn:  # a blank row is nothing; half an entry is a mistake
                code = "faq_entry_no_answer" if question else "faq_entry_no_question"
                warn(Reason(code, {"entry": n, "excerpt": _excerpt(question or answer)}))
            continue
        faq_id = str(row.get(i_col) or "").strip() if i_col else ""
        faq_id = faq_id or str(n)
        lang = _norm_lang(row.get(l_col) if l_col else None) or detect_lang(question + answer)
        cites = str(row.get(s_col) or "").strip() if s_col else ""
        docs.append(
            Document(
                source=f"{source}#{faq_id}",
                title=question,
                lang=lang,
                roles=parse_roles(row.get(r_col) if r_col else None),
                kind="faq",
                faq_id=faq_id,
                question=question,
                answer=answer,
                cites=cites or None,
            )
        )
    if not docs:
        raise LoadError("no_complete_faq_entries")
    return docs


def _excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
