"""`/erp`: a question by default; `/erp help`, `/erp role ...`, `/erp lang ...` and other sub-commands.

Sub-commands answer in the ack itself (they are quick: a database read or write), so the reply is
immediate; a question is acknowledged with "searching…" and answered by a lazy listener.
Other features add sub-commands with `@subcommand("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.identity import Person
from bot.services import Services
from bot.views.answers import Message


@dataclass
class CommandRequest:
    services: Services
    client: WebClient
    person: Person
    args: str  # the text after the sub-command word
    body: dict  # the raw slash command payload (channel_id, trigger_id, response_url, ...)


SubcommandHandler = Callable[[CommandRequest], Message | None]
AfterAck = Callable[[CommandRequest], None]
_SUBCOMMANDS: dict[str, SubcommandHandler] = {}
_AFTER_ACK: dict[SubcommandHandler, AfterAck] = {}
_NO_ARGS: set[SubcommandHandler] = set()


def subcommand(
    *names: str, after_ack: AfterAck | None = None, takes_args: bool = True
) -> Callable[[SubcommandHandler], SubcommandHandler]:
    """Register `/erp NAME ...`; the handler returns the ephemeral reply (or None after opening a modal).
    `after_ack` runs in the lazy listener with the same request, for slow work the ack cannot wait for.
    A sub-command that `takes_args=False` is only its word alone: "/erp help me post a vendor bill" is
    a question that happens to start with "help"."""

    def decorate(func: SubcommandHandler) -> SubcommandHandler:
        for name in names:
            _SUBCOMMANDS[name.lower()] = func
        if after_ack is not None:
            _AFTER_ACK[func] = after_ack
        if not takes_args:
            _NO_ARGS.add(func)
        return func

    return decorate


def split_subcommand(text: str) -> tuple[SubcommandHandler | None, str]:
    text = (text or "").strip()
    if not text:
        return _SUBCOMMANDS.get("help"), ""
    word, _, rest = text.partition(" ")
    handler = _SUBCOMMANDS.get(word.lower())
    if handler is None or (handler in _NO_ARGS and rest.strip()):
        return None, text
    return handler, rest.strip()


def register(app: App, services: Services) -> None:
    from bot.listeners.ask import answer_command

    def ack_command(ack: Ack, body: dict, client: WebClient) -> None:
        handler, args = split_subcommand(body.get("text", ""))
        person = services.directory.person(
            body["user_id"], services.ack_client, quick=True
        )  # before the ack: no waiting
        if handler is not None:
            reply = handler(CommandRequest(services, client, person, args, body))
            if reply is None:
                ack()
            else:
                ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
            return
        from bot.views.answers import searching_message

        searching = searching_message(person.lang)
        ack(text=searching.text, blocks=searching.blocks, response_type="ephemeral")

    def answer(body: dict, client: WebClient, respond) -> None:
        handler, args = split_subcommand(body.get("text", ""))
        if handler is None:
            answer_command(services, client, respond, body, args)
        elif (after_ack := _AFTER_ACK.get(handler)) is not None:
            person = services.directory.person(body["user_id"])
            after_ack(CommandRequest(services, client, person, args, body))

    app.command(ids.ASK_COMMAND)(ack=ack_command, lazy=[answer])
