"""Getting messages to Slack: answers that keep their text when Slack refuses their screenshots, and the
senders the scheduled jobs use (survey invitations, reminders and training reminders as DMs).

The senders turn `feedback` outgoing items into Web API calls (through `services.slack_client`, which
waits out 429s with slack_sdk's RateLimitErrorRetryHandler) and Slack's errors into `DeliveryFailed`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookResponse

from bot.views.answers import has_screenshots, without_screenshots
from bot.views.surveys import invitation_blocks
from bot.views.training import reminder_blocks
from feedback.surveys import DeliveryFailed, Outgoing, Sent
from feedback.training import TrainingReminder

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("erp_coach.delivery")

# Slack's answers that say "not now" (an outage, a limit not waited out): hand the send back and try
# again later. Every other error is about this message or this person (user_not_found, account_inactive,
# invalid_blocks, msg_too_long, ...): retrying would fail the same way, so the delivery is marked failed
# and the others go on.
_TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# How Slack refuses a message (invalid_blocks) or a view (invalid_arguments) whose image it could not
# download ("downloading image failed"); a response_url answers 400 with the error as its body.
_REFUSED = ("invalid_blocks", "invalid_arguments")

R = TypeVar("R")


def with_screenshot_fallback(send: Callable[[list[dict]], R], blocks: list[dict], what: str = "answer") -> R:
    """`send(blocks)`; when Slack refuses blocks that hold screenshots (it fetches every image URL and
    rejects the whole message when one fails), `send` once more without them, so the answer itself is
    never lost. `send` posts, updates or responds (a response_url's WebhookResponse is checked too)."""
    if not has_screenshots(blocks):
        return send(blocks)
    try:
        sent = send(blocks)
    except SlackApiError as exc:
        response = exc.response if exc.response is not None else {}
        if response.get("error") not in _REFUSED:
            raise
        reason = "; ".join(
            [str(response.get("error"))]
            + [str(e) for e in response.get("errors") or []]
            + [str(m) for m in (response.get("response_metadata") or {}).get("messages") or []]
        )
    else:
        if not isinstance(sent, WebhookResponse) or sent.status_code == 200:
            return sent
        if not any(error in (sent.body or "") for error in _REFUSED):
            return sent
        reason = f"{sent.status_code} {sent.body}"
    log.warning("Slack refused the %s with its screenshots (%s); sending it without them", what, reason)
    return send(without_screenshots(blocks))


def post_dm(services: Services, user_id: str, text: str, blocks: list[dict]) -> Sent:
    """chat.postMessage to a user id opens (or reuses) the app's DM with them; errors -> DeliveryFailed."""
    try:
        response = services.slack_client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) if exc.response is not None else "unknown"
        raise DeliveryFailed(error or "slack error", retry=not error or error in _TRANSIENT) from exc
    except TimeoutError as exc:
        raise DeliveryFailed(f"timeout: {exc}", sent_maybe=True) from exc
    except OSError as exc:  # connection refused / reset: the request did not get through
        raise DeliveryFailed(f"connection: {exc}", retry=True) from exc
    return Sent(channel_id=response["channel"], message_ts=response["ts"])


class Pacer:
    """Spaces calls to at most `per_second` (shared by the threads of one process); 0 = no pacing.

    Staying just under Slack's limit beats hitting it: every 429 costs a whole Retry-After second."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class SurveySender:
    def __init__(self, services: Services, pacer: Pacer | None = None) -> None:
        self.services = services
        self.pacer = pacer or Pacer(services.settings.fanout_per_second)

    def __call__(self, item: Outgoing) -> Sent:
        self.pacer.wait()
        text, blocks = invitation_blocks(
            item.kind,
            item.round_id,
            item.title,
            item.anonymous,
            item.closes_at,
            self.services.settings.timezone,
            item.lang,
            now=item.at,
            last=item.last_reminder,
        )
        return post_dm(self.services, item.slack_user_id, text, blocks)


class TrainingReminderSender:
    def __init__(self, services: Services) -> None:
        self.services = services

    def __call__(self, reminder: TrainingReminder) -> Sent | None:
        settings = self.services.settings
        text, blocks = reminder_blocks(
            reminder.kind, list(reminder.items), reminder.lang, settings.timezone, settings.docs_base_url
        )
        try:
            return post_dm(self.services, reminder.slack_user_id, text, blocks)
        except DeliveryFailed as exc:
            if exc.retry:  # Slack down or unreachable: send_training_reminders tries again next run
                raise
            log.warning("training reminder to %s failed: %s", reminder.slack_user_id, exc.reason)
            return None
