"""The one way the bot talks to Slack's Web API: a WebClient with retries for 429s and dropped connections."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings

ACK_PATH_TIMEOUT = 1.5  # seconds; Slack wants the ack within 3


def create_web_client(settings: Settings, token: str | None = None, *, ack_path: bool = False) -> WebClient:
    """A WebClient on `SLACK_API_URL` (a local fake in tests) that waits out rate limits (Retry-After)
    and retries connection errors, so fan-outs to hundreds of users do not lose messages.

    `ack_path=True`: for the few lookups made before an ack (who is asking, in what language): one try
    with a short timeout, never a wait for Retry-After; the caller does without the answer instead."""
    base_url = settings.slack_api_url
    if not base_url.endswith("/"):
        base_url += "/"
    client = WebClient(
        token=token if token is not None else (settings.slack_bot_token or None),
        base_url=base_url,
        timeout=ACK_PATH_TIMEOUT if ack_path else 30,
        logger=logging.getLogger("erp_coach.slack"),
        # slack_sdk's default retries a dropped connection once: not on the ack path.
        retry_handlers=[]
        if ack_path
        else [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=5)],
    )
    return client
