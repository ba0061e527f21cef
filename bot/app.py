"""The Slack app factory: one Bolt `App` wired to the services, used by Socket Mode and HTTP mode alike."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.lazy_listener.internals import build_runnable_function
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner

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
    executor = ThreadPoolExecutor(
        max_workers=max(1, settings.answer_workers), thread_name_prefix="erp-coach-answer"
    )
    app = App(
        name="erp-coach",
        client=services.slack_client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        listener_executor=executor,
        raise_error_for_unhandled_request=True,
        logger=logging.getLogger("erp_coach.bolt"),
    )
    app.listener_runner.lazy_listener_runner = _DeduplicatingLazyRunner(
        services, logging.getLogger("erp_coach.lazy"), executor
    )

    @app.error
    def _on_error(error: Exception, body: dict, logger: logging.Logger, request) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # Events we subscribe to but do not act on (e.g. message edits) are fine: 200, no noise.
            return BoltResponse(status=200, body="")
        logger.exception("listener failed for %s", body.get("type"), exc_info=error)
        acked = getattr(getattr(request.context, "ack", None), "response", None)
        if acked is not None:
            # Failed after ack() (a views.open Slack refused, say): what was acked stands. A 500 would
            # have Slack show the user its generic error for a request that was answered.
            return BoltResponse(status=acked.status, body=acked.body, headers=acked.headers)
        return BoltResponse(status=500, body="")

    from bot.listeners import register_all

    register_all(app, services)
    return app


class _DeduplicatingLazyRunner(ThreadLazyListenerRunner):
    """Runs lazy listeners on our executor, answering each Events API delivery once.

    Slack redelivers an event (same event_id, X-Slack-Retry-Num) when it saw no 2xx within 3 s. Every
    delivery is acked at once; the worker then claims `event_id` in the shared database (atomic insert,
    so replicas behind a load balancer agree) and drops redeliveries. Doing this after the ack keeps
    database writes off the acknowledgement path, where SQLite's single writer would queue them.
    Event listeners must therefore be lazy (ack first, work after), which the conventions ask anyway.
    """

    def __init__(self, services: Services, logger: logging.Logger, executor: ThreadPoolExecutor) -> None:
        super().__init__(logger=logger, executor=executor)
        self._services = services
        self._lock = threading.Lock()
        self._last_prune = 0.0

    def start(self, function, request: BoltRequest) -> None:
        runnable = build_runnable_function(func=function, logger=self.logger, request=request)
        body = request.body or {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            self.executor.submit(runnable)
            return
        key = f"event:{event_id}:{getattr(function, '__name__', 'lazy')}"[:128]
        retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]

        def once() -> None:
            try:
                with self._services.db.begin() as session:
                    fresh = first_delivery(session, key)
            except Exception:
                self.logger.exception("could not record delivery %s; handling it anyway", key)
                fresh = True
            if not fresh:
                log.info("ignoring redelivery of %s (retry %s)", event_id, retry)
                return
            try:
                self._maybe_prune()
            except Exception:  # housekeeping: never at the cost of the event it rides on
                self.logger.exception("could not prune old deliveries")
            runnable()

        self.executor.submit(once)

    def _maybe_prune(self) -> None:
        with self._lock:
            if time.monotonic() - self._last_prune < _PRUNE_EVERY:
                return
            self._last_prune = time.monotonic()
        with self._services.db.begin() as session:
            forget_old_deliveries(session)
