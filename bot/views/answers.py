"""Answer and abstain messages for a search result, within Slack's Block Kit limits."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from bot import ids
from bot.i18n import LANGUAGES, t
from bot.views.text import (
    BUTTON_VALUE_LIMIT,
    docs_url,
    escape,
    link,
    mark_screenshots,
    markdown_to_mrkdwn,
    plain,
    screenshot_path,
    screenshot_url,
    split_for_sections,
    truncate,
    unmark,
)
from knowledge.screenshots import Screenshot, find_screenshots
from knowledge.types import Hit, SearchResult

_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s+.*$", re.MULTILINE)

ACTIONS_BLOCK = "answer_actions"
QUESTION_QUOTE_LIMIT = 500
SCREENSHOTS_SHOWN = 3  # image blocks under a quoted section, at most
MESSAGE_BLOCK_LIMIT = 50


@dataclass
class AnswerContext:
    """What the view needs besides the search result."""

    lang: str  # UI language: "zh-CN" | "en"
    question_id: int | None  # QuestionLog id, carried by the rating buttons
    docs_base_url: str = ""
    asker: str | None = None  # Slack user id; shown when the answer is public (mention, share)
    show_question: bool = False  # quote the question above the answer (mentions, shares)
    shareable: bool = False  # ephemeral answers get a "Share to channel" button
    rateable: bool = True
    shared: bool = False  # posted in a channel (shared, or in its thread): everyone there may rate it
    role: str | None = None
    extra_context: list[str] = field(default_factory=list)


@dataclass
class Message:
    """A message body for chat.postMessage / respond(): fallback text plus blocks."""

    text: str
    blocks: list[dict]

    def as_kwargs(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


def hit_body(hit: Hit, *, headings: bool = True, marked: bool = False) -> str:
    """A hit as mrkdwn: a FAQ entry's question in bold above its answer, else the passage (without its
    heading lines when the citation shown beside it names them already). `marked`: with the marks of
    `mark_screenshots`, for a caller that cuts the text and then asks `unmark` what is left."""
    mark = mark_screenshots if marked else str
    if hit.kind == "faq" and hit.answer:
        return f"*{escape(hit.text)}*\n{markdown_to_mrkdwn(mark(hit.answer))}"
    text = mark(hit.text)
    return markdown_to_mrkdwn(text if headings else _HEADING_LINE.sub("", text))


def screenshot_blocks(
    hit: Hit, docs_base_url: str, limit: int = SCREENSHOTS_SHOWN, shown: set[int] | None = None
) -> list[dict]:
    """Image blocks for the first `limit` screenshots of a quoted section that Slack can download (see
    `screenshot_url`); the others stay alt text in the quote. `shown`: the numbers of the screenshots
    whose place the quote still holds (see `unmark`); None = all. Alt text: the screenshot's, else the
    section's heading."""
    blocks: list[dict] = []
    for shot in _screenshots(hit):
        if len(blocks) == limit:
            break
        if shown is not None and shot.index not in shown:
            continue
        url = screenshot_url(docs_base_url, hit.source, shot.src)
        if url is None:
            continue
        alt = plain(_screenshot_name(hit, shot), 2000)
        block = {
            "type": "image",
            "block_id": f"{ids.SCREENSHOT_BLOCK}:{len(blocks) + 1}",
            "image_url": url,
            "alt_text": alt,
        }
        if shot.alt:  # the caption above the picture names it as the quote does: [收货界面]
            block["title"] = {"type": "plain_text", "text": alt, "emoji": True}
        blocks.append(block)
    return blocks


def screenshot_links(hit: Hit, docs_base_url: str) -> list[tuple[str, str]]:
    """(name, where) of each screenshot of a quoted section, for a terminal: the URL Slack would load it
    from, else its path under the knowledge root; a data:, file: or script source is left out."""
    links = []
    for shot in _screenshots(hit):
        where = screenshot_url(docs_base_url, hit.source, shot.src) or screenshot_path(hit.source, shot.src)
        if where:
            links.append((_screenshot_name(hit, shot), where))
    return links


def _screenshots(hit: Hit) -> list[Screenshot]:
    """The screenshots of what the answer quotes: a FAQ entry's answer, else the passage."""
    return find_screenshots(hit.answer if hit.kind == "faq" and hit.answer else hit.text)


def _screenshot_name(hit: Hit, shot: Screenshot) -> str:
    return shot.alt or (hit.heading_path[-1] if hit.heading_path else hit.title) or "screenshot"


def has_screenshots(blocks: list[dict]) -> bool:
    return any(_is_screenshot(block) for block in blocks)


def without_screenshots(blocks: list[dict]) -> list[dict]:
    """The same blocks without the screenshots' image blocks (their alt text is still in the quote)."""
    return [block for block in blocks if not _is_screenshot(block)]


def _is_screenshot(block: dict) -> bool:
    return str(block.get("block_id") or "").partition(":")[0] == ids.SCREENSHOT_BLOCK


def rating_reminder_message(lang: str, question_id: int) -> Message:
    """The one nudge an unrated answer gets in its thread: the same 👍/👎 as under the answer."""
    text = t("slack.answer.rating_reminder", lang)
    qid = str(question_id)
    buttons = [
        _button(ids.FEEDBACK_HELPFUL, t("slack.answer.helpful", lang), qid, style="primary"),
        _button(ids.FEEDBACK_NOT_HELPFUL, t("slack.answer.not_helpful", lang), qid),
    ]
    return Message(
        text,
        [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons},
        ],
    )


def answer_message(result: SearchResult, ctx: AnswerContext) -> Message:
    """The answer view when the search answered, the abstain view when it did not."""
    if not result.answered or result.best is None:
        return abstain_message(result, ctx)
    best = result.best
    lang = ctx.lang
    blocks: list[dict] = []
    if ctx.show_question and ctx.asker:
        blocks.append(
            _context(t("slack.answer.asked", lang, user=ctx.asker, question=_quote(result.question)))
        )
    chunks, truncated = split_for_sections(hit_body(best, marked=True), max_sections=3)
    shown: set[int] = set()
    for i, chunk in enumerate(chunks):
        chunks[i], marks = unmark(chunk)
        shown |= marks
    for chunk in chunks:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if truncated:
        blocks.append(_context(t("slack.answer.truncated", lang)))
    screenshots_at = len(blocks)
    source = citation(best, ctx.docs_base_url, lang, answer=True)
    if not lang.startswith(best.lang):
        # An English asker quoted a Chinese-only page (or the other way round) knows it is no glitch.
        source = f"{source} · {t(f'slack.answer.written_in_{best.lang}', lang)}"
    blocks.append(_context(t("slack.answer.source", lang, citation=source)))
    related = result.related(3)
    if related:
        lines = [t("slack.answer.related", lang)]
        lines += [f"• {citation(hit, ctx.docs_base_url, lang)}" for hit in related]
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate("\n".join(lines), 3000)}}
        )
    for extra in ctx.extra_context:
        blocks.append(_context(extra))
    if ctx.shared and ctx.rateable and ctx.question_id is not None:
        blocks.append(colleague_ratings_block(lang, 0, 0))
    blocks.append(_actions(result, ctx, answered=True))
    room = min(SCREENSHOTS_SHOWN, MESSAGE_BLOCK_LIMIT - len(blocks))
    if room > 0:
        blocks[screenshots_at:screenshots_at] = screenshot_blocks(best, ctx.docs_base_url, room, shown)
    fallback = t("slack.answer.fallback", lang, citation=escape(best.citation))
    return Message(text=truncate(fallback, 3000), blocks=blocks)


def abstain_message(result: SearchResult, ctx: AnswerContext) -> Message:
    """Say plainly that the manuals do not cover it, show the nearest sections, offer a ticket."""
    lang = ctx.lang
    blocks: list[dict] = []
    if ctx.show_question and ctx.asker:
        blocks.append(
            _context(t("slack.answer.asked", lang, user=ctx.asker, question=_quote(result.question)))
        )
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{t('slack.answer.abstain_title', lang)}*\n{t('slack.answer.abstain_body', lang)}",
            },
        }
    )
    nearest = result.hits[:3]
    if nearest:
        lines = [t("slack.answer.abstain_nearest", lang)]
        lines += [f"• {citation(hit, ctx.docs_base_url, lang)}" for hit in nearest]
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate("\n".join(lines), 3000)}}
        )
    blocks.append(_actions(result, ctx, answered=False))
    fallback = t("slack.answer.abstain_fallback", lang, question=_quote(result.question))
    return Message(text=fallback, blocks=blocks)


def searching_message(lang: str) -> Message:
    text = t("slack.answer.searching", lang)
    return Message(text=text, blocks=[_context(text)])


def error_message(lang: str, key: str = "slack.answer.error") -> Message:
    text = t(key, lang)
    return Message(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def citation_label(hit: Hit, lang: str, *, answer: bool = False) -> str:
    """`Title › Heading` (plain text). A FAQ entry says so; as the source of an answer (`answer`: its
    question is shown above) it names the page it cites instead of repeating its question."""
    label = hit.citation or hit.source
    if hit.kind != "faq":
        return label
    if not answer:
        return t("slack.answer.faq_item", lang, question=label)
    faq = t("slack.answer.faq", lang)
    return f"{faq} · {hit.cites_title}" if hit.cites_title else faq


def citation(hit: Hit, docs_base_url: str, lang: str, *, answer: bool = False) -> str:
    """`citation_label` as mrkdwn, linked to the manual (for a FAQ entry, the page it cites) when
    DOCS_BASE_URL is set."""
    return link(docs_url(docs_base_url, hit.page), citation_label(hit, lang, answer=answer))


def ticket_value(question: str, question_id: int | None, sources: list[str]) -> str:
    """The Open-a-ticket button's value: JSON {q, question, sources}, kept under Slack's 2,000 chars."""
    question = question[:1200]
    sources = list(sources[:3])
    while True:
        value = json.dumps({"q": question_id, "question": question, "sources": sources}, ensure_ascii=False)
        if len(value) <= BUTTON_VALUE_LIMIT:
            return value
        if sources:
            sources.pop()
        else:
            question = question[: len(question) // 2]


def parse_ticket_value(value: str | None) -> dict:
    """The inverse of ticket_value, for the tickets listener. A malformed value (a forged or cut button)
    gives empty fields: the report form then opens blank rather than failing."""
    try:
        data = json.loads(value or "{}")
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    q = data.get("q")
    sources = data.get("sources")
    return {
        "q": q if isinstance(q, int) and not isinstance(q, bool) else None,
        "question": str(data.get("question") or ""),
        "sources": sources if isinstance(sources, list) else [],
    }


def rated_blocks(blocks: list[dict], note: str, *, keep_ticket: bool) -> list[dict]:
    """The same message after a rating: the rating buttons replaced by a note (ticket button kept)."""
    out: list[dict] = []
    for block in blocks:
        if block.get("block_id") != ACTIONS_BLOCK:
            out.append(block)
            continue
        out.append(_context(note))
        if keep_ticket:
            kept = [el for el in block.get("elements", []) if el.get("action_id") == ids.OPEN_TICKET]
            if kept:
                out.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": kept})
    return out


def colleague_ratings_block(lang: str, helpful: int, not_helpful: int) -> dict:
    """The colleague ratings of a shared answer, e.g. "同事评价：👍 3 · 👎 1", in the message's language
    (kept in the block id, since a click may come from someone who reads another)."""
    if helpful or not_helpful:
        text = t("slack.answer.colleague_ratings", lang, helpful=helpful, not_helpful=not_helpful)
    else:
        text = t("slack.answer.colleague_ratings_none", lang)
    return _context(text) | {"block_id": f"{ids.COLLEAGUE_RATINGS_BLOCK}:{lang}"}


def with_colleague_ratings(blocks: list[dict], helpful: int, not_helpful: int, lang: str) -> list[dict]:
    """The same shared answer with its colleague ratings redrawn (`lang` only if the message never
    named its own), placed above the buttons."""
    out: list[dict] = []
    placed = False
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        name, _, own = block_id.partition(":")
        if name == ids.COLLEAGUE_RATINGS_BLOCK:
            out.append(colleague_ratings_block(own if own in LANGUAGES else lang, helpful, not_helpful))
            placed = True
            continue
        if block_id == ACTIONS_BLOCK and not placed:
            out.append(colleague_ratings_block(lang, helpful, not_helpful))
            placed = True
        out.append(block)
    return out


def _actions(result: SearchResult, ctx: AnswerContext, *, answered: bool) -> dict:
    lang = ctx.lang
    qid = "" if ctx.question_id is None else str(ctx.question_id)
    elements: list[dict] = []
    if answered and ctx.rateable and qid:
        helpful, not_helpful = (
            (ids.SHARED_HELPFUL, ids.SHARED_NOT_HELPFUL)
            if ctx.shared
            else (ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL)
        )
        elements.append(_button(helpful, t("slack.answer.helpful", lang), qid, style="primary"))
        elements.append(_button(not_helpful, t("slack.answer.not_helpful", lang), qid))
    sources = [hit.citation or hit.source for hit in result.hits[:3]]
    ticket = _button(
        ids.OPEN_TICKET,
        t("slack.answer.open_ticket", lang),
        ticket_value(result.question, ctx.question_id, sources),
        style=None if answered else "primary",
    )
    elements.append(ticket)
    if ctx.shareable and qid:
        elements.append(_button(ids.SHARE_ANSWER, t("slack.answer.share", lang), qid))
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": truncate(label, 75), "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _context(mrkdwn: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn, 3000)}]}


def _quote(question: str) -> str:
    return escape(truncate(" ".join(question.split()), QUESTION_QUOTE_LIMIT))
