"""The one "was this helpful?" an unrated answer gets in its thread: scheduled with Slack right after the
answer (Slack posts it, so no process of ours has to be up then) and withdrawn when the answer is rated."""

from __future__ import annotations

import datetime as dt
import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import Services
from bot.views.answers import rating_reminder_message
from feedback.db import utcnow
from feedback.questions import attach_rating_reminder, reminded_since

log = logging.getLogger("erp_coach.rating_reminders")


def schedule(
    services: Services,
    client: WebClient,
    question_id: int,
    user_id: str,
    channel: str | None,
    thread_ts: str,
    lang: str,
) -> None:
    """Schedule one "was this helpful?" in the answer's thread (Slack posts it, so nothing here has to
    stay up); the rating withdraws it. At most one per person per cooldown."""
    settings = services.settings
    if not settings.rating_reminder_minutes or not channel:
        return
    now = utcnow()
    with services.db.begin() as session:
        if reminded_since(
            session, user_id, now - dt.timedelta(hours=settings.rating_reminder_cooldown_hours)
        ):
            return
    message = rating_reminder_message(lang, question_id)
    try:
        scheduled = client.chat_scheduleMessage(
            channel=channel,
            post_at=int(time.time() + settings.rating_reminder_minutes * 60),
            thread_ts=thread_ts,
            **message.as_kwargs(),
        )
    except SlackApiError as exc:
        log.warning("could not schedule the rating reminder for question %s: %s", question_id, exc)
        return
    scheduled_id = scheduled.get("scheduled_message_id")
    with services.db.begin() as session:
        stored = attach_rating_reminder(session, question_id, scheduled_id, now)
    if not stored:  # rated while it was being scheduled
        withdraw(client, channel, scheduled_id)


def withdraw(client: WebClient, channel: str | None, scheduled_id: str) -> None:
    """The answer is rated: the scheduled reminder must not arrive (if it already has, Slack answers
    invalid_scheduled_message_id and there is nothing left to withdraw)."""
    try:
        client.chat_deleteScheduledMessage(channel=channel, scheduled_message_id=scheduled_id)
    except SlackApiError as exc:
        log.info("rating reminder %s not withdrawn: %s", scheduled_id, exc.response.get("error"))
