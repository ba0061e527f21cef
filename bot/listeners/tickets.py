"""Ticket surfaces: `/erp ticket`, the "Report an ERP issue" shortcut, the 🎫 reaction, "Open a ticket"
under answers, the triage buttons, the resolve modal, *Withdraw FAQ* and the closure-notice buttons.

Shape of every handler: parse the payload, authorize on the server (triage needs a support/admin role,
closure buttons need the reporter), call `feedback.tickets`, then render with `bot.views.tickets` and send
with `bot.ticket_messages`. Slow work (embedding, Web API fan-out) runs in lazy listeners after the ack.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import faq_index, ids
from bot import ticket_messages as out
from bot.answering import channel_scope
from bot.delivery import with_screenshot_fallback
from bot.i18n import t
from bot.listeners.ask import MAX_QUESTION, without_mentions
from bot.listeners.erp_command import CommandRequest, subcommand
from bot.services import Services
from bot.views import tickets as views
from bot.views.answers import parse_ticket_value
from feedback import faq as faq_store
from feedback import tickets as store
from feedback.db import utcnow

log = logging.getLogger("erp_coach.tickets")
_RATE = re.compile(rf"^{re.escape(ids.TICKET_RATE_PREFIX)}[1-5]$")
_FAQ_WITHDRAW = re.compile(rf"^{re.escape(ids.FAQ_WITHDRAW_PREFIX)}\d+$")


def register(app: App, services: Services) -> None:
    h = _Handlers(services)
    app.shortcut(ids.TICKET_SHORTCUT)(ack=h.on_shortcut, lazy=[h.after_shortcut])
    app.action(ids.OPEN_TICKET)(h.on_open_ticket_button)
    app.view(ids.TICKET_MODAL)(ack=h.on_report_submitted, lazy=[h.after_report_submitted])
    app.event("reaction_added")(ack=_ack_only, lazy=[h.on_reaction])
    app.action(ids.TICKET_ASSIGN_ME)(ack=_ack_only, lazy=[h.on_assign_me])
    app.action(ids.TICKET_SET_PRIORITY)(ack=_ack_only, lazy=[h.on_priority])
    app.action(ids.TICKET_SET_STATUS)(ack=_ack_only, lazy=[h.on_status])
    app.action(ids.TICKET_MERGE)(ack=_ack_only, lazy=[h.on_merge])
    app.action(ids.TICKET_REOPEN)(ack=_ack_only, lazy=[h.on_triage_reopen])
    app.action(ids.TICKET_RESOLVE)(h.on_resolve_button)
    app.view(ids.TICKET_RESOLVE_MODAL)(ack=h.on_resolve_submitted, lazy=[h.after_resolve_submitted])
    app.action(_FAQ_WITHDRAW)(ack=h.on_faq_withdraw_button, lazy=[h.after_faq_withdraw_button])
    app.view(ids.FAQ_WITHDRAW_MODAL)(ack=h.on_faq_withdraw_submitted, lazy=[h.after_faq_withdraw_submitted])
    app.action(ids.TICKET_FIXED)(ack=_ack_only, lazy=[h.on_fixed])
    app.action(ids.TICKET_STILL_PROBLEM)(ack=_ack_only, lazy=[h.on_still_problem])
    app.action(_RATE)(ack=_ack_only, lazy=[h.on_rating])


def _ack_only(ack: Ack) -> None:
    ack()


def _action(body: dict) -> dict:
    return (body.get("actions") or [{}])[0]


def _channel_of(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def open_report_modal(
    services: Services, client: WebClient, trigger_id: str, user_id: str, text: str = ""
) -> None:
    """`/erp ticket [text]`: the `/erp` dispatcher calls this (before its ack) with the rest of the command.
    A modal started with text gets an external id, so the suggestions found after the ack can reach it."""
    lang = out.user_lang(services, user_id)
    external_id = _report_external_id(trigger_id) if _suggestion_query(services, text) else None
    client.views_open(
        trigger_id=trigger_id,
        view=views.report_modal(lang, views.TicketDraft(description=text), external_id=external_id),
    )


def suggest_answers(
    services: Services,
    client: WebClient,
    *,
    user_id: str,
    text: str,
    draft: views.TicketDraft,
    lang: str,
    view_id: str | None = None,
    view_hash: str | None = None,
    external_id: str | None = None,
    channel_id: str | None = None,
) -> None:
    """Deflection (after the ack, with the report modal already open): search the knowledge base with the
    text the ticket starts from and, when it answers, show that answer above the form. The search keeps to
    the scope of the channel the report comes from, as the bot's answers there do. Never raises and
    stores nothing: the modal stays a ticket form, and a failed or slow search must not stand in the way."""
    query = _suggestion_query(services, text)
    if not query:
        return
    started = time.monotonic()
    try:
        role = services.directory.person(user_id).role
        result = services.knowledge.search(query, role=role, scope=channel_scope(services, channel_id))
    except Exception:  # noqa: BLE001 - suggestions are optional; the form is already open
        log.exception("ticket suggestions: search failed")
        return
    if not result.answered:
        return
    took = time.monotonic() - started
    if took > services.settings.ticket_deflection_seconds:
        log.info("ticket suggestions dropped: the search took %.1f s", took)
        return
    view = views.report_modal(
        lang,
        draft,
        deflection=result,
        docs_base_url=services.settings.docs_base_url,
        external_id=external_id,
    )
    where = {"view_id": view_id, "hash": view_hash} if view_id else {"external_id": external_id}
    try:
        with_screenshot_fallback(
            lambda blocks: client.views_update(**where, view={**view, "blocks": blocks}),
            view["blocks"],
            "ticket suggestions",
        )
    except SlackApiError as exc:  # submitted or closed meanwhile: nothing left to inform
        log.info("ticket suggestions not shown: %s", exc.response.get("error"))


def _suggestion_query(services: Services, text: str) -> str:
    """The text worth searching for ("" when there is none, or suggestions are off)."""
    if services.settings.ticket_deflection_seconds <= 0:
        return ""
    return without_mentions(text or "")[:MAX_QUESTION]  # as for questions: enough to find a section


def _report_external_id(trigger_id: str) -> str:
    return f"ticket-report:{trigger_id}"[:255]  # trigger ids are unique; Slack allows 255 characters


def _suggest_after_ack(request: CommandRequest) -> None:
    user_id = request.person.user_id
    suggest_answers(
        request.services,
        request.client,
        user_id=user_id,
        text=request.args,
        draft=views.TicketDraft(description=request.args),
        lang=out.user_lang(request.services, user_id),
        external_id=_report_external_id(request.body["trigger_id"]),
        channel_id=request.body.get("channel_id"),
    )


@subcommand(ids.TICKET_SUBCOMMAND, "工单", "报告", after_ack=_suggest_after_ack)
def _ticket_subcommand(request: CommandRequest) -> None:
    open_report_modal(
        request.services, request.client, request.body["trigger_id"], request.person.user_id, request.args
    )


def _report_key(session, draft: views.TicketDraft, view_id: str) -> str:
    """The idempotency key of a report: the message or answer it is about, so one person's reports of
    one message make one ticket at a time. Once that ticket is done with, the next report is a new
    ticket, keyed after the one before it ("shortcut:C1:17.2:U1#1" after ERP-1), and so on. Without an
    origin: the modal's view."""
    if not draft.key:
        return _view_key(view_id)
    key = draft.key
    while (existing := store.by_idempotency_key(session, key)) is not None and not existing.is_open:
        key = f"{draft.key}#{existing.number}"
    return key


def _view_key(view_id: str) -> str:
    return f"view:{view_id}"


class _Handlers:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._opened: dict[str, tuple[str | None, str | None]] = {}  # trigger id -> report modal id, hash
        self._found_again: dict[str, tuple[int, list[int]]] = {}  # view id -> (ticket, comment's events)
        self._withdrawn: dict[str, faq_store.Withdrawal] = {}  # withdraw dialog's view id -> its outcome

    # ---------------------------------------------------------------------------------- creating

    @staticmethod
    def _shortcut_draft(body: dict) -> views.TicketDraft:
        user = body["user"]["id"]
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        return views.TicketDraft(
            description=message.get("text") or "",
            source="shortcut",
            key=f"shortcut:{channel}:{message.get('ts')}:{user}",
            origin_channel=channel,
            origin_ts=message.get("ts"),
        )

    def on_shortcut(self, ack: Ack, body: dict, client: WebClient) -> None:
        """Message shortcut: open the modal at once (the trigger id lives 3 s, and Bolt answers Slack only
        when this returns); the knowledge-base suggestions for the message's text come in `after_shortcut`,
        the permalink when the ticket is announced."""
        ack()
        user = body["user"]["id"]
        draft = self._shortcut_draft(body)
        external_id = (
            _report_external_id(body["trigger_id"])
            if _suggestion_query(self.services, draft.description)
            else None
        )
        lang = out.user_lang(self.services, user)
        opened = client.views_open(
            trigger_id=body["trigger_id"], view=views.report_modal(lang, draft, external_id=external_id)
        )
        if external_id:
            view = opened.get("view") or {}
            with self._lock:
                self._opened[body["trigger_id"]] = (view.get("id"), view.get("hash"))

    def after_shortcut(self, body: dict, client: WebClient) -> None:
        """Runs once `on_shortcut` has returned (Bolt starts lazy listeners after the ack listener), so
        the modal it opened is known: updated by id and hash, never over a newer version of it."""
        user = body["user"]["id"]
        draft = self._shortcut_draft(body)
        with self._lock:
            view_id, view_hash = self._opened.pop(body["trigger_id"], (None, None))
        suggest_answers(
            self.services,
            client,
            user_id=user,
            text=draft.description,
            draft=draft,
            lang=out.user_lang(self.services, user),
            view_id=view_id,
            view_hash=view_hash,
            external_id=_report_external_id(body["trigger_id"]),
            channel_id=draft.origin_channel,
        )

    def on_open_ticket_button(self, ack: Ack, body: dict, client: WebClient) -> None:
        """ "Open a ticket" under an answer or abstention: prefill the question and the sources shown.
        No suggestions here: the user has just seen what the knowledge base says about this question."""
        ack()
        user = body["user"]["id"]
        value = parse_ticket_value(_action(body).get("value"))
        question, q = value["question"], value["q"]
        draft = views.TicketDraft(
            title=question.splitlines()[0][:120] if question else "",
            description=question,
            source="answer",
            key=f"answer:{q}:{user}" if q is not None else "",
            question_id=q,
            sources=_shown_sources(value.get("sources")),
        )
        client.views_open(
            trigger_id=body["trigger_id"], view=views.report_modal(out.user_lang(self.services, user), draft)
        )

    def on_report_submitted(self, ack: Ack, body: dict, view: dict) -> None:
        """Store the ticket before answering, so errors show in the modal and nothing is half-stored.

        A second report of the same message or answer by the same person finds their ticket: while it is
        open, new details in the form become a comment and they are told which ticket it is (after the
        ack); once it is resolved or closed, it is a new problem and a new ticket."""
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        draft = views.TicketDraft.from_metadata(view.get("private_metadata", ""))
        fields = views.read_report(view.get("state", {}).get("values", {}))
        try:
            with self.services.db.begin() as session:
                key = _report_key(session, draft, view["id"])
                created = store.create_ticket(
                    session,
                    reporter=user,
                    lang=lang,
                    source=draft.source,
                    idempotency_key=key,
                    origin_channel=draft.origin_channel,
                    origin_ts=draft.origin_ts,
                    origin_permalink=draft.permalink,
                    question_id=draft.question_id,
                    shown_sources=draft.sources,
                    **fields,
                )
                ticket = created.ticket
                if not created.created and key != _view_key(view["id"]) and ticket.reporter_id == user:
                    details = (fields.get("description") or "").strip()
                    events: list[int] = []
                    if details and details != ticket.description.strip():
                        change = store.add_comment(session, ticket.id, user, details)
                        session.flush()
                        events = [ev.id for ev in change.events]
                    with self._lock:
                        self._found_again[view["id"]] = (ticket.id, events)
        except store.TicketError as exc:
            block = views.error_block(exc.code) or views.ERROR_BLOCKS["description"]
            ack(
                response_action="errors",
                errors={block: views.error_text(exc.code, lang, exc.params, str(exc))},
            )
            return
        ack()

    def after_report_submitted(self, body: dict, view: dict, client: WebClient) -> None:
        with self._lock:
            again = self._found_again.pop(view["id"], None)
        if again is not None:
            out.found_again(self.services, client, *again)
            return
        draft = views.TicketDraft.from_metadata(view.get("private_metadata", ""))
        with self.services.db.begin() as session:
            ticket = store.by_idempotency_key(session, _report_key(session, draft, view["id"]))
            ticket_id = ticket.id if ticket else None
        if ticket_id is not None:
            out.announce(self.services, client, ticket_id)

    def on_reaction(self, body: dict, event: dict, client: WebClient) -> None:
        if event.get("reaction") != self.services.settings.ticket_reaction:
            return
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        channel, ts, reactor = item.get("channel"), item.get("ts"), event.get("user")
        message = _fetch_message(client, channel, ts)
        text = (message or {}).get("text") or ""
        if not text.strip():
            out.ephemeral(
                client, channel, reactor, t("tickets.error.no_text", out.user_lang(self.services, reactor))
            )
            return
        # The person who wrote the message has the problem and hears the outcome; a bot's message
        # (e.g. an abstention) belongs to whoever reacted.
        author = message.get("user") if message and not message.get("bot_id") else None
        reporter = author or reactor
        try:
            with self.services.db.begin() as session:
                created = store.create_ticket(
                    session,
                    reporter=reporter,
                    description=text,
                    lang=out.user_lang(self.services, reporter),
                    source="reaction",
                    idempotency_key=f"reaction:{channel}:{ts}",
                    origin_channel=channel,
                    origin_ts=ts,
                )
                ticket_id = created.ticket.id
                # Slack's redeliveries never get here (the event is claimed once): this is someone
                # reacting again to a message that is a ticket already. They hear which one.
                already = (
                    None
                    if created.created
                    else views.confirmation(
                        out.user_lang(self.services, reactor), created.ticket, created=False
                    )[0]
                )
        except store.TicketError as exc:
            lang = out.user_lang(self.services, reactor)
            out.ephemeral(client, channel, reactor, views.error_text(exc.code, lang, exc.params, str(exc)))
            return
        if already is not None:
            out.ephemeral(client, channel, reactor, already)
            return
        out.announce(self.services, client, ticket_id)

    # ------------------------------------------------------------------------------------ triage

    def _triage(self, body: dict, client: WebClient, change) -> list[store.TicketEvent]:
        """Authorize, apply `change(session, ticket_id, actor) -> Change | list`, refresh the card; the
        events it made (none when refused)."""
        user = body["user"]["id"]
        action = _action(body)
        try:
            with self.services.db.begin() as session:
                store.require_triager(session, user, self.services.settings.triage_roles)
                result = change(session, action, user)
            # After the commit: the new events have their ids and ticket ids now.
            events = list(result.events)
            touched = {ev.ticket_id for ev in events} | {result.ticket.id}
            out.refresh(self.services, client, sorted(touched), events)
            return events
        except store.TicketError as exc:
            self._tell_error(client, body, exc)
            return []

    def _tell_error(self, client: WebClient, body: dict, exc: store.TicketError) -> None:
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        params = dict(exc.params)
        if isinstance(exc, store.NotAllowed) and "roles" not in params:
            text = t("tickets.error.not_reporter", lang)
        else:
            params.setdefault("roles", ", ".join(self.services.settings.triage_roles))
            text = views.error_text(exc.code, lang, params, str(exc))
        out.ephemeral(client, _channel_of(body), user, text)

    def on_assign_me(self, body: dict, client: WebClient) -> None:
        self._triage(body, client, lambda s, a, u: store.assign(s, _ticket_id(a), u, u))

    def on_priority(self, body: dict, client: WebClient) -> None:
        self._triage(body, client, lambda s, a, u: store.set_priority(s, _ticket_id(a), _selected(a), u))

    def on_status(self, body: dict, client: WebClient) -> None:
        events = self._triage(
            body, client, lambda s, a, u: store.set_status(s, _ticket_id(a), _selected(a), u)
        )
        out.status_notices(self.services, client, events)

    def on_triage_reopen(self, body: dict, client: WebClient) -> None:
        self._triage(body, client, lambda s, a, u: store.reopen_ticket(s, _ticket_id(a), u))

    def on_merge(self, body: dict, client: WebClient) -> None:
        def merge(session, action, user):
            try:
                value = json.loads(action.get("value") or "{}")
                dup, into = int(value["t"]), int(value["into"])
            except (ValueError, KeyError, TypeError):
                raise store.InvalidTicket("invalid", "malformed merge button") from None
            change = store.merge_duplicate(session, dup, into, user)
            # The duplicate's own events belong in its thread too.
            change.events.extend(store.events_of(session, dup)[-2:])
            return store.Change(change.ticket, change.events)

        self._triage(body, client, merge)

    def on_resolve_button(self, ack: Ack, body: dict, client: WebClient) -> None:
        """Open the resolve modal at once; refuse non-support users before showing anything."""
        ack()
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        try:
            with self.services.db.begin() as session:
                store.require_triager(session, user, self.services.settings.triage_roles)
                ticket = store.get_ticket(session, _ticket_id(_action(body)))
        except store.TicketError as exc:
            self._tell_error(client, body, exc)
            return
        client.views_open(
            trigger_id=body["trigger_id"],
            view=views.resolve_modal(lang, ticket, self.services.settings.roles),
        )

    def on_resolve_submitted(self, ack: Ack, body: dict, view: dict) -> None:
        """Resolve (and store the FAQ entry) in one transaction before answering Slack."""
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        form = views.read_resolve(view.get("state", {}).get("values", {}))
        try:
            ticket_id = int(json.loads(view.get("private_metadata") or "{}")["t"])
        except (ValueError, KeyError, TypeError):
            ack(response_action="errors", errors={ids.RESOLVE_TEXT_BLOCK: t("tickets.error.generic", lang)})
            return
        try:
            with self.services.db.begin() as session:
                store.require_triager(session, user, self.services.settings.triage_roles)
                store.resolve_ticket(
                    session,
                    ticket_id,
                    form.resolution,
                    user,
                    csat_cooldown_days=self.services.settings.csat_cooldown_days,
                    csat_window_days=self.services.settings.csat_window_days,
                )
                if form.add_faq:
                    faq_store.add_entry(
                        session,
                        question=form.faq_question,
                        answer=form.faq_answer,
                        roles=form.faq_roles,
                        lang=form.faq_lang,
                        ticket_id=ticket_id,
                        created_by=user,
                        allowed_roles=self.services.settings.roles,
                    )
        except store.TicketError as exc:
            params = {"roles": ", ".join(self.services.settings.triage_roles), **exc.params}
            block = views.error_block(exc.code) or ids.RESOLVE_TEXT_BLOCK
            ack(response_action="errors", errors={block: views.error_text(exc.code, lang, params, str(exc))})
            return
        ack()

    def after_resolve_submitted(self, body: dict, view: dict, client: WebClient) -> None:
        ticket_id = int(json.loads(view.get("private_metadata") or "{}")["t"])
        with self.services.db.begin() as session:
            ticket = store.get_ticket(session, ticket_id)
            # Lazy listeners run even when the ack refused the submission: act only on a resolve by this user.
            if ticket.status != store.Status.RESOLVED or ticket.resolved_by != body["user"]["id"]:
                return
            events = [ev for ev in store.events_of(session, ticket_id) if ev.created_at >= ticket.resolved_at]
            entry = next(
                (e for e in reversed(faq_store.all_entries(session)) if e.ticket_id == ticket_id), None
            )
            notices = store.closure_notices(session, ticket)
        if entry is not None and any(ev.kind == "faq_added" for ev in events):
            index_faq(self.services, entry)
        out.send_closure_notices(self.services, client, notices)
        out.refresh(self.services, client, [ticket_id], events)

    def on_faq_withdraw_button(self, ack: Ack, body: dict, client: WebClient) -> None:
        """*Withdraw FAQ* on the triage card: open the dialog asking why at once (the trigger id lives
        3 s); support only, checked here and again on submit. An entry withdrawn meanwhile (elsewhere,
        or from the command line) shows who withdrew it instead, and its card is redrawn after the ack."""
        ack()
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        try:
            faq_id = _ticket_id(_action(body))  # the same kind of value: a database id
            with self.services.db.begin() as session:
                store.require_triager(session, user, self.services.settings.triage_roles)
                entry = faq_store.get_entry(session, faq_id)
        except store.TicketError as exc:
            self._tell_error(client, body, exc)
            return
        if entry.withdrawn:
            view = views.faq_withdrawn_modal(lang, out.faq_card(entry), self.services.settings.timezone)
        else:
            view = views.faq_withdraw_modal(lang, entry.id, entry.question)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def after_faq_withdraw_button(self, body: dict, client: WebClient) -> None:
        """A card still offering *Withdraw FAQ* for an entry withdrawn elsewhere is redrawn as it stands."""
        try:
            faq_id = _ticket_id(_action(body))
            with self.services.db.begin() as session:
                store.require_triager(session, body["user"]["id"], self.services.settings.triage_roles)
                entry = faq_store.get_entry(session, faq_id)
        except store.TicketError:  # told by on_faq_withdraw_button
            return
        if entry.withdrawn and entry.ticket_id is not None:
            out.refresh(self.services, client, [entry.ticket_id])

    def on_faq_withdraw_submitted(self, ack: Ack, body: dict, view: dict) -> None:
        """The dialog's reason: withdraw (support only, checked again) before answering Slack, so a blank
        reason or a refusal shows in the dialog and nothing is half-done. A double submit, or a
        withdrawal made meanwhile elsewhere, finds it withdrawn: nothing is written again, and the
        dialog shows the withdrawal that stands."""
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        block = ids.FAQ_WITHDRAW_REASON_BLOCK
        try:
            faq_id = int(json.loads(view.get("private_metadata") or "{}")["f"])
        except (ValueError, KeyError, TypeError):
            ack(response_action="errors", errors={block: t("tickets.error.generic", lang)})
            return
        reason = views.read_faq_withdrawal(view.get("state", {}).get("values", {}))
        try:
            with self.services.db.begin() as session:
                store.require_triager(session, user, self.services.settings.triage_roles)
                done = faq_store.withdraw_entry(session, faq_id, user, reason, require_reason=True)
        except store.TicketError as exc:
            params = {"roles": ", ".join(self.services.settings.triage_roles), **exc.params}
            ack(response_action="errors", errors={block: views.error_text(exc.code, lang, params, str(exc))})
            return
        with self._lock:
            if done.already:  # never over the outcome of the submit that withdrew it
                self._withdrawn.setdefault(view["id"], done)
            else:
                self._withdrawn[view["id"]] = done
        if done.already:
            tz = self.services.settings.timezone
            ack(response_action="update", view=views.faq_withdrawn_modal(lang, out.faq_card(done.entry), tz))
            return
        ack()

    def after_faq_withdraw_submitted(self, body: dict, view: dict, client: WebClient) -> None:
        """After the ack: out of the knowledge index, then the card redrawn with who, when and why, and
        the reason in the ticket's thread. Lazy listeners run even when the ack refused the submission:
        only a submission that reached `withdraw_entry` left an outcome here."""
        with self._lock:
            done = self._withdrawn.pop(view["id"], None)
        if done is None:
            return
        if not done.already:
            unindex_faq(self.services, done.entry)
        if done.entry.ticket_id is not None:
            out.refresh(self.services, client, [done.entry.ticket_id], done.events)

    # -------------------------------------------------------------------------- closure notice

    def _reporter_action(self, body: dict, client: WebClient, change, reply) -> None:
        user = body["user"]["id"]
        lang = out.user_lang(self.services, user)
        try:
            with self.services.db.begin() as session:
                result = change(session, _ticket_id(_action(body)), user)
                ticket = result.ticket
                assignee = ticket.assignee_id
                rating = self._open_rating(session, ticket)
        except store.RatingClosed as exc:
            self._rating_refused(body, client, lang, exc)
            return
        except store.TicketError as exc:
            self._tell_error(client, body, exc)
            return
        text = reply(lang, ticket, assignee)
        confirm = ticket.status == store.Status.RESOLVED and ticket.duplicate_of_id is None
        self._update_notice(body, client, lang, text, ticket.id, confirm, rating)
        out.refresh(self.services, client, [ticket.id], result.events)
        return ticket, assignee

    def _open_rating(self, session, ticket: store.Ticket) -> store.RatingState | None:
        """The rating to keep on the updated notice: while the ticket is resolved and the window open."""
        if ticket.status not in (store.Status.RESOLVED, store.Status.CLOSED):
            return None
        state = store.rating_state(session, ticket.id)
        return state if state is not None and state.is_open(utcnow()) else None

    def _update_notice(self, body, client, lang, text, ticket_id, confirm, rating) -> None:
        container = body.get("container") or {}
        channel, ts = container.get("channel_id") or _channel_of(body), container.get("message_ts")
        if not (channel and ts):
            out.ephemeral(client, _channel_of(body), body["user"]["id"], text)
            return
        blocks = views.after_feedback(
            lang,
            text,
            ticket_id=ticket_id,
            confirm=confirm,
            rating=rating,
            tz=self.services.settings.timezone,
        )
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("could not update closure notice: %s", exc.response.get("error"))

    def _rating_refused(self, body: dict, client: WebClient, lang: str, exc: store.RatingClosed) -> None:
        """A rating after its window: say so where the buttons were and take them away; nothing stored."""
        key = exc.params.get("ticket", "")
        if exc.until is None:
            text = t("tickets.notice.rating_not_open", lang, key=key)
        else:
            text = t(
                "tickets.notice.rating_closed",
                lang,
                key=key,
                until=views.slack_time(exc.until, self.services.settings.timezone),
            )
        ticket_id = _ticket_id(_action(body))
        with self.services.db.begin() as session:
            ticket = store.get_ticket(session, ticket_id)
            confirm = ticket.status == store.Status.RESOLVED and ticket.duplicate_of_id is None
        self._update_notice(body, client, lang, text, ticket_id, confirm, None)

    def on_fixed(self, body: dict, client: WebClient) -> None:
        self._reporter_action(
            body,
            client,
            store.confirm_fixed,
            lambda lang, tk, _a: t("tickets.notice.thanks_fixed", lang, key=tk.key),
        )

    def on_still_problem(self, body: dict, client: WebClient) -> None:
        def reply(lang, ticket, assignee):
            if assignee:
                return t("tickets.notice.reopened", lang, key=ticket.key, assignee=assignee)
            return t("tickets.notice.reopened_nobody", lang, key=ticket.key)

        done = self._reporter_action(body, client, _reopen_by_reporter, reply)
        if done and done[1]:
            ticket, assignee = done
            lang = out.user_lang(self.services, assignee)
            text = t(
                "tickets.notice.assignee_reopened",
                lang,
                user=body["user"]["id"],
                key=ticket.key,
                title=views.esc(ticket.title),
            )
            out.dm(client, assignee, text)

    def on_rating(self, body: dict, client: WebClient) -> None:
        rating = int(_action(body)["action_id"].rsplit("_", 1)[1])
        self._reporter_action(
            body,
            client,
            lambda s, tid, u: store.rate_ticket(s, tid, u, rating),
            lambda lang, tk, _a: t("tickets.notice.thanks_rating", lang, key=tk.key, rating=rating),
        )


def _reopen_by_reporter(session, ticket_id: int, user: str) -> store.Change:
    ticket = store.get_ticket(session, ticket_id)
    if ticket.reporter_id != user:
        raise store.NotAllowed(f"only the reporter may reopen {ticket.key} here", user=user)
    return store.reopen_ticket(session, ticket_id, user)


def index_faq(services: Services, entry: faq_store.FaqEntry) -> None:
    """Put a DB FAQ entry into the knowledge index now (the DB stays the source of truth)."""
    try:
        faq_index.index_faq(services.knowledge, entry)
    except Exception:  # noqa: BLE001 - the entry is saved; `erp-coach run`/`ingest --reset` re-index it
        log.exception("could not index FAQ %s", entry.faq_id)


def unindex_faq(services: Services, entry: faq_store.FaqEntry) -> None:
    """Take a withdrawn entry out of the knowledge index now (the DB already says it is withdrawn)."""
    try:
        faq_index.unindex_faq(services.knowledge, entry)
    except Exception:  # noqa: BLE001 - withdrawn in the DB; the next start or `ingest` removes the copy
        log.exception("could not remove withdrawn FAQ %s from the index", entry.faq_id)


def _shown_sources(raw: Any) -> list[dict[str, Any]]:
    """The sources under the answer: the answer view sends citations ("Title › Heading") as strings."""
    sources: list[dict[str, Any]] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str) and item.strip():
            sources.append({"title": item.strip()})
        elif isinstance(item, dict):
            sources.append(item)
    return sources


def _ticket_id(action: dict) -> int:
    try:
        return int(action.get("value") or "")
    except ValueError:
        raise store.InvalidTicket("invalid", "malformed ticket button") from None


def _selected(action: dict) -> str:
    return str((action.get("selected_option") or {}).get("value") or "")


def _fetch_message(client: WebClient, channel: str | None, ts: str | None) -> dict[str, Any] | None:
    """The reacted-to message: top-level via history, a thread reply via replies."""
    if not channel or not ts:
        return None
    try:
        history = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        for message in history.get("messages") or []:
            if message.get("ts") == ts:
                return message
        replies = client.conversations_replies(
            channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        for message in replies.get("messages") or []:
            if message.get("ts") == ts:
                return message
    except SlackApiError as exc:
        log.warning("cannot read message %s/%s: %s", channel, ts, exc.response.get("error"))
    return None
