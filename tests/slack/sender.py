"""Sends requests to the app exactly as Slack does: signed (v0 HMAC-SHA256), in Slack's three body shapes.

    sender = SlackSender(app_url, signing_secret)
    r = sender.event({"type": "message", "channel_type": "im", "user": "U1", "text": "如何报销", ...})
    r = sender.command("/erp", "如何报销", user_id="U1")
    r = sender.block_action("feedback_helpful", value="42", user_id="U1")
    r = sender.view_submission("ask_modal", {"question": {"question": {"type": "plain_text_input", "value": "..."}}})

Each returns the app's `httpx`-free `SlackResponse` (status, headers, body, elapsed seconds).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

_counter = itertools.count(1)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class SlackSender:
    """Signs and posts Slack-shaped requests to `url` (the app's /slack/events)."""

    url: str
    signing_secret: str
    team_id: str = "T0001"
    api_app_id: str = "A0001"
    timeout: float = 10.0
    response_url_base: str = ""  # the fake's /respond/ base, so respond() calls are recorded
    sent: list[bytes] = field(default_factory=list)

    # -- raw ----------------------------------------------------------------------------------------
    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        sign_request: bool = True,
        headers: dict[str, str] | None = None,
    ) -> SlackResponse:
        """POST `body` signed with the secret (or with `signature`, or unsigned when sign_request=False)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        h = {"Content-Type": content_type}
        if sign_request:
            h["X-Slack-Request-Timestamp"] = ts
            h["X-Slack-Signature"] = signature or sign(self.signing_secret, ts, body)
        h.update(headers or {})
        self.sent.append(body)
        req = urllib.request.Request(self.url, data=body, headers=h, method="POST")
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = resp.read()
                return SlackResponse(resp.status, dict(resp.headers), data, time.perf_counter() - start)
        except urllib.error.HTTPError as err:
            data = err.read()
            return SlackResponse(err.code, dict(err.headers), data, time.perf_counter() - start)

    # -- Events API ------------------------------------------------------------------------------------
    def event_body(
        self, event: dict, *, event_id: str | None = None, authorizations_user: str = "UBOT"
    ) -> dict:
        event = dict(event)
        event.setdefault("event_ts", f"{time.time():.6f}")
        if event.get("type") in ("message", "app_mention"):
            event.setdefault("ts", event["event_ts"])
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            # Unique across processes (a benchmark's load generator runs in its own).
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:16].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": self.team_id,
                    "user_id": authorizations_user,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def event(
        self, event: dict, *, event_id: str | None = None, retry_num: int | None = None, **kw: Any
    ) -> SlackResponse:
        """An Events API `event_callback` (JSON). `retry_num` adds Slack's retry headers."""
        body = json.dumps(self.event_body(event, event_id=event_id), ensure_ascii=False).encode("utf-8")
        headers = dict(kw.pop("headers", {}) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return self.post(body, "application/json", headers=headers, **kw)

    def raw_event_callback(self, payload: dict, **kw: Any) -> SlackResponse:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return self.post(body, "application/json", **kw)

    def dm(self, user: str, text: str, *, channel: str | None = None, **kw: Any) -> SlackResponse:
        """A direct message from `user` to the bot (message.im)."""
        ev = {
            "type": "message",
            "channel": channel or f"D{user}",
            "channel_type": "im",
            "user": user,
            "text": text,
        }
        return self.event(ev, **kw)

    def mention(self, user: str, text: str, *, channel: str = "C0GENERAL", bot_user: str = "UBOT", **kw: Any):
        """An @mention of the bot in a channel (app_mention)."""
        ev = {"type": "app_mention", "channel": channel, "user": user, "text": f"<@{bot_user}> {text}"}
        return self.event(ev, **kw)

    def home_opened(self, user: str, **kw: Any) -> SlackResponse:
        return self.event(
            {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}, **kw
        )

    # -- slash commands ------------------------------------------------------------------------------------
    def command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0GENERAL",
        channel_name: str = "general",
        **kw: Any,
    ) -> SlackResponse:
        """A slash command (form-encoded), with a response_url on the fake when one is configured."""
        n = next(_counter)
        form = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "erp-coach-test",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(f"cmd{n}"),
            "trigger_id": f"{n}.trigger",
        }
        body = urllib.parse.urlencode(form).encode("utf-8")
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    # -- interactivity -----------------------------------------------------------------------------------------
    def interactive(self, payload: dict, **kw: Any) -> SlackResponse:
        """Any interactivity payload, form-encoded as `payload=<json>`."""
        payload = {
            "team": {"id": self.team_id, "domain": "erp-coach-test"},
            "api_app_id": self.api_app_id,
            **payload,
        }
        payload.setdefault("token", "legacy-verification-token")
        payload.setdefault("trigger_id", f"{next(_counter)}.trigger")
        body = urllib.parse.urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode("utf-8")
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    def block_action(
        self,
        action_id: str,
        *,
        user_id: str,
        value: str | None = None,
        block_id: str = "b",
        channel_id: str = "C0GENERAL",
        message: dict | None = None,
        message_ts: str = "1700000000.000100",
        container: dict | None = None,
        view: dict | None = None,
        action: dict | None = None,
        **kw: Any,
    ) -> SlackResponse:
        """A button click (block_actions). Pass `view` for clicks inside a modal or App Home."""
        act = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            act["value"] = value
        act.update(action or {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "actions": [act],
            "response_url": self._response_url(f"act{next(_counter)}"),
        }
        if view is not None:
            payload["view"] = view
            payload["container"] = container or {"type": "view", "view_id": view.get("id", "V1")}
        else:
            payload["channel"] = {"id": channel_id, "name": "general"}
            payload["message"] = message or {"type": "message", "ts": message_ts, "text": "", "blocks": []}
            payload["container"] = container or {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
        return self.interactive(payload, **kw)

    def view_submission(
        self,
        callback_id: str,
        values: dict,
        *,
        user_id: str,
        private_metadata: str = "",
        view_id: str = "V0SUBMIT",
        **kw: Any,
    ) -> SlackResponse:
        """A modal submission. `values` is Slack's state shape: {block_id: {action_id: {type, value...}}}."""
        payload = {
            "type": "view_submission",
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "view": {
                "id": view_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": "h1",
            },
            "response_urls": [],
        }
        return self.interactive(payload, **kw)

    def message_shortcut(
        self,
        callback_id: str,
        *,
        user_id: str,
        text: str,
        channel_id: str = "C0GENERAL",
        message_user: str = "U0OTHER",
        message_ts: str = "1700000000.000200",
        **kw: Any,
    ) -> SlackResponse:
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "user": {"id": user_id, "name": user_id.lower(), "team_id": self.team_id},
            "channel": {"id": channel_id, "name": "general"},
            "message": {"type": "message", "user": message_user, "text": text, "ts": message_ts},
            "message_ts": message_ts,
            "response_url": self._response_url(f"sc{next(_counter)}"),
        }
        return self.interactive(payload, **kw)

    def global_shortcut(self, callback_id: str, *, user_id: str, **kw: Any) -> SlackResponse:
        payload = {
            "type": "shortcut",
            "callback_id": callback_id,
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
        }
        return self.interactive(payload, **kw)

    def _response_url(self, name: str) -> str:
        return f"{self.response_url_base.rstrip('/')}/respond/{name}" if self.response_url_base else ""
