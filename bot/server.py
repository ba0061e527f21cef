"""Serving the app: HTTP mode (a WSGI app on waitress) and Socket Mode.

Why waitress for HTTP mode: a production WSGI server in pure Python (Pylons project) with a fixed
thread pool and asynchronous socket handling, so slow clients never hold a worker; it runs in one
process, so the embedding model and the search indexes are loaded once and shared by all request
threads (gunicorn's pre-fork workers would each load their own copy, and it does not run on Windows).
Scale out with replicas behind the load balancer; event de-duplication is in the shared database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.services import Services

log = logging.getLogger("erp_coach.server")
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def create_wsgi_app(app: App, services: Services) -> Callable[..., Iterable[bytes]]:
    """POST /slack/events -> Bolt (signature checked there); GET /healthz -> 200 when the DB answers."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _health(services, start_response)
        if path == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not Found"]

    return wsgi


def _health(services: Services, start_response: Callable) -> Iterable[bytes]:
    try:
        with services.db.engine.connect() as conn:
            conn.execute(text("select 1"))
        status, body = "200 OK", {"status": "ok", "database": services.db.dialect}
    except Exception as exc:  # noqa: BLE001 - any failure means "do not route traffic here"
        log.warning("health check failed: %s", exc)
        status, body = "503 Service Unavailable", {"status": "unavailable", "error": exc.__class__.__name__}
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def create_http_server(app: App, services: Services, *, host: str = "0.0.0.0", port: int = 3000):
    """A waitress server (not yet running); `.run()` blocks, `.close()` stops; port 0 picks a free one
    (read it from `.effective_port`)."""
    from waitress import create_server

    return create_server(
        create_wsgi_app(app, services),
        host=host,
        port=port,
        threads=max(2, services.settings.http_threads),
        ident="erp-coach",
        # Slack gives up after 3 s; do not let idle keep-alive connections pin channels for long.
        channel_timeout=30,
        connection_limit=1000,
        clear_untrusted_proxy_headers=True,
    )


def serve_http(app: App, services: Services, *, host: str, port: int) -> None:
    server = create_http_server(app, services, host=host, port=port)
    log.info("erp-coach listening on http://%s:%s%s", host, server.effective_port, EVENTS_PATH)
    try:
        server.run()
    finally:
        server.close()


def serve_socket_mode(app: App, services: Services) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token=services.settings.slack_app_token).start()
