"""A local stand-in for Slack's Web API: a real HTTP server on 127.0.0.1 that records every call.

Point `slack_sdk.WebClient(base_url=fake.api_url)` (setting SLACK_API_URL) at it. It answers with the
fields the app reads, records each call (method, decoded arguments, token) for assertions, and checks
every Block Kit payload against Slack's limits: a violation is answered the way Slack would
(`ok: false, error: invalid_blocks`) and kept in `fake.violations`, which the `fake_slack` fixture
asserts empty at teardown, so every test that makes the bot speak also checks what it said.
`fake.refuse_images()` answers as Slack does when it cannot download an image block's URL.

    fake = FakeSlack(users={"U1": SlackUser(locale="zh-CN")}).start()
    ...
    call = fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D1")
    assert "报销" in call.text
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.models.blocks import Block

# Arguments that clients send as JSON strings inside form bodies.
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files", "unfurl_links_data")
_MESSAGE_METHODS = (
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.scheduleMessage",
    "response_url",
)
_VIEW_METHODS = ("views.open", "views.update", "views.publish", "views.push")
_PINGS = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")


@dataclass
class SlackUser:
    """A workspace member as `users.info` describes them."""

    locale: str = "en-US"
    tz: str = "Asia/Shanghai"
    tz_offset: int = 8 * 3600
    name: str = ""
    real_name: str = ""
    email: str = ""
    is_bot: bool = False
    is_admin: bool = False
    dnd: tuple[float, float] | None = None  # (start, end) epoch seconds of their next do-not-disturb


@dataclass
class Call:
    """One recorded Web API call (or response_url POST, method "response_url")."""

    method: str
    args: dict[str, Any]
    token: str | None
    path: str
    at: float = field(default_factory=time.monotonic)
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> list[dict]:
        if "view" in self.args and isinstance(self.args["view"], dict):
            return self.args["view"].get("blocks") or []
        return self.args.get("blocks") or []

    @property
    def text(self) -> str:
        """Every human-readable string in the call (fallback text, blocks, view title), newline-joined."""
        parts: list[str] = []
        if isinstance(self.args.get("text"), str):
            parts.append(self.args["text"])
        view = self.args.get("view")
        if isinstance(view, dict):
            for key in ("title", "submit", "close"):
                if isinstance(view.get(key), dict):
                    parts.append(view[key].get("text", ""))
        parts.extend(all_text(self.blocks))
        return "\n".join(p for p in parts if p)

    def action_ids(self) -> list[str]:
        return [el["action_id"] for el in _walk_elements(self.blocks) if "action_id" in el]

    def element(self, action_id: str) -> dict:
        """The interactive element with `action_id` (KeyError if the call has none)."""
        for el in _walk_elements(self.blocks):
            if el.get("action_id") == action_id:
                return el
        raise KeyError(f"no element with action_id {action_id!r} in {self.method}; have {self.action_ids()}")


class FakeSlack:
    """The fake Web API server. Use as a context manager or call `start()` / `stop()`."""

    def __init__(
        self,
        users: dict[str, SlackUser] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        *,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        team_id: str = "T0001",
    ) -> None:
        self.users: dict[str, SlackUser] = dict(users or {})
        self.usergroups: dict[str, list[str]] = dict(usergroups or {})  # usergroup id -> member ids
        self.usergroup_handles: dict[str, str] = {}  # usergroup id -> handle, for usergroups.list
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.violations: list[str] = []
        self.uploads: dict[str, bytes] = {}  # file id -> uploaded bytes
        self._calls: list[Call] = []
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._overrides: dict[str, Callable[[Call], dict | tuple[int, dict]] | dict] = {}
        self._holds: dict[str, threading.Event] = {}
        self._rate: tuple[int, float, set[str] | None] | None = None
        self._rate_window: list[float] = []
        self.rate_limited = 0  # how many 429s were answered
        self._refuse_images = False
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out (FakeSocketMode.url)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL / WebClient(base_url=...) should be."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "") -> str:
        """A response_url to put into slash command / interactivity payloads; POSTs are recorded."""
        return f"{self.base_url}/respond/{name or next(self._ids)}"

    # -- configuration -------------------------------------------------------------------------------
    def add_user(self, user_id: str, **fields: Any) -> SlackUser:
        self.users[user_id] = SlackUser(**fields)
        return self.users[user_id]

    def add_usergroup(self, usergroup_id: str, members: list[str], handle: str = "") -> None:
        self.usergroups[usergroup_id] = list(members)
        self.usergroup_handles[usergroup_id] = handle or usergroup_id.lower()

    def respond_with(self, method: str, response: dict | Callable[[Call], dict | tuple[int, dict]]) -> None:
        """Override the answer for `method`: a dict, or a function of the Call returning a dict or
        (status, dict). Use it to inject errors (`{"ok": False, "error": "channel_not_found"}`)."""
        self._overrides[method] = response

    def hold(self, method: str) -> threading.Event:
        """Keep every answer to `method` waiting until the returned event is set (at most 10 s): a call
        in progress that the app may or may not wait for. The call is recorded once it is answered."""
        gate = threading.Event()
        self._holds[method] = gate
        return gate

    def rate_limit(
        self, per_second: int, *, methods: list[str] | None = None, retry_after: float = 1
    ) -> None:
        """Answer 429 with Retry-After once more than `per_second` calls (of `methods`, default all)
        arrived within the last second, as Slack's tiered limits do."""
        self._rate = (per_second, retry_after, set(methods) if methods else None)
        self._rate_window = []

    def refuse_images(self, refuse: bool = True) -> None:
        """Refuse every message and view that holds an image block, as Slack does when it cannot
        download the image: chat.* answer `invalid_blocks` ("downloading image failed"), views.*
        `invalid_arguments`, a response_url 400 with `invalid_blocks` as its body. Recorded as usual."""
        self._refuse_images = refuse

    # -- assertions ---------------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls()]

    def reset(self) -> None:
        with self._cond:
            self._calls.clear()
            self.violations.clear()

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        *,
        count: int = 1,
        after: int = 0,
    ) -> Call:
        """Block until `count` calls of `method` (matching `predicate`, among calls recorded after the
        first `after` calls) have arrived; returns the last of them. Answers come after the ack, from
        the app's worker threads, so tests wait rather than assert at once."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c
                    for c in self._calls[after:]
                    if c.method == method and (predicate is None or predicate(c))
                ]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = ", ".join(c.method for c in self._calls[after:]) or "nothing"
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count}x {method}; the app called: {seen}"
                        + (f"; violations: {self.violations}" if self.violations else "")
                    )
                self._cond.wait(remaining)

    def mark(self) -> int:
        """The number of calls so far; pass it as `after=` to wait only for newer calls."""
        with self._cond:
            return len(self._calls)

    def assert_quiet(self, since: int, wait: float = 0.5) -> None:
        """Assert that no call arrives after `since` within `wait` seconds (for "no side effect")."""
        time.sleep(wait)
        new = self.calls()[since:]
        assert not new, f"expected no Web API call, got {[c.method for c in new]}"

    # -- internals ------------------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _check_rate(self, method: str) -> float | None:
        if self._rate is None:
            return None
        limit, retry_after, methods = self._rate
        if methods is not None and method not in methods:
            return None
        now = time.monotonic()
        with self._cond:
            self._rate_window = [t for t in self._rate_window if now - t < 1.0]
            if len(self._rate_window) >= limit:
                self.rate_limited += 1
                return retry_after
            self._rate_window.append(now)
        return None

    def _answer(self, call: Call) -> tuple[int, dict]:
        override = self._overrides.get(call.method)
        if override is not None:
            result = override(call) if callable(override) else override
            return result if isinstance(result, tuple) else (200, result)
        if self._refuse_images and call.method in (*_MESSAGE_METHODS, *_VIEW_METHODS):
            refused = _image_refusal(call)
            if refused is not None:
                return refused
        problems = validate_payload(call)
        if problems:
            self.violations.extend(f"{call.method}: {p}" for p in problems)
            return 200, {"ok": False, "error": "invalid_blocks", "errors": problems}
        handler = getattr(self, "_m_" + call.method.replace(".", "_"), None)
        if handler is None:
            self.violations.append(f"{call.method}: not implemented by FakeSlack")
            return 200, {"ok": False, "error": "unknown_method"}
        return 200, handler(call.args)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    # -- Web API methods ---------------------------------------------------------------------------------
    def _m_apps_connections_open(self, a: dict) -> dict:
        if not self.socket_mode_url:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_mode_url}

    def _m_auth_test(self, a: dict) -> dict:
        return {
            "ok": True,
            "url": "https://erp-coach-test.slack.com/",
            "team": "Test Team",
            "user": "erp-coach",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _message(self, a: dict, ts: str) -> dict:
        return {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "text": a.get("text", ""),
            "blocks": a.get("blocks", []),
            "ts": ts,
            **({"thread_ts": a["thread_ts"]} if a.get("thread_ts") else {}),
        }

    def _m_chat_postMessage(self, a: dict) -> dict:
        if not a.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        return {"ok": True, "channel": a["channel"], "ts": ts, "message": self._message(a, ts)}

    def _m_chat_postEphemeral(self, a: dict) -> dict:
        if not a.get("channel") or not a.get("user"):
            return {
                "ok": False,
                "error": "channel_not_found" if not a.get("channel") else "user_not_in_channel",
            }
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, a: dict) -> dict:
        if not a.get("channel") or not a.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": a["channel"], "ts": a["ts"], "text": a.get("text", "")}

    def _m_chat_delete(self, a: dict) -> dict:
        return {"ok": True, "channel": a.get("channel"), "ts": a.get("ts")}

    def _m_chat_getPermalink(self, a: dict) -> dict:
        ts = str(a.get("message_ts", "")).replace(".", "")
        return {
            "ok": True,
            "channel": a.get("channel"),
            "permalink": f"https://erp-coach-test.slack.com/archives/{a.get('channel')}/p{ts}",
        }

    def _m_chat_scheduleMessage(self, a: dict) -> dict:
        post_at = int(a.get("post_at", 0))
        if post_at <= time.time():
            return {"ok": False, "error": "time_in_past"}
        return {
            "ok": True,
            "channel": a.get("channel"),
            "scheduled_message_id": f"Q{next(self._ids):08d}",
            "post_at": post_at,
            "message": self._message(a, ""),
        }

    def _m_chat_deleteScheduledMessage(self, a: dict) -> dict:
        return {"ok": True}

    def _m_reactions_add(self, a: dict) -> dict:
        return {"ok": True}

    def _m_reactions_remove(self, a: dict) -> dict:
        return {"ok": True}

    def _view(self, a: dict, view_id: str | None = None) -> dict:
        view = dict(a.get("view") or {})
        view.setdefault("id", view_id or f"V{next(self._ids):08d}")
        view.setdefault("hash", f"h{next(self._ids)}")
        return {"ok": True, "view": view}

    def _m_views_open(self, a: dict) -> dict:
        if not a.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(a)

    def _m_views_push(self, a: dict) -> dict:
        return self._m_views_open(a)

    def _m_views_update(self, a: dict) -> dict:
        if not a.get("view_id") and not a.get("external_id"):
            return {"ok": False, "error": "not_found"}
        return self._view(a, a.get("view_id"))

    def _m_views_publish(self, a: dict) -> dict:
        if not a.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(a)

    def _user_json(self, user_id: str, u: SlackUser, include_locale: bool) -> dict:
        name = u.name or user_id.lower()
        data = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": u.real_name or name,
            "tz": u.tz,
            "tz_offset": u.tz_offset,
            "is_bot": u.is_bot,
            "is_admin": u.is_admin,
            "deleted": False,
            "profile": {
                "display_name": name,
                "real_name": u.real_name or name,
                "email": u.email or f"{name}@example.com",
            },
        }
        if include_locale:
            data["locale"] = u.locale
        return data

    def _m_users_info(self, a: dict) -> dict:
        user_id = a.get("user", "")
        u = self.users.get(user_id)
        if u is None:
            return {"ok": False, "error": "user_not_found"}
        include = str(a.get("include_locale", "")).lower() in ("true", "1")
        return {"ok": True, "user": self._user_json(user_id, u, include)}

    def _m_dnd_teamInfo(self, a: dict) -> dict:
        wanted = [u for u in str(a.get("users") or "").split(",") if u]
        if not wanted:
            return {"ok": False, "error": "no_users_provided"}
        if len(wanted) > 50:
            return {"ok": False, "error": "too_many_users"}
        users = {}
        for user_id in wanted:
            if (u := self.users.get(user_id)) is not None:
                start, end = u.dnd or (1, 1)  # what Slack gives someone without do-not-disturb
                users[user_id] = {
                    "dnd_enabled": u.dnd is not None,
                    "next_dnd_start_ts": start,
                    "next_dnd_end_ts": end,
                }
        return {"ok": True, "users": users}

    def _m_users_lookupByEmail(self, a: dict) -> dict:
        for user_id, u in self.users.items():
            if (u.email or f"{u.name or user_id.lower()}@example.com") == a.get("email"):
                return {"ok": True, "user": self._user_json(user_id, u, False)}
        return {"ok": False, "error": "users_not_found"}

    def _m_users_list(self, a: dict) -> dict:
        members = [self._user_json(uid, u, True) for uid, u in self.users.items()]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_open(self, a: dict) -> dict:
        users = a.get("users") or ""
        if isinstance(users, list):
            users = ",".join(users)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + users.replace(",", "_")}}

    def _m_conversations_info(self, a: dict) -> dict:
        ch = a.get("channel", "")
        return {"ok": True, "channel": {"id": ch, "is_im": ch.startswith("D"), "name": ch.lower()}}

    def _m_usergroups_list(self, a: dict) -> dict:
        groups = [
            {"id": gid, "handle": self.usergroup_handles.get(gid, gid.lower()), "users": members}
            for gid, members in self.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}

    def _m_usergroups_users_list(self, a: dict) -> dict:
        gid = a.get("usergroup", "")
        if gid not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[gid])}

    def _m_files_getUploadURLExternal(self, a: dict) -> dict:
        file_id = f"F{next(self._ids):08d}"
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, a: dict) -> dict:
        files = a.get("files") or []
        missing = [f.get("id") for f in files if f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found", "missing": missing}
        return {
            "ok": True,
            "files": [
                {"id": f["id"], "title": f.get("title", ""), "size": len(self.uploads[f["id"]])}
                for f in files
            ],
        }

    def _m_response_url(self, a: dict) -> dict:
        return {"ok": True}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.owner
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parsed.path.startswith("/upload/"):
            fake.uploads[parsed.path.rsplit("/", 1)[1]] = raw
            fake._record(Call("files.upload", {"size": len(raw)}, None, parsed.path))
            self._send(200, {"ok": True}, text=True)
            return
        if parsed.path.startswith("/respond/"):
            method = "response_url"
        elif parsed.path.startswith("/api/"):
            method = parsed.path[len("/api/") :]
        else:
            self._send(404, {"ok": False, "error": "not_found"})
            return
        args = _decode_args(self.headers.get("Content-Type", ""), raw, parsed.query)
        token = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        token = token or args.pop("token", None)
        call = Call(method, args, token, parsed.path)
        retry_after = fake._check_rate(method)
        if retry_after is not None:
            call.response = {"ok": False, "error": "ratelimited"}
            call.method = method + ":429"
            fake._record(call)
            self._send(429, call.response, headers={"Retry-After": str(int(retry_after))})
            return
        if method != "response_url" and method != "auth.test" and not token:
            status, body = 200, {"ok": False, "error": "not_authed"}
        else:
            gate = fake._holds.get(method)
            if gate is not None:
                gate.wait(10)
            status, body = fake._answer(call)
        call.response = body
        fake._record(call)
        if method == "response_url" and status >= 400:  # Slack answers a response_url in plain text
            self._send(status, body, text=str(body.get("error", "")))
            return
        self._send(status, body)

    def _send(self, status: int, body: dict, headers: dict | None = None, text: bool | str = False) -> None:
        if isinstance(text, str):
            data = text.encode("utf-8")
        else:
            data = b"OK" if text else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header(
            "Content-Type", "text/plain" if text is not False else "application/json; charset=utf-8"
        )
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def _image_refusal(call: Call) -> tuple[int, dict] | None:
    """Slack's answer to a payload whose first image block it cannot download; None without one."""
    where = "/view/blocks" if call.method in _VIEW_METHODS else "/blocks"
    blocks = call.blocks if isinstance(call.blocks, list) else []
    index = next((i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("type") == "image"), None)
    if index is None:
        return None
    problem = f"downloading image failed [json-pointer:{where}/{index}/image_url]"
    if call.method == "response_url":
        return 400, {"ok": False, "error": "invalid_blocks"}
    error = "invalid_arguments" if call.method in _VIEW_METHODS else "invalid_blocks"
    return 200, {
        "ok": False,
        "error": error,
        "errors": [problem],
        "response_metadata": {"messages": [f"[ERROR] {problem}"]},
    }


def _decode_args(content_type: str, raw: bytes, query: str) -> dict[str, Any]:
    args: dict[str, Any] = {k: v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)}
    if "application/json" in content_type:
        if raw:
            args.update(json.loads(raw.decode("utf-8")))
    elif raw:
        args.update(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_ARGS:
        if isinstance(args.get(key), str) and args[key][:1] in ("[", "{"):
            args[key] = json.loads(args[key])
    return args


# -- Block Kit checks --------------------------------------------------------------------------------
def all_text(blocks: list[dict]) -> list[str]:
    """Every text string inside `blocks` (section text and fields, headers, context, buttons, inputs)."""
    out: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            if node.get("type") == "text" and isinstance(node.get("text"), str):  # rich_text leaf
                out.append(node["text"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(blocks)
    return out


def _walk_elements(blocks: list[dict]):
    """Interactive elements in a message or view (actions, section accessories, inputs, context_actions)."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("accessory"), dict):
            yield block["accessory"]
        if isinstance(block.get("element"), dict):
            yield block["element"]
        for el in block.get("elements") or []:
            if isinstance(el, dict) and "action_id" in el:
                yield el
            # feedback_buttons nest their buttons
            if isinstance(el, dict) and el.get("type") == "feedback_buttons":
                yield el


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def validate_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    """Problems Slack would reject (or that would misbehave) in `blocks`; [] when fine.

    Round-trips each block through slack_sdk's models (which know the element types and many limits),
    then checks the limits that bite most often ourselves.
    """
    problems: list[str] = []
    if not isinstance(blocks, list):
        return [f"blocks must be a list, got {type(blocks).__name__}"]
    limit = 50 if surface == "message" else 100
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks > {limit} allowed in a {surface}")
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"block {i} ({block.get('type') if isinstance(block, dict) else block!r})"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"{where}: not a block object")
            continue
        if block["type"] != "context_actions":  # newer than some slack_sdk versions' models
            try:
                parsed = Block.parse(block)
                if parsed is None:
                    problems.append(f"{where}: slack_sdk does not know this block type")
                else:
                    parsed.validate_json()
                    if parsed.to_dict() != block and block["type"] not in ("rich_text",):
                        diff = _first_diff(block, parsed.to_dict())
                        if diff:
                            problems.append(f"{where}: does not round-trip through slack_sdk ({diff})")
            except Exception as exc:  # noqa: BLE001 - any model error is a violation to report
                problems.append(f"{where}: {exc.__class__.__name__}: {exc}")
        bid = block.get("block_id")
        if bid is not None:
            if len(bid) > 255:
                problems.append(f"{where}: block_id longer than 255")
            if bid in block_ids:
                problems.append(f"{where}: duplicate block_id {bid!r}")
            block_ids.add(bid)
        t = block["type"]
        if t == "section":
            if _text_len(block.get("text")) > 3000:
                problems.append(f"{where}: section text {_text_len(block['text'])} > 3000 chars")
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section needs text or fields")
            if isinstance(block.get("text"), dict) and not block["text"].get("text"):
                problems.append(f"{where}: empty section text")
            for f in block.get("fields") or []:
                if _text_len(f) > 2000:
                    problems.append(f"{where}: field longer than 2000 chars")
            if len(block.get("fields") or []) > 10:
                problems.append(f"{where}: more than 10 fields")
        elif t == "header" and _text_len(block.get("text")) > 150:
            problems.append(f"{where}: header text > 150 chars")
        elif t == "context" and len(block.get("elements") or []) > 10:
            problems.append(f"{where}: context holds more than 10 elements")
        elif t == "actions" and len(block.get("elements") or []) > 25:
            problems.append(f"{where}: actions holds more than 25 elements")
        elif t == "context_actions" and len(block.get("elements") or []) > 5:
            problems.append(f"{where}: context_actions holds more than 5 elements")
        for node in _all_dicts(block):
            text = node.get("text") if node.get("type") in ("mrkdwn", "plain_text") else None
            ping = _PINGS.search(text) if isinstance(text, str) else None
            if ping:
                problems.append(f"{where}: text would ping everyone: {ping.group(0)}")
    for el in _walk_elements(blocks):
        aid = el.get("action_id")
        if aid is not None:
            if len(aid) > 255:
                problems.append(f"action_id longer than 255: {aid[:40]}...")
            if aid in action_ids:
                problems.append(f"duplicate action_id {aid!r}")
            action_ids.add(aid)
        if el.get("type") == "button":
            if _text_len(el.get("text")) > 75:
                problems.append(f"button {aid!r}: text > 75 chars")
            if len(el.get("value") or "") > 2000:
                problems.append(f"button {aid!r}: value > 2000 chars")
            if len(el.get("url") or "") > 3000:
                problems.append(f"button {aid!r}: url > 3000 chars")
    return problems


def validate_view(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"view type {kind!r} is neither modal nor home")
    if kind == "modal":
        for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
            if key in view and _text_len(view[key]) > limit:
                problems.append(f"modal {key} longer than {limit} chars: {view[key].get('text')!r}")
        if "title" not in view:
            problems.append("modal without title")
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [] if isinstance(b, dict))
        if has_input and "submit" not in view:
            problems.append("modal with inputs but no submit button")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("private_metadata longer than 3000 chars")
    if len(view.get("callback_id") or "") > 255:
        problems.append("callback_id longer than 255 chars")
    problems.extend(validate_blocks(view.get("blocks") or [], surface=kind or "modal"))
    return problems


def validate_payload(call: Call) -> list[str]:
    """Slack-limit problems in the call's blocks or view."""
    a = call.args
    problems: list[str] = []
    if call.method in _MESSAGE_METHODS:
        if "blocks" in a:
            problems.extend(validate_blocks(a["blocks"]))
        text = a.get("text")
        if isinstance(text, str):
            if len(text) > 40000:
                problems.append("text longer than 40,000 chars")
            if _PINGS.search(text):
                problems.append(f"fallback text would ping everyone: {_PINGS.search(text).group(0)}")
        if call.method != "response_url" and not a.get("text") and a.get("blocks"):
            problems.append("blocks without fallback text (notifications and screen readers show nothing)")
    elif call.method in _VIEW_METHODS:
        problems.extend(validate_view(a.get("view")))
    return problems


def _all_dicts(node: Any):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _all_dicts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _all_dicts(v)


def _first_diff(sent: Any, parsed: Any, path: str = "") -> str:
    """Keys we sent that slack_sdk dropped: usually a typo or an unknown field Slack would reject."""
    if isinstance(sent, dict) and isinstance(parsed, dict):
        for k, v in sent.items():
            if k not in parsed:
                return f"unknown field {path}{k}"
            d = _first_diff(v, parsed[k], f"{path}{k}.")
            if d:
                return d
    elif isinstance(sent, list) and isinstance(parsed, list):
        if len(sent) != len(parsed):
            return f"{path} length changed"
        for i, (a, b) in enumerate(zip(sent, parsed, strict=True)):
            d = _first_diff(a, b, f"{path}{i}.")
            if d:
                return d
    return ""
