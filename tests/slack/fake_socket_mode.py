"""Slack's side of Socket Mode: a WebSocket server on 127.0.0.1 that greets the app, pushes envelopes
and collects the app's acknowledgements, as Slack's Socket Mode service does.

    server = FakeSocketMode().start()
    fake_slack.socket_mode_url = server.url        # apps.connections.open hands it out
    envelope_id = server.push("events_api", sender.event_body({...}))
    ack = server.wait_ack(envelope_id)             # {"envelope_id": ..., maybe "payload": ...}
"""

from __future__ import annotations

import json
import threading
import uuid

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: dict[str, dict] = {}
        self.opened = 0  # connections the app has opened, reconnections included
        self._cond = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeSocketMode:
        self._server = serve(self._serve, "127.0.0.1", 0)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=fake-ticket&app_id=A0TEST"

    def _serve(self, connection: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake"},
            "connection_info": {"app_id": "A0TEST"},
        }
        connection.send(json.dumps(hello))
        with self._cond:
            self._connections.append(connection)
            self.opened += 1
            self._cond.notify_all()
        try:
            for message in connection:
                data = json.loads(message)
                with self._cond:
                    self.acks[data.get("envelope_id", "")] = data
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._connections.remove(connection)

    def wait_connected(self, timeout: float = 10.0, *, opened: int = 1) -> None:
        """Until the app holds an open connection and has opened `opened` in all."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections and self.opened >= opened, timeout):
                raise AssertionError(f"the app opened {self.opened} Socket Mode connections, not {opened}")

    def refresh(self) -> None:
        """Ask the app to move to a new connection, as Slack does every few hours."""
        with self._cond:
            connection = self._connections[-1]
        connection.send(json.dumps({"type": "disconnect", "reason": "refresh_requested"}))

    def drop(self) -> None:
        """Close the app's connection without warning, as a network failure or a Slack restart does."""
        with self._cond:
            connection = self._connections[-1]
        connection.close()

    def push(
        self, kind: str, payload: object, *, envelope_id: str | None = None, retry_attempt: int = 0
    ) -> str:
        """Send one envelope ("events_api", "slash_commands" or "interactive") to the connected app."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        with self._cond:
            connection = self._connections[-1]
        connection.send(json.dumps(envelope, ensure_ascii=False))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict:
        """The app's acknowledgement of an envelope; Slack expects it within 3 seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged within {timeout} s")
            return self.acks[envelope_id]
