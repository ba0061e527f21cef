"""The one way the bot talks to Slack's Web API: a WebClient with retries for 429s and dropped connections."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings


def create_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient on `SLACK_API_URL` (a local fake in tests) that waits out rate limits (Retry-After)
    and retries connection errors, so fan-outs to hundreds of users do not lose messages."""
    base_url = settings.slack_api_url
    if not base_url.endswith("/"):
        base_url += "/"
    client = WebClient(
        token=token if token is not None else (settings.slack_bot_token or None),
        base_url=base_url,
        timeout=30,
        logger=logging.getLogger("erp_coach.slack"),
    )
    client.retry_handlers.extend(
        [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=5)]
    )
    return client
