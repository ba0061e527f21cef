"""Text helpers for Slack mrkdwn: escaping user text, converting manual Markdown, fitting limits."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

SECTION_LIMIT = 3000  # characters of text in a section block
BUTTON_VALUE_LIMIT = 2000

_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s]+)\)")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>|]+$")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control in mrkdwn and plain text.

    Applied to everything a user or a document wrote, so `<!channel>` typed by anyone never pings.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_to_mrkdwn(text: str) -> str:
    """Manual Markdown -> Slack mrkdwn, escaped: **bold** -> *bold*, [t](url) -> <url|t>, # H -> *H*.

    Links are kept only for http(s)/mailto targets; images become their alt text (Slack cannot inline
    them in a section)."""
    text = escape(text)
    text = _IMAGE.sub(lambda m: f"[{m.group(1) or 'image'}]" if m.group(1) else "", text)
    text = _LINK.sub(_link, text)
    text = _BOLD.sub(r"*\1*", text)
    text = _HEADING.sub(r"*\1*", text)
    return text


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
