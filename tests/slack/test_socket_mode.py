"""Socket Mode, the default way to run the bot: the app opens a WebSocket (URL from
apps.connections.open on the fake Web API), Slack's fake side pushes envelopes, and the app must ack
each within 3 s and answer through the Web API, as in HTTP mode."""

from __future__ import annotations

import time

import pytest

from bot.app import create_app
from bot.server import socket_mode_handler
from tests.slack.fake_socket_mode import FakeSocketMode
from tests.slack.sender import SlackSender


@pytest.fixture
def slack_overrides():
    return {"SLACK_APP_TOKEN": "xapp-1-A0TEST-1-socket"}


@pytest.fixture
def socket_app(slack_services, fake_slack, slack_knowledge):
    slack_services.__dict__["knowledge"] = slack_knowledge  # what the cached property would hold
    server = FakeSocketMode().start()
    fake_slack.socket_mode_url = server.url
    handler = socket_mode_handler(create_app(slack_services), slack_services)
    handler.connect()
    server.wait_connected()
    # Builds payloads exactly as for HTTP mode; nothing is posted over HTTP here.
    bodies = SlackSender("http://unused", "unused", response_url_base=fake_slack.base_url)
    yield server, bodies
    handler.close()
    server.stop()


def _dm(user: str, text: str) -> dict:
    return {"type": "message", "channel": f"D{user}", "channel_type": "im", "user": user, "text": text}


def _command(bodies: SlackSender, fake, text: str, user: str) -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": bodies.team_id,
        "team_domain": "erp-coach-test",
        "channel_id": "C0GEN",
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/erp",
        "text": text,
        "api_app_id": bodies.api_app_id,
        "is_enterprise_install": "false",
        "response_url": fake.response_url("socket-cmd"),
        "trigger_id": "1.trigger",
    }


def test_the_app_connects_with_the_app_token(socket_app, fake_slack):
    [call] = fake_slack.calls("apps.connections.open")
    assert call.token == "xapp-1-A0TEST-1-socket"


def test_a_chinese_dm_is_acked_at_once_and_answered(socket_app, fake_slack):
    server, bodies = socket_app
    fake_slack.add_user("UZH", locale="zh-CN")
    event = _dm("UZH", "怎么提交报销单？")
    started = time.monotonic()
    envelope = server.push("events_api", bodies.event_body(event))
    server.wait_ack(envelope)
    assert time.monotonic() - started < 1.0
    answer = fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    assert "新建报销单" in answer.text and "费用报销 › 提交报销单" in answer.text


def test_a_slash_command_is_acked_and_answered_privately(socket_app, fake_slack):
    server, bodies = socket_app
    fake_slack.add_user("U1", locale="en-US")
    envelope = server.push("slash_commands", _command(bodies, fake_slack, "I forgot my ERP password", "U1"))
    ack = server.wait_ack(envelope)
    assert "Searching" in ack["payload"]["text"]  # the immediate reply rides on the ack
    answer = fake_slack.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral" and "Forgot password" in answer.text


def test_a_redelivered_envelope_is_answered_once(socket_app, fake_slack):
    server, bodies = socket_app
    fake_slack.add_user("U1", locale="en-US")
    body = bodies.event_body(
        _dm("U1", "How do I validate a receipt?"),
        event_id="Ev0SOCKET1",
    )
    server.wait_ack(server.push("events_api", body))
    fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DU1")
    # Slack redelivers an envelope it saw no ack for (say, across a reconnect): same event, new envelope.
    server.wait_ack(server.push("events_api", body, retry_attempt=1))
    time.sleep(1.0)
    answers = [c for c in fake_slack.calls("chat.postMessage") if c.args["channel"] == "DU1"]
    assert len(answers) == 1


def test_a_malformed_envelope_does_not_break_the_connection(socket_app, fake_slack):
    server, bodies = socket_app
    fake_slack.add_user("U1", locale="en-US")
    server.push("events_api", {"type": "event_callback", "event_id": "Ev0BROKEN"})  # no event at all
    server.push("interactive", {"type": "block_actions"})  # no user, no actions
    event = _dm("U1", "How do I validate a receipt?")
    server.wait_ack(server.push("events_api", bodies.event_body(event)))
    answer = fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DU1")
    assert "Click Validate" in answer.text


@pytest.mark.parametrize("how", ["refresh", "drop"])
def test_the_app_reconnects_and_goes_on_answering(socket_app, fake_slack, how):
    """Slack asks for a new connection every few hours, and networks fail: the bot must come back by
    itself, with a new URL from apps.connections.open, and answer what arrives on the new connection."""
    server, bodies = socket_app
    fake_slack.add_user("UZH", locale="zh-CN")
    getattr(server, how)()
    server.wait_connected(timeout=30, opened=2)
    assert len(fake_slack.calls("apps.connections.open")) >= 2
    event = _dm("UZH", "怎么提交报销单？")
    server.wait_ack(server.push("events_api", bodies.event_body(event)), timeout=5)
    answer = fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    assert "费用报销 › 提交报销单" in answer.text
