"""Screenshots in manual text: Markdown images `![alt](src)`, kept in passages as the manual wrote them.

Passages keep the Markdown, so an answer can show the screenshots of the steps it quotes. What the model
and the lexical index see has each screenshot replaced by its alt text: file names and URLs are not
words anyone asks with. The source may contain spaces and Chinese (`images/收货 界面.png`, as editors
write it), be written `<...>`, and carry a title (`"..."`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# alt, then src: <...>, or text with balanced parentheses (`shot(1).png`), then an optional "title".
SCREENSHOT = re.compile(
    r"!\[(?P<alt>[^\]\n]*)\]\(\s*(?P<src><[^<>\n]*>|(?:[^()\n]|\([^()\n]*\))*?)"
    r"(?:\s+\"[^\"\n]*\")?\s*\)"
)


@dataclass(frozen=True)
class Screenshot:
    alt: str  # as written; may be empty
    src: str  # as written, without the <> around it; relative to the manual's folder, or a URL
    index: int = 0  # which `![...](...)` of the text it is, counting those without a source too


def find_screenshots(text: str) -> list[Screenshot]:
    """The screenshots in `text`, in order (those without a source left out)."""
    out = []
    for index, match in enumerate(SCREENSHOT.finditer(text or "")):
        src = match.group("src").strip()
        if src.startswith("<") and src.endswith(">"):
            src = src[1:-1].strip()
        if src:
            out.append(Screenshot(match.group("alt").strip(), src, index))
    return out


def alt_text_only(text: str) -> str:
    """`text` with each screenshot replaced by its alt text (what search should read)."""
    return SCREENSHOT.sub(lambda m: m.group("alt").strip(), text)


def screenshot_spans(text: str) -> list[tuple[int, int]]:
    """Where the screenshots are in `text` (start, end), for cutting text without breaking one."""
    return [m.span() for m in SCREENSHOT.finditer(text)]


def screenshot_markdown(alt: object, src: object) -> str:
    """A picture of an HTML or Word manual as a Markdown screenshot, so its steps keep their screenshots as
    a .md manual's do. One with nothing to fetch (inlined as data:, megabytes of base64, or embedded in a
    .docx) keeps its alt text only: `![收货界面]()` is searched as 收货界面 and quoted as [收货界面]."""
    alt = " ".join(str(alt or "").split()).replace("[", "(").replace("]", ")")
    src = re.sub(r"[\r\n\t]", "", str(src or "")).strip().replace("<", "%3C").replace(">", "%3E")
    if not src or src.lower().startswith("data:"):
        return f" ![{alt}]() " if alt else " "
    if re.search(r"[\s()]", src):
        src = f"<{src}>"
    return f" ![{alt}]({src}) "
