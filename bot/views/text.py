"""Text helpers for Slack mrkdwn: escaping user text, converting manual Markdown, fitting limits."""

from __future__ import annotations

import datetime as dt
import itertools
import posixpath
import re
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from knowledge.screenshots import SCREENSHOT

SECTION_LIMIT = 3000  # characters of text in a section block
BUTTON_VALUE_LIMIT = 2000

URL_LIMIT = 3000  # characters of an image block's image_url (and a button's url)

_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>|]+$")
_HTTP_URL = re.compile(r"^https?://[^/\s]", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # data:, file:, javascript:, C:\...
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~"  # what a URL may already hold: kept, everything else percent-encoded
# One mark per screenshot, from Unicode's supplementary private use area (no manual writes these).
_MARK = 0xF0000
_MARKS = re.compile("[\U000f0000-\U000ffffd]")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control in mrkdwn and plain text.

    Applied to everything a user or a document wrote, so `<!channel>` typed by anyone never pings.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_to_mrkdwn(text: str) -> str:
    """Manual Markdown -> Slack mrkdwn, escaped: **bold** -> *bold*, [t](url) -> <url|t>, # H -> *H*.

    Links are kept only for http(s)/mailto targets; screenshots become their alt text (Slack cannot inline
    them in a section; the answer shows them as image blocks below the quote)."""
    text = screenshot_names(escape(text))
    text = _LINK.sub(_link, text)
    text = _BOLD.sub(r"*\1*", text)
    text = _HEADING.sub(r"*\1*", text)
    return text


def mark_screenshots(text: str) -> str:
    """`text` with an invisible mark before each screenshot, numbered as `find_screenshots` numbers
    them, so that after the text is cut to Slack's limits `unmark` tells which screenshots a reader
    still sees the place of (a picture of steps the quote cut off would puzzle)."""
    text = _MARKS.sub("", text)
    numbers = itertools.count()
    return SCREENSHOT.sub(lambda m: chr(_MARK + next(numbers)) + m.group(0), text)


def unmark(text: str) -> tuple[str, set[int]]:
    """`text` without the marks of `mark_screenshots`, and the numbers of the screenshots marked in it."""
    return _MARKS.sub("", text), {ord(c) - _MARK for c in _MARKS.findall(text)}


def screenshot_names(text: str) -> str:
    """Each screenshot in `text` as its alt text in brackets (`[收货界面]`), one without alt text left out:
    where a picture cannot be shown inline, the words still say which one goes with which step."""
    return SCREENSHOT.sub(lambda m: f"[{m.group('alt').strip()}]" if m.group("alt").strip() else "", text)


def _link(m: re.Match) -> str:
    label, url = m.group(1), m.group(2).replace("&amp;", "&")
    if _SAFE_URL.match(url):
        return f"<{url}|{label.replace('|', '/')}>"
    return label


def link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped, or just the escaped label without a usable URL."""
    label = escape(label).replace("|", "/")
    if url and _SAFE_URL.match(url):
        return f"<{url}|{label}>"
    return label


def docs_url(base: str, source: str) -> str | None:
    """Where a cited manual can be read: DOCS_BASE_URL + its path (each segment percent-encoded)."""
    if not base or not source or source.startswith("faq:"):
        return None
    return base.rstrip("/") + "/" + "/".join(quote(part) for part in source.split("/"))


def screenshot_url(base: str, source: str, src: str) -> str | None:
    """Where Slack can download a screenshot of the manual `source`: an http(s) `src` as written, a
    relative one under DOCS_BASE_URL plus the manual's folder (spaces and Chinese percent-encoded, as
    `docs_url` does). None when there is no such URL: a relative `src` without DOCS_BASE_URL or outside
    the manuals, data:, file:, javascript: and every other scheme."""
    src = src.strip()
    if _HTTP_URL.match(src):
        url = quote(src, safe=_URL_SAFE)
    elif _SCHEME.match(src) or src.startswith(("//", "\\")):
        return None
    else:
        url = _under_docs(base, source, src)
    return url if url and len(url) <= URL_LIMIT and _SAFE_URL.match(url) else None


def screenshot_path(source: str, src: str) -> str | None:
    """A relative `src` of the manual `source` as a path under its knowledge root
    (`仓库/images/收货 界面.png`), what a knowledge admin at a terminal opens. None for a URL, for a
    path outside the manuals, and for a FAQ entry from a ticket ("faq:12": no folder to be relative to)."""
    split = _relative(source, src.strip())
    return unquote(split[0]) if split else None


def _relative(source: str, src: str) -> tuple[str, str] | None:
    """(path under the knowledge root, ?query#fragment) of a relative `src` of the manual `source`."""
    if not source or source.startswith("faq:") or _SCHEME.match(src) or src.startswith(("//", "\\")):
        return None
    cut = min((i for i in (src.find("?"), src.find("#")) if i >= 0), default=len(src))
    path, rest = src[:cut].replace("\\", "/"), src[cut:]
    if path.startswith("/"):  # from the root of the manuals, which DOCS_BASE_URL is
        path = posixpath.normpath(path.lstrip("/"))
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    if path in ("", ".", "..") or path.startswith("../"):
        return None
    return path, rest


def _under_docs(base: str, source: str, src: str) -> str | None:
    """A relative `src` of the manual `source` on the docs site."""
    split = _relative(source, src) if base else None
    if split is None:
        return None
    path, rest = split
    segments = "/".join(quote(unquote(part)) for part in path.split("/"))
    return f"{base.rstrip('/')}/{segments}{quote(rest, safe=_URL_SAFE)}"


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    # Prefer a line or sentence boundary near the end; never cut inside an escape like &amp;.
    for sep in ("\n", "。", ". "):
        pos = cut.rfind(sep)
        if pos > limit * 0.6:
            cut = cut[: pos + len(sep)]
            break
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut.rstrip() + ellipsis


def split_for_sections(
    text: str, limit: int = SECTION_LIMIT, max_sections: int = 3
) -> tuple[list[str], bool]:
    """Split mrkdwn into ≤ max_sections chunks of ≤ limit chars at line breaks; (chunks, was_truncated)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = line if len(line) <= limit else truncate(line, limit)
        if len(chunks) == max_sections:
            return chunks, True
    if current:
        chunks.append(current)
    if len(chunks) > max_sections:
        return chunks[:max_sections], True
    return chunks, False


def plain(text: str, limit: int) -> str:
    """Text for plain_text objects (headers, buttons, titles): one line, escaped, within `limit`."""
    return truncate(escape(" ".join(text.split())), limit)


def slack_time(
    moment: dt.datetime,
    tz: str,
    token: str = "{date_num} {time}",
    *,
    name_zone: bool = False,
    fallback_format: str = "%Y-%m-%d %H:%M",
) -> str:
    """A moment as Slack shows it to each reader, in their own time zone and clock (`token`: Slack's
    date format); the time in `tz` (as `fallback_format`, followed by the zone's name with `name_zone`)
    where a client cannot format dates."""
    fallback = moment.astimezone(ZoneInfo(tz)).strftime(fallback_format) + (f" {tz}" if name_zone else "")
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"
