"""Outbound ticket messages: confirmations, the triage card and its thread, closure notices, reminders.

Used by the ticket listeners and by the scheduled jobs (`send_sla_reminders`, `close_stale_tickets`),
so a ticket looks and behaves the same whichever path changed it. Everything goes through the
services' WebClient; Slack failures are logged and never undo a change already committed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import DEFAULT_LANGUAGE, t
from bot.views import tickets as views
from feedback import faq as faq_store
from feedback import tickets as store
from feedback.db import utcnow
from feedback.people import get_user
from knowledge.crosslingual import english_rendering
from knowledge.lexical import tokenize

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("erp_coach.tickets")


@functools.lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


@functools.lru_cache(maxsize=8192)
def _rendering(text: str) -> str | None:
    return english_rendering(text)


def similar_terms() -> tuple[Callable[[str], frozenset[str]], Callable[[str], str | None]]:
    """The tokenizer and cross-language rendering the similar-ticket lookup compares texts with, memoized
    by text: the triage card is rendered again on every triage click, and without the cache each click
    re-tokenized every open ticket (benchmarks/similar_tickets.py: ~0.7 s at 1,000 open tickets)."""
    return _words, _rendering


def user_lang(services: Services, user_id: str | None) -> str:
    if not user_id:
        return DEFAULT_LANGUAGE
    with services.db.begin() as session:
        user = get_user(session, user_id)
        return user.language if user else DEFAULT_LANGUAGE


def triage_lang(services: Services) -> str:
    return services.settings.triage_language or DEFAULT_LANGUAGE


def dm(
    client: WebClient, user_id: str, text: str, blocks: list[dict] | None = None
) -> tuple[str, str] | None:
    """Post a DM; (channel, ts) or None when Slack refused (logged)."""
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return channel, resp["ts"]
    except SlackApiError as exc:
        log.warning("could not DM %s: %s", user_id, exc.response.get("error"))
        return None


def ephemeral(client: WebClient, channel: str | None, user_id: str, text: str) -> None:
    """An error only the actor sees: in the channel they acted in, or by DM when there is none."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        else:
            dm(client, user_id, text)
    except SlackApiError as exc:
        log.warning("could not tell %s: %s", user_id, exc.response.get("error"))


def _overdue(
    services: Services, ticket: store.Ticket, now: dt.datetime
) -> tuple[dt.timedelta | None, float | None]:
    hours = services.settings.sla_hours.get(ticket.priority)
    if hours is None:
        return None, hours
    return store.sla_overdue_by(ticket, now, hours), hours


def faq_card(entry: faq_store.FaqEntry) -> views.FaqCard:
    """A FAQ entry as the triage card (and the withdraw dialog) shows it."""
    return views.FaqCard(
        entry.id, entry.question, entry.withdrawn_by, entry.withdrawn_at, entry.withdrawn_reason
    )


def card(
    services: Services, session, ticket: store.Ticket, now: dt.datetime | None = None
) -> tuple[str, list[dict]]:
    """The triage card for `ticket` as it is now (similar tickets from stored vectors: no embedding)."""
    similar: list[views.SimilarCard] = []
    vector = store.vector_of(ticket)
    if vector is not None and ticket.is_open:
        words, rendering = similar_terms()
        for s in store.similar_open_tickets(
            session,
            vector,
            threshold=services.settings.ticket_similarity_threshold,
            exclude_id=ticket.id,
            text=store.similar_text(ticket),
            tokenize=words,
            render=rendering,
        ):
            similar.append(views.SimilarCard(s.ticket.id, s.ticket.key, s.ticket.title, s.score))
    dup_key = None
    if ticket.duplicate_of_id is not None:
        dup_key = store.get_ticket(session, ticket.duplicate_of_id).key
    late, hours = _overdue(services, ticket, now or utcnow())
    faqs = [faq_card(e) for e in faq_store.ticket_entries(session, ticket.id)]
    return views.triage_card(
        triage_lang(services),
        ticket,
        similar=similar,
        duplicate_of_key=dup_key,
        overdue_by=late,
        sla_hours=hours,
        faqs=faqs,
        tz=services.settings.timezone,
    )


def announce(services: Services, client: WebClient, ticket_id: int) -> bool:
    """After a ticket is stored: permalink, embedding, reporter's confirmation, triage post.

    Runs once per ticket (False when another delivery already announced it).
    """
    with services.db.begin() as session:
        if not store.claim_announcement(session, ticket_id):
            return False
        ticket = store.get_ticket(session, ticket_id)
    if ticket.origin_channel and ticket.origin_ts and not ticket.origin_permalink:
        try:
            link = client.chat_getPermalink(channel=ticket.origin_channel, message_ts=ticket.origin_ts)[
                "permalink"
            ]
            with services.db.begin() as session:
                store.get_ticket(session, ticket_id).origin_permalink = link
        except SlackApiError as exc:
            log.info("no permalink for %s: %s", ticket.key, exc.response.get("error"))
    if ticket.embedding is None:
        try:
            vector = services.embedder.encode([store.similar_text(ticket)])[0]
            with services.db.begin() as session:
                store.set_embedding(session, ticket_id, vector)
        except Exception:  # noqa: BLE001 - a missing model must not lose the ticket; similarity is a bonus
            log.exception("could not embed %s", ticket.key)
    with services.db.begin() as session:
        ticket = store.get_ticket(session, ticket_id)
        lang = _lang_in(session, ticket.reporter_id)
        confirm_text, confirm_blocks = views.confirmation(lang, ticket)
        card_text, card_blocks = card(services, session, ticket)
        reporter = ticket.reporter_id
    posted = dm(client, reporter, confirm_text, confirm_blocks)
    if posted is not None:
        with services.db.begin() as session:
            store.set_reporter_thread(session, ticket_id, *posted)
    channel = services.settings.triage_channel
    if not channel:
        return True
    try:
        resp = client.chat_postMessage(
            channel=channel, text=card_text, blocks=card_blocks, unfurl_links=False
        )
    except SlackApiError as exc:
        log.error("could not post %s to triage channel %s: %s", ticket_id, channel, exc.response.get("error"))
        return True
    with services.db.begin() as session:
        store.set_triage_message(session, ticket_id, resp["channel"], resp["ts"])
    return True


def tell_reporter(services: Services, client: WebClient, ticket: store.Ticket, text: str) -> None:
    """A message for the reporter: in the thread of their ticket's confirmation DM when there is one (a
    reply there reaches support), else as a new DM, whose thread then becomes the ticket's (tickets from
    before the thread was kept, a confirmation Slack refused)."""
    if ticket.reporter_channel and ticket.reporter_ts:
        try:
            client.chat_postMessage(channel=ticket.reporter_channel, thread_ts=ticket.reporter_ts, text=text)
            return
        except SlackApiError as exc:
            log.info("reporter thread of %s: %s; sending a new DM", ticket.key, exc.response.get("error"))
    posted = dm(client, ticket.reporter_id, text)
    if posted is not None:
        with services.db.begin() as session:
            store.set_reporter_thread(session, ticket.id, *posted)


CONFIRMATION_GRACE = dt.timedelta(minutes=1)


def found_again(services: Services, client: WebClient, ticket_id: int, event_ids: Sequence[int]) -> None:
    """A second report of the same thing by its reporter: which ticket it already is, in its thread, and
    its new details (`event_ids`: the comment, and the return from waiting if it was) in triage.
    The reporter hears nothing while the first report's confirmation is on its way (a double submit)."""
    with services.db.begin() as session:
        ticket = store.get_ticket(session, ticket_id)
        in_flight = ticket.reporter_ts is None and utcnow() - ticket.created_at < CONFIRMATION_GRACE
        lang = _lang_in(session, ticket.reporter_id)
        text = views.confirmation(lang, ticket, created=False)[0]
        events = [ev for ev in ticket.events if ev.id in set(event_ids)]
    if events:
        refresh(services, client, [ticket_id], events)  # support reads the new details in triage
        text += " " + t("tickets.confirm.details_added", lang)
    if not in_flight:
        tell_reporter(services, client, ticket, text)


def status_notices(services: Services, client: WebClient, events: Sequence[store.TicketEvent]) -> None:
    """Tell reporters about support's status changes, as the confirmation promised. Waiting on the
    reporter asks them to reply in the thread. (Resolving and closing as stale have notices of their own.)"""
    for ev in events:
        if ev.kind != "status" or ev.after is None:
            continue
        with services.db.begin() as session:
            ticket = store.get_ticket(session, ev.ticket_id)
            lang = _lang_in(session, ticket.reporter_id)
            if ev.after == store.Status.WAITING.value:
                text = t(
                    "tickets.notice.waiting",
                    lang,
                    key=ticket.key,
                    title=views.esc(ticket.title),
                    days=f"{services.settings.ticket_waiting_close_days:g}",
                )
            else:
                status = t(f"tickets.status.{ev.after}", lang)
                text = t("tickets.notice.status_changed", lang, key=ticket.key, status=status)
        tell_reporter(services, client, ticket, text)


def reporter_reply(services: Services, client: WebClient, event: dict) -> bool:
    """A reporter's reply in the thread of their ticket's confirmation: a comment on the ticket, posted in
    its triage thread (and back in progress if support was waiting on them). False when the message is
    not in such a thread, so it is a question for the knowledge base."""
    channel, thread_ts, user = event.get("channel"), event.get("thread_ts"), event.get("user")
    if not (channel and thread_ts and user):
        return False
    with services.db.begin() as session:
        ticket = store.ticket_in_reporter_thread(session, channel, thread_ts)
        if ticket is None or ticket.reporter_id != user:
            return False
        lang = _lang_in(session, user)
        ticket_id, key = ticket.id, ticket.key
    try:
        with services.db.begin() as session:
            change = store.add_comment(session, ticket_id, user, event.get("text") or "")
            back = any(ev.kind == "reporter_replied" for ev in change.events)
            events = list(change.events)
        text = t("tickets.notice.comment_back" if back else "tickets.notice.comment_added", lang, key=key)
    except store.TicketError as exc:
        events, text = [], views.error_text(exc.code, lang, dict(exc.params), str(exc))
    if events:
        refresh(services, client, [ticket_id], events)
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:
        log.warning("could not confirm the comment on %s: %s", key, exc.response.get("error"))
    return True


def _lang_in(session, user_id: str | None) -> str:
    user = get_user(session, user_id) if user_id else None
    return user.language if user else DEFAULT_LANGUAGE


def refresh(
    services: Services,
    client: WebClient,
    ticket_ids: Sequence[int],
    events: Sequence[store.TicketEvent] = (),
    now: dt.datetime | None = None,
) -> int:
    """Update the triage cards of `ticket_ids` in place and post `events` in their threads. Returns how
    many cards Slack updated (a refusal is logged, not raised; a connection error is raised)."""
    lang = triage_lang(services)
    posts: list[tuple[str, str, str | None, list[dict] | None, str]] = []
    marks: list[tuple[str, str, str | None]] = []
    with services.db.begin() as session:
        for ticket_id in dict.fromkeys(ticket_ids):
            ticket = store.get_ticket(session, ticket_id)
            if _from_message(ticket) and any(
                ev.ticket_id == ticket_id and ev.field == "status" for ev in events
            ):
                marks.append((ticket.origin_channel, ticket.origin_ts, status_emoji(ticket)))
            if not (ticket.triage_channel and ticket.triage_ts):
                continue
            text, blocks = card(services, session, ticket, now)
            posts.append((ticket.triage_channel, ticket.triage_ts, text, blocks, "update"))
            for ev in events:
                if ev.ticket_id != ticket_id:
                    continue
                line = views.change_line(lang, ev.kind, ev.actor, ev.before, ev.after)
                if line:
                    posts.append((ticket.triage_channel, ticket.triage_ts, line, None, "thread"))
    updated = 0
    for channel, ts, text, blocks, how in posts:
        try:
            if how == "update":
                client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
                updated += 1
            else:
                client.chat_postMessage(channel=channel, thread_ts=ts, text=text)
        except SlackApiError as exc:
            log.warning("triage message %s/%s: %s", channel, ts, exc.response.get("error"))
    for channel, ts, emoji in marks:
        mark_origin(client, channel, ts, emoji)
    return updated


# Status shown on the message a ticket was reported from (shortcut or 🎫 reaction), for everyone in the
# channel: 👀 someone is on it, ✅ solved. Only these two are ever added or removed by the bot.
STATUS_EMOJI = {store.Status.IN_PROGRESS.value: "eyes", store.Status.RESOLVED.value: "white_check_mark"}
_MANAGED_EMOJI = frozenset(STATUS_EMOJI.values())


def _from_message(ticket: store.Ticket) -> bool:
    return bool(ticket.origin_channel and ticket.origin_ts and ticket.source in ("shortcut", "reaction"))


def status_emoji(ticket: store.Ticket) -> str | None:
    """The emoji the origin message should carry now (a closed ticket keeps ✅ if it was solved)."""
    if ticket.status == store.Status.CLOSED.value:
        return "white_check_mark" if ticket.resolution and ticket.duplicate_of_id is None else None
    return STATUS_EMOJI.get(ticket.status)


def mark_origin(client: WebClient, channel: str, ts: str, emoji: str | None) -> None:
    """Put `emoji` (or none) on the origin message and take the other status emoji off.

    Idempotent: Slack's already_reacted / no_reaction just mean the message is as wanted already."""
    for other in sorted(_MANAGED_EMOJI - {emoji}):
        _react(client.reactions_remove, channel, ts, other, ok="no_reaction")
    if emoji:
        _react(client.reactions_add, channel, ts, emoji, ok="already_reacted")


def _react(call, channel: str, ts: str, name: str, *, ok: str) -> None:
    try:
        call(channel=channel, timestamp=ts, name=name)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error != ok:  # e.g. not_in_channel, message_not_found: a nicety, never worth failing for
            log.info("status emoji %s on %s/%s: %s", name, channel, ts, error)


def send_closure_notices(
    services: Services, client: WebClient, notices: Sequence[store.ClosureNotice]
) -> int:
    sent = 0
    days = services.settings.ticket_waiting_close_days
    for notice in notices:
        lang = user_lang(services, notice.recipient)
        text, blocks = views.closure_notice(
            lang,
            notice.ticket,
            notice.reason,
            notice.resolved_by,
            days=days,
            rating_until=notice.rating_until,
            tz=services.settings.timezone,
        )
        if dm(client, notice.recipient, text, blocks):
            sent += 1
    return sent


# ------------------------------------------------------------------------------------ scheduled jobs


def _latest(events: Sequence[store.TicketEvent], kind: str) -> store.TicketEvent:
    return [ev for ev in events if ev.kind == kind][-1]


def send_sla_reminders(services: Services, now: dt.datetime | None = None) -> int:
    """Job: remind assignees of overdue tickets (once a day each) and flag them in triage. Returns DMs sent."""
    now = now or utcnow()
    client = services.slack_client
    with services.db.begin() as session:
        reminders = store.sla_reminders(session, now, services.settings.sla_hours)
        events = [_latest(r.ticket.events, "sla_overdue") for r in reminders]
        plan = [
            (
                r.ticket.id,
                r.recipient,
                r.ticket,
                r.overdue_by,
                r.sla_hours,
                r.ticket.triage_channel,
                r.ticket.triage_ts,
            )
            for r in reminders
        ]
    sent = 0
    for ticket_id, recipient, ticket, late, hours, channel, ts in plan:
        link = None
        if channel and ts:
            try:
                link = client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
            except SlackApiError:
                link = None
        if recipient:
            lang = user_lang(services, recipient)
            if dm(client, recipient, views.overdue_reminder(lang, ticket, late, hours, link)):
                sent += 1
        refresh(services, client, [ticket_id], [ev for ev in events if ev.ticket_id == ticket_id], now)
    return sent


def close_stale_tickets(services: Services, now: dt.datetime | None = None) -> int:
    """Job: close tickets waiting on their reporter too long, tell the reporters. Returns tickets closed."""
    now = now or utcnow()
    with services.db.begin() as session:
        notices = store.close_stale_waiting(session, now, services.settings.ticket_waiting_close_days)
        events = [_latest(n.ticket.events, "stale_closed") for n in notices]
    if not notices:
        return 0
    client = services.slack_client
    send_closure_notices(services, client, notices)
    refresh(services, client, [n.ticket.id for n in notices], events, now)
    return len(notices)
