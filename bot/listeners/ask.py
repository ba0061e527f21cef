"""Asking: a DM to the bot, an @mention (answered in the thread), a question posted in a channel set to
answer every question (`/erp channel mode all`; answered in its thread, only when the manuals answer it),
`/erp QUESTION` (ephemeral, shareable), the "Ask erp-coach" message shortcut, and the Ask modal (global
shortcut, App Home button). Questions asked in a channel search that channel's scope (`/erp channel scope`);
DMs, the App Home and the modal search everything."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids, rating_reminders
from bot.answering import channel_scope, find, record, remember_message, ui_language
from bot.delivery import with_screenshot_fallback
from bot.i18n import DEFAULT_LANGUAGE
from bot.identity import Person
from bot.services import Services
from bot.ticket_messages import reporter_reply
from bot.views.answers import AnswerContext, Message, answer_message, error_message
from bot.views.modals import answer_modal, ask_modal, searching_modal
from feedback.channels import channel_config
from feedback.deliveries import first_delivery
from feedback.questions import QuestionLog, thread_question
from knowledge.intent import looks_like_question

log = logging.getLogger("erp_coach.ask")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")
MAX_QUESTION = 1000
_CHANNEL_TYPES = ("channel", "group")  # message.channels, message.groups
_ANSWERED_SURFACES = ("dm", "mention", "channel")  # answers posted in a conversation (rating reminders)

Send = Callable[[Message], tuple[str | None, str | None]]  # -> (channel, ts) of the posted answer


def without_mentions(text: str) -> str:
    """The question in a message: @mentions say nothing the manuals could match."""
    return _MENTION.sub("", text).strip()


def register(app: App, services: Services) -> None:
    def is_dm_question(event: dict) -> bool:
        return (
            event.get("channel_type") == "im"
            and event.get("subtype") in (None, "file_share")  # a question with a screenshot is one too
            and not event.get("bot_id")
            and bool(event.get("user"))
        )

    def ack_event() -> None:  # Events are acknowledged by Bolt; the answer comes from the lazy listener.
        return None

    def dm(event: dict, client: WebClient) -> None:
        thread_ts = event.get("thread_ts")  # a question asked in a DM thread is answered there
        if thread_ts and reporter_reply(services, client, event):
            return  # a reply to a ticket's confirmation: a comment for support, not a question
        _with_indicator(client, event, lambda: _answer_in_channel(services, client, event, thread_ts, "dm"))

    def mention(event: dict, client: WebClient) -> None:
        thread_ts = event.get("thread_ts") or event.get("ts")
        _with_indicator(
            client, event, lambda: _answer_in_channel(services, client, event, thread_ts, "mention")
        )

    def is_channel_question(event: dict, context: dict) -> bool:
        """Cheap checks on the ack path (no database): a person's new message in a channel, addressed to
        nobody (a mention of the bot is the app_mention's; one of a colleague is for the colleague), that
        reads as a question. The channel's mode and thread rules are checked after the ack."""
        text = event.get("text") or ""
        return (
            event.get("channel_type") in _CHANNEL_TYPES
            and event.get("subtype") in (None, "file_share")
            and not event.get("bot_id")
            and bool(event.get("user"))
            and event.get("user") != context.get("bot_user_id")
            and not _MENTION.search(text)
            and looks_like_question(text)
        )

    def channel_question(event: dict, client: WebClient) -> None:
        _answer_channel_question(services, client, event)

    app.event({"type": "message", "channel_type": "im"}, matchers=[is_dm_question])(ack=ack_event, lazy=[dm])
    app.event("app_mention")(ack=ack_event, lazy=[mention])
    app.event("message", matchers=[is_channel_question])(ack=ack_event, lazy=[channel_question])

    # "Ask erp-coach" on any message: answered privately, with a Share button.
    def ack_shortcut(ack: Ack) -> None:
        ack()

    def shortcut(body: dict, client: WebClient, respond) -> None:
        message = body.get("message") or {}
        question = without_mentions(message.get("text", ""))
        channel = (body.get("channel") or {}).get("id")
        _answer(
            services,
            client,
            body["user"]["id"],
            question,
            "shortcut",
            channel,
            _responder(respond),
            shareable=bool(channel),
        )

    app.shortcut(ids.ASK_SHORTCUT)(ack=ack_shortcut, lazy=[shortcut])

    # The Ask modal, from the global shortcut or the App Home button.
    def open_modal(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        person = services.directory.person(
            body["user"]["id"], services.ack_client, quick=True
        )  # within the trigger
        client.views_open(trigger_id=body["trigger_id"], view=ask_modal(person.lang))

    app.shortcut(ids.ASK_GLOBAL_SHORTCUT)(open_modal)
    app.action(ids.HOME_ASK)(open_modal)

    def ack_modal(ack: Ack, body: dict, view: dict) -> None:
        question = _modal_question(view)
        person = services.directory.person(body["user"]["id"])
        ack(response_action="update", view=searching_modal(person.lang, question))

    def modal(body: dict, view: dict, client: WebClient) -> None:
        view_id = view["id"]

        def send(message: Message) -> tuple[str | None, str | None]:
            person = services.directory.person(body["user"]["id"])
            with_screenshot_fallback(
                lambda blocks: client.views_update(
                    view_id=view_id, view=answer_modal(person.lang, Message(message.text, blocks))
                ),
                message.blocks,
            )
            return None, None

        _answer(services, client, body["user"]["id"], _modal_question(view), "modal", None, send)

    app.view(ids.ASK_MODAL)(ack=ack_modal, lazy=[modal])

    # "Share to channel" under a private answer: post it for everyone, remove the private copy.
    def ack_share(ack: Ack) -> None:
        ack()

    def share(body: dict, client: WebClient, respond) -> None:
        _share(services, client, respond, body)

    app.action(ids.SHARE_ANSWER)(ack=ack_share, lazy=[share])


def answer_command(services: Services, client: WebClient, respond, body: dict, question: str) -> None:
    """`/erp QUESTION`: an ephemeral answer (via response_url) with a Share button."""
    _answer(
        services,
        client,
        body["user_id"],
        question,
        "slash",
        body.get("channel_id"),
        _responder(respond),
        shareable=True,
    )


def _answer_channel_question(services: Services, client: WebClient, event: dict) -> None:
    """A question posted in a channel without a mention: answered in its thread when the channel answers
    every question and the manuals (within the channel's scope) answer it; otherwise nothing is posted
    and nothing logged, since nobody asked the bot. A reply in a thread counts only when it follows up
    the asker's own earlier answer there; other thread talk is people talking to each other."""
    channel, ts = event.get("channel"), event.get("ts")
    thread = event.get("thread_ts")
    with services.db.begin() as session:
        if not channel_config(session, channel).answers_all:
            return
        if thread and thread != ts:
            earlier = thread_question(session, channel, thread)
            if earlier is None or earlier.slack_user_id != event.get("user"):
                return
    _answer_in_channel(services, client, event, thread or ts, "channel", quiet=True)


def _claim_question(services: Services, channel: str, ts: str | None) -> bool:
    """The first of the paths that would answer this message (its app_mention, its message event, a
    retry of either, on any replica) wins; the others stay silent. Slack sends both events for a message
    that mentions the bot in a channel the bot reads."""
    if not ts:
        return True
    try:
        with services.db.begin() as session:
            return first_delivery(session, f"question:{channel}:{ts}"[:128])
    except Exception:
        log.exception("could not claim the question %s/%s; answering it anyway", channel, ts)
        return True


def _answer_in_channel(
    services: Services,
    client: WebClient,
    event: dict,
    thread_ts: str | None,
    surface: str,
    *,
    quiet: bool = False,
):
    channel = event["channel"]
    question = without_mentions(event.get("text") or "")

    def send(message: Message) -> tuple[str | None, str | None]:
        posted = with_screenshot_fallback(
            lambda blocks: client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                text=message.text,
                blocks=blocks,
            ),
            message.blocks,
        )
        return posted.get("channel"), posted.get("ts")

    follows = None
    if event.get("thread_ts"):  # a reply in a thread that holds an earlier answer is a follow-up to it
        with services.db.begin() as session:
            earlier = thread_question(session, channel, event["thread_ts"])
            follows = earlier.question if earlier is not None else None
    claim = None
    if channel and not channel.startswith("D"):
        ts = event.get("ts")

        def claim() -> bool:
            return _claim_question(services, channel, ts)

    _answer(
        services,
        client,
        event["user"],
        question,
        surface,
        channel,
        send,
        show_question=False,
        follows=follows,
        thread_ts=thread_ts,
        quiet=quiet,
        claim=claim,
        # In a channel's thread everyone there reads the answer: they rate it as colleagues, as under a
        # shared one. A DM is the asker's alone.
        public=bool(channel) and not channel.startswith("D"),
    )


def _answer(
    services: Services,
    client: WebClient,
    user_id: str,
    question: str,
    surface: str,
    channel_id: str | None,
    send: Send,
    *,
    shareable: bool = False,
    show_question: bool = False,
    follows: str | None = None,
    thread_ts: str | None = None,
    quiet: bool = False,
    claim: Callable[[], bool] | None = None,
    public: bool = False,
) -> None:
    """Search (within the channel's scope), log, render, send. Every failure ends in a message the user
    can act on, except when `quiet` (nobody addressed the bot): then only an answer is ever posted.
    `claim` is asked before anything is logged or sent; False means another path answers this message.
    `public`: posted where others read it, so anyone there may rate it (colleague ratings)."""
    try:
        question = question.strip()[:MAX_QUESTION]
        if quiet and not question:
            return
        person = services.directory.person(user_id, client)
        if not question:
            send(error_message(person.lang, "slack.answer.empty_question"))
            return
        started = time.perf_counter()
        try:
            scope = channel_scope(services, channel_id)
            result = find(services, question, role=person.role, follows=follows, scope=scope)
        except Exception:
            log.exception("search failed for %r", question)
            if not quiet:
                send(error_message(person.lang))
            return
        if quiet and not result.answered:
            return
        if claim is not None and not claim():
            log.info("question %r already answered by another path", question[:80])
            return
        answer = record(
            services,
            question,
            result,
            (time.perf_counter() - started) * 1000,
            user_id=user_id,
            role=person.role,
            surface=surface,
            channel_id=channel_id,
        )
        lang = ui_language(answer.result.lang, override=person.language_override, fallback=person.lang)
        message = answer_message(
            answer.result,
            AnswerContext(
                lang=lang,
                question_id=answer.question_id,
                docs_base_url=services.settings.docs_base_url,
                asker=user_id,
                show_question=show_question,
                shareable=shareable,
                shared=public,
                role=person.role,
            ),
        )
        channel, ts = send(message)
        if ts:
            remember_message(services, answer.question_id, channel, ts, thread_ts)
            if answer.result.answered and surface in _ANSWERED_SURFACES:
                rating_reminders.schedule(
                    services, client, answer.question_id, user_id, channel, thread_ts or ts, lang
                )
    except Exception:  # the database, Slack: the asker hears that it failed rather than nothing
        log.exception("answering %r failed", question[:80])
        if quiet:
            return
        try:
            lang = services.directory.person(user_id).lang
        except Exception:
            lang = DEFAULT_LANGUAGE
        try:
            send(error_message(lang))
        except Exception:
            log.exception("could not tell %s that answering failed", user_id)


def _with_indicator(client: WebClient, event: dict, work: Callable[[], None]) -> None:
    """👀 on the question while searching: Slack's own "I'm on it" that needs no extra message."""
    channel, ts = event.get("channel"), event.get("ts")
    reacted = False
    try:
        client.reactions_add(channel=channel, timestamp=ts, name="eyes")
        reacted = True
    except SlackApiError as exc:
        log.debug("could not add the searching reaction: %s", exc.response.get("error"))
    try:
        work()
    finally:
        if reacted:
            with contextlib.suppress(SlackApiError):
                client.reactions_remove(channel=channel, timestamp=ts, name="eyes")


def _responder(respond) -> Send:
    def send(message: Message) -> tuple[str | None, str | None]:
        with_screenshot_fallback(
            lambda blocks: respond(
                response_type="ephemeral", replace_original=False, text=message.text, blocks=blocks
            ),
            message.blocks,
        )
        return None, None

    return send


def _modal_question(view: dict) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return ((values.get(ids.ASK_BLOCK) or {}).get(ids.ASK_INPUT) or {}).get("value") or ""


def _share(services: Services, client: WebClient, respond, body: dict) -> None:
    user_id = body["user"]["id"]
    person: Person = services.directory.person(user_id)
    try:
        question_id = int(body["actions"][0]["value"])
    except (KeyError, ValueError, IndexError):
        return
    with services.db.begin() as session:
        entry = session.get(QuestionLog, question_id)
        question, role, asker = (
            (entry.question, entry.role, entry.slack_user_id) if entry else (None, None, None)
        )
    if question is None or asker != user_id:
        return
    result = services.knowledge.search(question, role=role, scope=channel_scope(services, entry.channel_id))
    lang = ui_language(result.lang, override=person.language_override, fallback=person.lang)
    message = answer_message(
        result,
        AnswerContext(
            lang=lang,
            question_id=question_id,
            docs_base_url=services.settings.docs_base_url,
            asker=user_id,
            show_question=True,
            shared=True,
        ),
    )
    with_screenshot_fallback(
        lambda blocks: respond(
            response_type="in_channel", replace_original=False, text=message.text, blocks=blocks
        ),
        message.blocks,
    )
    respond(delete_original=True)
