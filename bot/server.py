"""Serving the app: HTTP mode (a WSGI app on waitress) and Socket Mode.

Why waitress for HTTP mode: a production WSGI server in pure Python (Pylons project) with a fixed
thread pool and asynchronous socket handling, so slow clients never hold a worker; it runs in one
process, so the embedding model and the search indexes are loaded once and shared by all request
threads (gunicorn's pre-fork workers would each load their own copy, and it does not run on Windows).
Scale out with replicas behind the load balancer; event de-duplication is in the shared database.
"""

from __future__ import annotations

import io
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from bot.services import Services

log = logging.getLogger("erp_coach.server")
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; refuse anything bigger unread


def create_wsgi_app(app: App, services: Services) -> Callable[..., Iterable[bytes]]:
    """POST /slack/events -> Bolt; GET /healthz -> 200 when the database answers.

    The signature is checked here before the body is parsed (Bolt parses first and would answer a
    malformed unsigned body with 500), then malformed signed bodies get 400; Bolt checks again.
    """
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = SignatureVerifier(services.settings.slack_signing_secret)

    def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _health(services, start_response)
        if path != EVENTS_PATH or method != "POST":
            return _plain(start_response, "404 Not Found", "Not Found")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", "bad content length")
        if length > MAX_BODY:
            return _plain(start_response, "413 Payload Too Large", "too large")
        body = environ["wsgi.input"].read(length) if length else b""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not _signed(verifier, services.settings.slack_signing_secret, body, timestamp, signature):
            return _plain(start_response, "401 Unauthorized", "invalid request")
        if not _well_formed(body, environ.get("CONTENT_TYPE", "")):
            return _plain(start_response, "400 Bad Request", "malformed payload")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return slack(environ, start_response)

    return wsgi


def _signed(verifier: SignatureVerifier, secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """v0 HMAC-SHA256 over `v0:{timestamp}:{body}`, timestamp within 5 minutes (slack_sdk checks both)."""
    if not secret or not timestamp.isdigit() or not signature.startswith("v0="):
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def _well_formed(body: bytes, content_type: str) -> bool:
    """The body parses and has the fields Bolt dereferences for its kind (Slack never sends less)."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            data = json.loads(text)
        else:
            form = urllib.parse.parse_qs(text, keep_blank_values=True)
            if "payload" not in form:
                return "command" in form or "ssl_check" in form
            data = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    kind = data.get("type")
    if kind == "event_callback":
        return isinstance(data.get("event"), dict) and bool(data["event"].get("type"))
    if kind == "block_actions":
        return bool(data.get("actions")) and isinstance(data.get("user"), dict)
    if kind in ("view_submission", "view_closed"):
        return isinstance(data.get("view"), dict) and isinstance(data.get("user"), dict)
    if kind in ("shortcut", "message_action"):
        return bool(data.get("callback_id")) and isinstance(data.get("user"), dict)
    return True


def _plain(start_response: Callable, status: str, text: str) -> Iterable[bytes]:
    data = text.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return [data]


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
        # select() fails outright on a descriptor numbered 1024 or above, which a process holding up to
        # 1,000 connections beside its database pool and index files reaches; poll() has no such limit.
        asyncore_use_poll=True,
        clear_untrusted_proxy_headers=True,
    )


def serve_http(app: App, services: Services, *, host: str, port: int) -> None:
    server = create_http_server(app, services, host=host, port=port)
    log.info("erp-coach listening on http://%s:%s%s", host, server.effective_port, EVENTS_PATH)
    try:
        server.run()
    finally:
        server.close()


def socket_mode_handler(app: App, services: Services):
    """The Socket Mode connection (not yet connected): `.start()` blocks, `.connect()` returns."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token=services.settings.slack_app_token)


def serve_socket_mode(app: App, services: Services) -> None:
    socket_mode_handler(app, services).start()
