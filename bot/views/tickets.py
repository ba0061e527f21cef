"""Block Kit for tickets: the report modal, the triage card, the resolve modal, closure notices, reminders.

Pure functions: plain values (or already-loaded `Ticket` rows, read by column only) in, blocks out.
Every piece of user text goes through `esc()`, so `<!channel>` typed by a user never pings anyone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import ids
from bot.i18n import t
from bot.views.answers import citation, hit_body, screenshot_blocks
from bot.views.text import escape, slack_time, truncate, unmark
from feedback.faq import REASON_MAX
from feedback.tickets import Category, Priority, RatingState, Status, Ticket
from knowledge.types import SearchResult

_SECTION_MAX = 2900  # Slack allows 3,000 characters in a section; leave room for the label
_INPUT_MAX = 3000  # plain_text_input max_length and initial_value limit
_METADATA_MAX = 3000  # private_metadata limit
_EXCERPT_MAX = 500  # a glimpse above the form; the whole section is a click away in the manual
_RELATED_MAX = 2


def esc(text: str | None) -> str:
    """Escape user text for mrkdwn: &, <, > (so <!channel>, <@U1> and links stay literal)."""
    return escape(text or "")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int = 150) -> dict:
    # plain_text is shown literally, but a zero-width space keeps `<!channel>` inert wherever it is copied.
    return {"type": "plain_text", "text": _cut(text.replace("<!", "<\u200b!"), limit), "emoji": True}


def _md(text: str) -> dict:
    return {"type": "mrkdwn", "text": _cut(text, _SECTION_MAX)}


def _option(text: str, value: str) -> dict:
    return {"text": _plain(text, 75), "value": value}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": _plain(text, 75), "action_id": action_id, "value": value[:2000]}
    if style:
        b["style"] = style
    return b


def duration(delta: dt.timedelta, lang: str) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, round(hours * 60))} min" if lang == "en" else f"{max(1, round(hours * 60))} 分钟"
    if hours < 48:
        return f"{hours:.0f} h" if lang == "en" else f"{hours:.0f} 小时"
    return f"{hours / 24:.0f} d" if lang == "en" else f"{hours / 24:.0f} 天"


def _sources_text(sources: Sequence[dict[str, Any]]) -> str:
    parts = []
    for s in list(sources)[:5]:
        title = esc(str(s.get("title") or s.get("source") or ""))
        url = s.get("url")
        parts.append(f"<{url}|{title}>" if url and title else title)
    return ", ".join(p for p in parts if p)


# ------------------------------------------------------------------------------------ report modal


@dataclass
class TicketDraft:
    """What the report modal starts with and carries to the submission (in private_metadata)."""

    title: str = ""
    description: str = ""
    source: str = "slash"  # slash, shortcut, answer
    key: str = ""  # idempotency key; empty = the view id
    origin_channel: str | None = None
    origin_ts: str | None = None
    permalink: str | None = None
    question_id: int | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)

    def metadata(self) -> str:
        data = {
            "s": self.source,
            "k": self.key,
            "c": self.origin_channel,
            "ts": self.origin_ts,
            "p": self.permalink,
            "q": self.question_id,
            "src": [
                {k: v for k, v in s.items() if k in ("title", "source", "url")} for s in self.sources[:5]
            ],
        }
        raw = json.dumps(data, ensure_ascii=False)
        while len(raw) > _METADATA_MAX and data["src"]:
            data["src"] = data["src"][:-1]  # sources are nice to have; the origin is not
            raw = json.dumps(data, ensure_ascii=False)
        return raw

    @classmethod
    def from_metadata(cls, raw: str) -> TicketDraft:
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            data = {}
        q = data.get("q")
        return cls(
            source=str(data.get("s") or "slash"),
            key=str(data.get("k") or ""),
            origin_channel=data.get("c"),
            origin_ts=data.get("ts"),
            permalink=data.get("p"),
            question_id=q if isinstance(q, int) else None,
            sources=[s for s in data.get("src") or [] if isinstance(s, dict)],
        )


def deflection_blocks(result: SearchResult, lang: str, docs_base_url: str = "") -> list[dict]:
    """The "these may already answer your question" part above the report form: the best section quoted
    short with its first screenshot and its citation (as the answer views cite it), and up to two related
    ones. Nothing when the search did not answer: a guess would only slow down someone who needs a person."""
    best = result.best
    if not result.answered or best is None:
        return []
    body = hit_body(best, headings=False, marked=True)  # the citation below names the headings
    excerpt, shown = unmark(truncate(body.strip(), _EXCERPT_MAX))
    lines = [line for line in excerpt.split("\n") if line.strip()]
    quoted = "\n".join(f"> {line}" for line in lines)
    blocks: list[dict] = [
        {"type": "section", "text": _md(f"{t('tickets.deflect.title', lang)}\n{quoted}")},
        # One: a hint above the form, not the whole manual.
        *screenshot_blocks(best, docs_base_url, limit=1, shown=shown),
        {
            "type": "context",
            "elements": [
                _md(
                    t(
                        "tickets.deflect.source",
                        lang,
                        citation=citation(best, docs_base_url, lang, answer=True),
                    )
                )
            ],
        },
    ]
    related = result.related(_RELATED_MAX)
    if related:
        items = [f"• {citation(hit, docs_base_url, lang)}" for hit in related]
        blocks.append(
            {"type": "section", "text": _md("\n".join([t("tickets.deflect.related", lang), *items]))}
        )
    blocks.append({"type": "context", "elements": [_md(t("tickets.deflect.still", lang))]})
    blocks.append({"type": "divider"})
    return blocks


def report_modal(
    lang: str,
    draft: TicketDraft,
    *,
    deflection: SearchResult | None = None,
    docs_base_url: str = "",
    external_id: str | None = None,
) -> dict:
    """The report form; with `deflection`, the knowledge-base answer to the text goes above it (the form
    stays the same, so Slack keeps what the user typed when views.update adds the answer).
    `external_id` lets a later views.update find the modal without its view id."""

    def text_input(block, action, label, hint, initial, *, multiline=False, optional=False, max_length=None):
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": action, "multiline": multiline}
        if initial:
            element["initial_value"] = _cut(initial, max_length or _INPUT_MAX)
        if max_length:
            element["max_length"] = max_length
        return {
            "type": "input",
            "block_id": block,
            "optional": optional,
            "label": _plain(label, 2000),
            "hint": _plain(hint, 2000),
            "element": element,
        }

    def select(block, action, label, options, initial):
        element = {"type": "static_select", "action_id": action, "options": options}
        element["initial_option"] = next(o for o in options if o["value"] == initial)
        return {"type": "input", "block_id": block, "label": _plain(label, 2000), "element": element}

    blocks: list[dict] = deflection_blocks(deflection, lang, docs_base_url) if deflection else []
    blocks += [
        text_input(
            ids.TICKET_TITLE_BLOCK, ids.TICKET_TITLE_INPUT, t("tickets.modal.summary", lang),
            t("tickets.modal.summary_hint", lang), draft.title, optional=True, max_length=200,
        ),
        text_input(
            ids.TICKET_DESCRIPTION_BLOCK, ids.TICKET_DESCRIPTION_INPUT, t("tickets.modal.description", lang),
            t("tickets.modal.description_hint", lang), draft.description, multiline=True, max_length=_INPUT_MAX,
        ),
        select(
            ids.TICKET_CATEGORY_BLOCK, ids.TICKET_CATEGORY_INPUT, t("tickets.modal.category", lang),
            [_option(t(f"tickets.category.{c.value}", lang), c.value) for c in Category], Category.HOW_TO.value,
        ),
        select(
            ids.TICKET_PRIORITY_BLOCK, ids.TICKET_PRIORITY_INPUT, t("tickets.modal.priority", lang),
            [_option(t(f"tickets.priority.{p.value}", lang), p.value) for p in Priority], Priority.NORMAL.value,
        ),
        text_input(
            ids.TICKET_MODULE_BLOCK, ids.TICKET_MODULE_INPUT, t("tickets.modal.module", lang),
            t("tickets.modal.module_hint", lang), "", optional=True, max_length=64,
        ),
    ]  # fmt: skip
    context = []
    if draft.permalink:
        context.append(t("tickets.modal.from_message", lang, permalink=f"<{draft.permalink}>"))
    if draft.sources:
        context.append(t("tickets.modal.from_answer", lang, sources=_sources_text(draft.sources)))
    if context:
        blocks.append({"type": "context", "elements": [_md("\n".join(context))]})
    modal = {
        "type": "modal",
        "callback_id": ids.TICKET_MODAL,
        "title": _plain(t("tickets.modal.title", lang), 24),
        "submit": _plain(t("tickets.modal.submit", lang), 24),
        "close": _plain(t("tickets.modal.cancel", lang), 24),
        "private_metadata": draft.metadata(),
        "blocks": blocks,
    }
    if external_id:
        modal["external_id"] = external_id
    return modal


def read_report(values: dict) -> dict[str, str | None]:
    """The modal's state.values -> fields for create_ticket (validation is the domain's job)."""

    def get(block: str, action: str) -> str | None:
        item = (values.get(block) or {}).get(action) or {}
        if item.get("type") == "static_select":
            return (item.get("selected_option") or {}).get("value")
        return item.get("value")

    return {
        "title": get(ids.TICKET_TITLE_BLOCK, ids.TICKET_TITLE_INPUT),
        "description": get(ids.TICKET_DESCRIPTION_BLOCK, ids.TICKET_DESCRIPTION_INPUT) or "",
        "category": get(ids.TICKET_CATEGORY_BLOCK, ids.TICKET_CATEGORY_INPUT) or Category.HOW_TO.value,
        "priority": get(ids.TICKET_PRIORITY_BLOCK, ids.TICKET_PRIORITY_INPUT) or Priority.NORMAL.value,
        "erp_module": get(ids.TICKET_MODULE_BLOCK, ids.TICKET_MODULE_INPUT),
    }


# Which modal block shows a domain error with this code.
ERROR_BLOCKS = {
    "description": ids.TICKET_DESCRIPTION_BLOCK,
    "title": ids.TICKET_TITLE_BLOCK,
    "module": ids.TICKET_MODULE_BLOCK,
    "bad_category": ids.TICKET_CATEGORY_BLOCK,
    "bad_priority": ids.TICKET_PRIORITY_BLOCK,
    "resolution": ids.RESOLVE_TEXT_BLOCK,
    "faq_question": ids.RESOLVE_FAQ_QUESTION_BLOCK,
    "faq_answer": ids.RESOLVE_FAQ_ANSWER_BLOCK,
    "bad_lang": ids.RESOLVE_FAQ_LANG_BLOCK,
    "bad_roles": ids.RESOLVE_FAQ_ROLES_BLOCK,
    "withdrawn_reason": ids.FAQ_WITHDRAW_REASON_BLOCK,
}


def error_block(code: str) -> str | None:
    for prefix, block in ERROR_BLOCKS.items():
        if code == prefix or code.startswith(prefix + "_"):
            return block
    return None


def error_text(code: str, lang: str, params: dict[str, Any], detail: str = "") -> str:
    safe = {k: (f"{v:,}" if isinstance(v, int) else esc(str(v))) for k, v in params.items()}
    try:
        return t(f"tickets.error.{code}", lang, detail=esc(detail), **safe)
    except (KeyError, IndexError):
        return t("tickets.error.invalid", lang, detail=esc(detail))


# ------------------------------------------------------------------------------------- confirmation


def confirmation(lang: str, ticket: Ticket, *, created: bool = True) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for the reporter's DM after a ticket was created (or found again)."""
    if created:
        head = t("tickets.confirm.created", lang, key=ticket.key, title=esc(ticket.title))
    else:
        head = t(
            "tickets.confirm.already", lang, key=ticket.key, status=t(f"tickets.status.{ticket.status}", lang)
        )
    lines = [head]
    if created:
        lines.append(t("tickets.confirm.follow", lang))
    if ticket.origin_permalink:
        lines.append(t("tickets.confirm.origin", lang, permalink=ticket.origin_permalink))
    return head, [{"type": "section", "text": _md("\n".join(lines))}]


# ------------------------------------------------------------------------------------- triage card


@dataclass(frozen=True)
class SimilarCard:
    ticket_id: int
    key: str
    title: str
    score: float


@dataclass(frozen=True)
class FaqCard:
    """A FAQ entry made from the ticket, as its triage card shows it."""

    faq_id: int
    question: str
    withdrawn_by: str | None = None
    withdrawn_at: dt.datetime | None = None
    withdrawn_reason: str | None = None


_FAQS_SHOWN = 3  # the latest entries of a ticket reopened and resolved again; the card keeps room


def actor_text(actor: str | None) -> str:
    """A Slack user as a mention; the CLI's "cli:alice" as plain text (Slack ids never hold a colon)."""
    actor = actor or ""
    return esc(actor) if ":" in actor or not actor else f"<@{actor}>"


def _faq_blocks(lang: str, faqs: Sequence[FaqCard], tz: str) -> list[dict]:
    blocks: list[dict] = []
    for faq in list(faqs)[-_FAQS_SHOWN:]:
        text = t("tickets.triage.faq", lang, id=faq.faq_id, question=esc(faq.question))
        section: dict = {"type": "section", "block_id": f"faq_{faq.faq_id}", "text": _md(text)}
        if faq.withdrawn_at is None:
            # The dialog it opens asks why (faq_withdraw_modal), and is the confirmation.
            section["accessory"] = _button(
                t("tickets.triage.faq_withdraw", lang),
                f"{ids.FAQ_WITHDRAW_PREFIX}{faq.faq_id}",
                str(faq.faq_id),
                "danger",
            )
            blocks.append(section)
            continue
        blocks.append(section)
        blocks.append({"type": "context", "elements": [_md(_withdrawal_line(lang, faq, tz))]})
    return blocks


def _withdrawal_line(lang: str, faq: FaqCard, tz: str) -> str:
    """Who withdrew it, when, and why (the reason is escaped: it is the user's text)."""
    line = t(
        "tickets.triage.faq_withdrawn",
        lang,
        who=actor_text(faq.withdrawn_by),
        when=slack_time(faq.withdrawn_at, tz),
    )
    if faq.withdrawn_reason:
        line += " · " + t("tickets.triage.faq_withdrawn_reason", lang, reason=esc(faq.withdrawn_reason))
    return line


def faq_withdraw_modal(lang: str, faq_id: int, question: str) -> dict:
    """*Withdraw FAQ*'s dialog: what withdrawing does, and a required reason (submit = withdraw)."""
    text = t("tickets.triage.faq_withdraw_confirm", lang, id=faq_id, question=esc(question))
    return {
        "type": "modal",
        "callback_id": ids.FAQ_WITHDRAW_MODAL,
        "private_metadata": json.dumps({"f": faq_id}),
        "title": _plain(t("tickets.triage.faq_withdraw_title", lang), 24),
        "submit": _plain(t("tickets.triage.faq_withdraw_yes", lang), 24),
        "close": _plain(t("tickets.triage.faq_withdraw_no", lang), 24),
        "blocks": [
            {"type": "section", "text": _md(text)},
            {
                "type": "input",
                "block_id": ids.FAQ_WITHDRAW_REASON_BLOCK,
                "label": _plain(t("tickets.triage.faq_withdraw_reason", lang), 2000),
                "hint": _plain(t("tickets.triage.faq_withdraw_reason_hint", lang), 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.FAQ_WITHDRAW_REASON_INPUT,
                    "multiline": True,
                    "max_length": REASON_MAX,  # what the domain keeps, so Slack refuses a longer one as it is typed
                },
            },
        ],
    }


def read_faq_withdrawal(values: dict) -> str:
    """The reason typed into `faq_withdraw_modal` ("" when none; validation is the domain's job)."""
    item = (values.get(ids.FAQ_WITHDRAW_REASON_BLOCK) or {}).get(ids.FAQ_WITHDRAW_REASON_INPUT) or {}
    return item.get("value") or ""


def faq_withdrawn_modal(lang: str, faq: FaqCard, tz: str = "UTC") -> dict:
    """In the dialog's place when the entry had been withdrawn already (a double submit, or someone else
    first): nothing changed, and the withdrawal that stands (who, when, why)."""
    return {
        "type": "modal",
        "callback_id": ids.FAQ_WITHDRAWN_MODAL,
        "title": _plain(t("tickets.triage.faq_withdraw", lang), 24),
        "close": _plain(t("tickets.triage.faq_withdraw_close", lang), 24),
        "blocks": [
            {"type": "section", "text": _md(t("tickets.triage.faq_withdrawn_already", lang, id=faq.faq_id))},
            {"type": "context", "elements": [_md(_withdrawal_line(lang, faq, tz))]},
        ],
    }


def triage_card(
    lang: str,
    ticket: Ticket,
    *,
    similar: Sequence[SimilarCard] = (),
    duplicate_of_key: str | None = None,
    overdue_by: dt.timedelta | None = None,
    sla_hours: float | None = None,
    faqs: Sequence[FaqCard] = (),
    tz: str = "UTC",
) -> tuple[str, list[dict]]:
    """(fallback text, blocks) of the ticket's message in the triage channel; updated in place.

    `faqs`: the FAQ entries made from its resolutions, each with *Withdraw FAQ* until it is withdrawn,
    then who withdrew it and when (`tz` where a Slack client cannot show the time in the reader's zone)."""
    status = Status(ticket.status)
    fallback = t("tickets.triage.fallback", lang, key=ticket.key, title=esc(ticket.title))
    assignee = f"<@{ticket.assignee_id}>" if ticket.assignee_id else t("tickets.triage.nobody", lang)
    fields = [
        _md(t("tickets.triage.status", lang, status=t(f"tickets.status.{status.value}", lang))),
        _md(t("tickets.triage.priority", lang, priority=t(f"tickets.priority.{ticket.priority}", lang))),
        _md(t("tickets.triage.reporter", lang, user=ticket.reporter_id)),
        _md(t("tickets.triage.assignee", lang, assignee=assignee)),
        _md(t("tickets.triage.category", lang, category=t(f"tickets.category.{ticket.category}", lang))),
    ]
    if ticket.erp_module:
        fields.append(_md(t("tickets.triage.module", lang, module=esc(ticket.erp_module))))
    blocks: list[dict] = [
        {
            "type": "header",
            "text": _plain(t("tickets.triage.header", lang, key=ticket.key, title=ticket.title)),
        },
        {"type": "section", "text": _md(esc(ticket.description)), "fields": fields},
    ]
    context = []
    if ticket.affected_count > 1:
        context.append(t("tickets.triage.affected", lang, count=ticket.affected_count))
    if ticket.origin_permalink:
        context.append(t("tickets.triage.origin", lang, permalink=ticket.origin_permalink))
    if ticket.shown_sources:
        context.append(t("tickets.triage.sources", lang, sources=_sources_text(ticket.shown_sources)))
    if context:
        blocks.append({"type": "context", "elements": [_md(" · ".join(context))]})
    if overdue_by is not None and ticket.is_open:
        blocks.append(
            {
                "type": "section",
                "text": _md(
                    t("tickets.triage.overdue", lang, hours=f"{sla_hours:g}", late=duration(overdue_by, lang))
                ),
            }
        )
    if ticket.resolution and status in (Status.RESOLVED, Status.CLOSED) and not duplicate_of_key:
        text = t(
            "tickets.triage.resolution", lang, user=ticket.resolved_by or "", text=esc(ticket.resolution)
        )
        blocks.append({"type": "section", "text": _md(text)})
    if duplicate_of_key:
        blocks.append(
            {"type": "section", "text": _md(t("tickets.triage.duplicate_of", lang, key=duplicate_of_key))}
        )
    blocks += _faq_blocks(lang, faqs, tz)
    value = str(ticket.id)
    if ticket.is_open:
        status_options = [
            _option(t(f"tickets.status.{s.value}", lang), s.value)
            for s in (Status.TRIAGED, Status.IN_PROGRESS, Status.WAITING, Status.CLOSED)
        ]
        priority_options = [_option(t(f"tickets.priority.{p.value}", lang), p.value) for p in Priority]
        elements: list[dict] = []
        if not ticket.assignee_id:
            elements.append(
                _button(t("tickets.triage.assign_me", lang), ids.TICKET_ASSIGN_ME, value, "primary")
            )
        elements += [
            {
                "type": "static_select",
                "action_id": ids.TICKET_SET_PRIORITY,
                "placeholder": _plain(t("tickets.triage.choose_priority", lang), 150),
                "options": priority_options,
                "initial_option": next(o for o in priority_options if o["value"] == ticket.priority),
            },
            {
                "type": "static_select",
                "action_id": ids.TICKET_SET_STATUS,
                "placeholder": _plain(t("tickets.triage.choose_status", lang), 150),
                "options": status_options,
                **(
                    {"initial_option": next(o for o in status_options if o["value"] == status.value)}
                    if status != Status.NEW
                    else {}
                ),
            },
            _button(t("tickets.triage.resolve", lang), ids.TICKET_RESOLVE, value),
        ]
        blocks.append({"type": "actions", "block_id": f"ticket_{ticket.id}", "elements": elements})
        for s in list(similar)[:3]:
            blocks.append(
                {
                    "type": "section",
                    "block_id": f"similar_{s.ticket_id}",
                    "text": _md(
                        t(
                            "tickets.triage.similar",
                            lang,
                            key=s.key,
                            score=round(s.score * 100),
                            title=esc(s.title),
                        )
                    ),
                    "accessory": _button(
                        t("tickets.triage.merge", lang),
                        ids.TICKET_MERGE,
                        json.dumps({"t": ticket.id, "into": s.ticket_id}),
                    ),
                }
            )
    elif not duplicate_of_key:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"ticket_{ticket.id}",
                "elements": [_button(t("tickets.triage.reopen", lang), ids.TICKET_REOPEN, value)],
            }
        )
    return fallback, blocks


def change_line(lang: str, kind: str, actor: str, before: str | None, after: str | None) -> str | None:
    """One line for the triage thread describing an audit event, or None for events not worth posting."""

    def label(field_value: str | None, group: str) -> str:
        if field_value is None:
            return "—"
        key = f"tickets.{group}.{field_value}"
        try:
            return t(key, lang)
        except KeyError:
            return esc(field_value)

    if kind in ("resolution", "reopen_reason", "created", "rating_requested"):
        return None
    if kind == "faq_withdrawn":  # by support in Slack, or by a knowledge admin's CLI (no Slack user)
        who, faq = actor_text(actor), "#" + esc((before or "").removeprefix("db-faq-"))  # FaqEntry.faq_id
        if after:
            return t("tickets.change.faq_withdrawn_reason", lang, who=who, faq=faq, reason=esc(after))
        return t("tickets.change.faq_withdrawn", lang, who=who, faq=faq)
    if kind == "commented":  # the words themselves, so support need not open anything to read them
        return t("tickets.change.commented", lang, actor=actor, after=esc(after))
    if kind == "assigned":
        if after is None:
            return t("tickets.change.unassigned", lang, actor=actor)
        return t("tickets.change.assigned", lang, actor=actor, after=f"<@{after}>")
    if kind == "status":
        return t(
            "tickets.change.status",
            lang,
            actor=actor,
            before=label(before, "status"),
            after=label(after, "status"),
        )
    if kind == "priority":
        return t(
            "tickets.change.priority",
            lang,
            actor=actor,
            before=label(before, "priority"),
            after=label(after, "priority"),
        )
    try:
        return t(f"tickets.change.{kind}", lang, actor=actor, before=esc(before), after=esc(after))
    except KeyError:
        return t("tickets.change.generic", lang, actor=actor, kind=esc(kind))


# ------------------------------------------------------------------------------------ resolve modal


def resolve_modal(
    lang: str, ticket: Ticket, roles: Sequence[str], *, faq_question: str | None = None
) -> dict:
    question = faq_question or ticket.title
    faq_lang = "en" if (ticket.lang or "").startswith("en") else "zh-CN"
    lang_options = [_option(t(f"tickets.resolve.lang_{code}", lang), code) for code in ("zh-CN", "en")]
    role_options = [_option(r, r) for r in roles][:100]
    return {
        "type": "modal",
        "callback_id": ids.TICKET_RESOLVE_MODAL,
        "private_metadata": json.dumps({"t": ticket.id}),
        "title": _plain(_cut(t("tickets.resolve.title", lang, key=ticket.key), 24), 24),
        "submit": _plain(t("tickets.resolve.submit", lang), 24),
        "close": _plain(t("tickets.modal.cancel", lang), 24),
        "blocks": [
            {"type": "section", "text": _md(f"*{esc(ticket.title)}*\n{esc(_cut(ticket.description, 1500))}")},
            {
                "type": "input",
                "block_id": ids.RESOLVE_TEXT_BLOCK,
                "label": _plain(t("tickets.resolve.resolution", lang), 2000),
                "hint": _plain(t("tickets.resolve.resolution_hint", lang), 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.RESOLVE_TEXT_INPUT,
                    "multiline": True,
                    "max_length": _INPUT_MAX,
                },
            },
            {
                "type": "input",
                "block_id": ids.RESOLVE_FAQ_BLOCK,
                "optional": True,
                "label": _plain(t("tickets.resolve.faq", lang), 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.RESOLVE_FAQ_INPUT,
                    "options": [_option(t("tickets.resolve.add_faq", lang), "faq")],
                },
            },
            {
                "type": "input",
                "block_id": ids.RESOLVE_FAQ_QUESTION_BLOCK,
                "optional": True,
                "label": _plain(t("tickets.resolve.faq_question", lang), 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.RESOLVE_FAQ_QUESTION_INPUT,
                    "initial_value": _cut(question, 1000),
                    "max_length": 1000,
                },
            },
            {
                "type": "input",
                "block_id": ids.RESOLVE_FAQ_ANSWER_BLOCK,
                "optional": True,
                "label": _plain(t("tickets.resolve.faq_answer", lang), 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.RESOLVE_FAQ_ANSWER_INPUT,
                    "multiline": True,
                    "max_length": _INPUT_MAX,
                },
            },
            {
                "type": "input",
                "block_id": ids.RESOLVE_FAQ_ROLES_BLOCK,
                "optional": True,
                "label": _plain(t("tickets.resolve.faq_roles", lang), 2000),
                "element": {
                    "type": "multi_static_select",
                    "action_id": ids.RESOLVE_FAQ_ROLES_INPUT,
                    "options": role_options,
                },
            },
            {
                "type": "input",
                "block_id": ids.RESOLVE_FAQ_LANG_BLOCK,
                "label": _plain(t("tickets.resolve.faq_lang", lang), 2000),
                "element": {
                    "type": "static_select",
                    "action_id": ids.RESOLVE_FAQ_LANG_INPUT,
                    "options": lang_options,
                    "initial_option": next(o for o in lang_options if o["value"] == faq_lang),
                },
            },
        ],
    }


@dataclass(frozen=True)
class ResolveForm:
    resolution: str
    add_faq: bool
    faq_question: str
    faq_answer: str
    faq_roles: list[str]
    faq_lang: str


def read_resolve(values: dict) -> ResolveForm:
    def item(block: str, action: str) -> dict:
        return (values.get(block) or {}).get(action) or {}

    resolution = item(ids.RESOLVE_TEXT_BLOCK, ids.RESOLVE_TEXT_INPUT).get("value") or ""
    checked = item(ids.RESOLVE_FAQ_BLOCK, ids.RESOLVE_FAQ_INPUT).get("selected_options") or []
    roles = item(ids.RESOLVE_FAQ_ROLES_BLOCK, ids.RESOLVE_FAQ_ROLES_INPUT).get("selected_options") or []
    lang = (item(ids.RESOLVE_FAQ_LANG_BLOCK, ids.RESOLVE_FAQ_LANG_INPUT).get("selected_option") or {}).get(
        "value"
    )
    return ResolveForm(
        resolution=resolution,
        add_faq=any(o.get("value") == "faq" for o in checked),
        faq_question=item(ids.RESOLVE_FAQ_QUESTION_BLOCK, ids.RESOLVE_FAQ_QUESTION_INPUT).get("value") or "",
        faq_answer=item(ids.RESOLVE_FAQ_ANSWER_BLOCK, ids.RESOLVE_FAQ_ANSWER_INPUT).get("value")
        or resolution,
        faq_roles=[o.get("value") for o in roles if o.get("value")],
        faq_lang=lang or "zh-CN",
    )


# ---------------------------------------------------------------------------------- closure notices


def closure_notice(
    lang: str,
    ticket: Ticket,
    reason: str,
    resolved_by: str | None,
    *,
    days: float = 0,
    rating_until: dt.datetime | None = None,
    tz: str = "Asia/Shanghai",
) -> tuple[str, list[dict]]:
    """The reporter's DM when their ticket is resolved (with buttons, and a rating when `rating_until`
    is set: the end of its window, shown in `tz`) or closed as stale."""
    if reason == "stale_closed":
        text = t(
            "tickets.notice.stale_closed", lang, key=ticket.key, title=esc(ticket.title), days=f"{days:g}"
        )
        return text, [{"type": "section", "text": _md(text)}]
    head = t(
        f"tickets.notice.{reason}", lang, key=ticket.key, title=esc(ticket.title), user=resolved_by or ""
    )
    blocks = [
        {"type": "section", "text": _md(head)},
        {"type": "section", "text": _md(">" + esc(ticket.resolution or "").replace("\n", "\n>"))},
        _confirm_actions(lang, ticket.id),
    ]
    if rating_until is not None:
        blocks += _rating_blocks(lang, ticket.id, RatingState(None, rating_until), tz)
    return head, blocks


def _confirm_actions(lang: str, ticket_id: int) -> dict:
    value = str(ticket_id)
    return {
        "type": "actions",
        "block_id": f"closure_{ticket_id}",
        "elements": [
            _button(t("tickets.notice.fixed", lang), ids.TICKET_FIXED, value, "primary"),
            _button(t("tickets.notice.still", lang), ids.TICKET_STILL_PROBLEM, value, "danger"),
        ],
    }


def _rating_blocks(lang: str, ticket_id: int, rating: RatingState, tz: str) -> list[dict]:
    until = slack_time(rating.open_until, tz)
    if rating.rating is None:
        prompt = f"{t('tickets.notice.rate', lang)} {t('tickets.notice.rate_until', lang, until=until)}"
    else:
        prompt = t("tickets.notice.your_rating", lang, rating=rating.rating, until=until)
    buttons = [
        _button(
            "⭐" * n,
            f"{ids.TICKET_RATE_PREFIX}{n}",
            str(ticket_id),
            "primary" if n == rating.rating else None,
        )
        for n in range(1, 6)
    ]
    return [
        {"type": "context", "elements": [_md(prompt)]},
        {"type": "actions", "block_id": f"rating_{ticket_id}", "elements": buttons},
    ]


def after_feedback(
    lang: str,
    text: str,
    *,
    ticket_id: int | None = None,
    confirm: bool = False,
    rating: RatingState | None = None,
    tz: str = "Asia/Shanghai",
) -> list[dict]:
    """Replaces the closure notice once the reporter has answered: `text`, then *That fixed it* /
    *Still a problem* while the ticket waits for that (`confirm`), and the rating (with the reporter's
    current one) while its window is open (`rating`)."""
    blocks = [{"type": "section", "text": _md(text)}]
    if ticket_id is not None and confirm:
        blocks.append(_confirm_actions(lang, ticket_id))
    if ticket_id is not None and rating is not None:
        blocks += _rating_blocks(lang, ticket_id, rating, tz)
    return blocks


def overdue_reminder(
    lang: str, ticket: Ticket, overdue_by: dt.timedelta, sla_hours: float, link: str | None
) -> str:
    params = {
        "key": ticket.key,
        "title": esc(ticket.title),
        "priority": t(f"tickets.priority.{ticket.priority}", lang),
        "hours": f"{sla_hours:g}",
        "late": duration(overdue_by, lang),
    }
    if link:
        return t("tickets.reminder.overdue", lang, link=link, **params)
    return t("tickets.reminder.overdue_nolink", lang, **params)
