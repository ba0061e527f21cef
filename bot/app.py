"""The Slack app factory: one Bolt `App` wired to the services, used by Socket Mode and HTTP mode alike."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from bot.services import Services
from feedback.deliveries import first_delivery, forget_old_deliveries

log = logging.getLogger("erp_coach.app")
_PRUNE_EVERY = 3600.0  # seconds between clean-ups of the delivery record


def create_app(services: Services) -> App:
    """Build the Bolt app.

    `process_before_response=True`: the ack function runs in the request thread and the HTTP response
    leaves as soon as it returns, while every slow part (search, Web API calls) is a lazy listener on
    our own executor. With the default (False) Bolt runs ack functions on the same small executor as
    the lazy work, so a burst of slow answers would delay acks past Slack's 3 seconds.
    """
    settings = services.settings
    app = App(
        name="erp-coach",
        client=services.slack_client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(
            max_workers=max(1, settings.answer_workers), thread_name_prefix="erp-coach-answer"
        ),
        raise_error_for_unhandled_request=True,
        logger=logging.getLogger("erp_coach.bolt"),
    )
    app.use(_deduplicate_events(services))

    @app.error
    def _on_error(error: Exception, body: dict, logger: logging.Logger) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # Events we subscribe to but do not act on (e.g. message edits) are fine: 200, no noise.
            return BoltResponse(status=200, body="")
        logger.exception("listener failed for %s", body.get("type"), exc_info=error)
        return BoltResponse(status=500, body="")

    from bot.listeners import register_all

    register_all(app, services)
    return app


def _deduplicate_events(services: Services):
    """Answer each Events API delivery once, however often Slack (re)delivers it.

    Stopping the chain must return a response: Bolt would answer 404 otherwise, and Slack retries.
    """
    last_prune = [0.0]
    lock = threading.Lock()

    def middleware(req: BoltRequest, resp: BoltResponse, next_) -> BoltResponse | None:
        body = req.body or {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id or req.lazy_only:
            return next_()
        with services.db.begin() as session:
            fresh = first_delivery(session, f"event:{event_id}")
        if not fresh:
            retry = req.headers.get("x-slack-retry-num", ["-"])[0]
            log.info("ignoring redelivery of %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        with lock:
            due = time.monotonic() - last_prune[0] > _PRUNE_EVERY
            if due:
                last_prune[0] = time.monotonic()
        if due:
            with services.db.begin() as session:
                forget_old_deliveries(session)
        return next_()

    return middleware
