"""The HTTP contract with Slack: signatures, timestamps, retries, malformed bodies, health."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from feedback.deliveries import Delivery
from feedback.people import User
from feedback.questions import QuestionLog
from tests.slack.sender import sign


def _rows(slack_app) -> tuple[int, int, int]:
    with slack_app.db.begin() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Delivery, User, QuestionLog))


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong_secret", "tampered_body", "six_minutes_old", "from_the_future"],
)
def test_bad_signatures_get_401_and_no_side_effect(slack_app, how):
    sender, fake = slack_app.sender, slack_app.fake
    fake.add_user("U1", locale="zh-CN")
    before_rows = _rows(slack_app)
    mark = fake.mark()
    body = json.dumps(sender.event_body({"type": "app_home_opened", "user": "U1", "tab": "home"})).encode()
    now = int(time.time())
    if how == "missing":
        r = sender.post(body, "application/json", sign_request=False)
    elif how == "wrong_secret":
        r = sender.post(body, "application/json", signature=sign("not-the-secret", str(now), body))
    elif how == "tampered_body":
        r = sender.post(
            body.replace(b"U1", b"U2"),
            "application/json",
            signature=sign(sender.signing_secret, str(now), body),
        )
    elif how == "six_minutes_old":
        r = sender.post(body, "application/json", timestamp=now - 6 * 60)
    else:
        r = sender.post(body, "application/json", timestamp=now + 6 * 60)
    assert r.status == 401
    fake.assert_quiet(mark, wait=0.4)
    assert _rows(slack_app) == before_rows


def test_slash_command_with_bad_signature_is_rejected(slack_app):
    mark = slack_app.fake.mark()
    r = slack_app.sender.command("/erp", "lang en", user_id="U9", signature="v0=" + "0" * 64)
    assert r.status == 401
    slack_app.fake.assert_quiet(mark, wait=0.3)
    assert _rows(slack_app) == (0, 0, 0)


def test_retried_event_is_handled_once(slack_app):
    sender, fake = slack_app.sender, slack_app.fake
    fake.add_user("U1", locale="en-US")
    event = {"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "DU1"}
    first = sender.event(event, event_id="Ev0RETRY1")
    assert first.status == 200
    fake.wait_for("views.publish")
    for retry in (1, 2, 3):
        again = sender.event(event, event_id="Ev0RETRY1", retry_num=retry)
        assert again.status == 200  # 2xx, or Slack keeps retrying
    slack_app.settle()
    time.sleep(0.3)
    assert len(fake.calls("views.publish")) == 1


def test_malformed_requests_are_answered_without_crashing(slack_app):
    sender = slack_app.sender
    statuses = [
        sender.post(b"{not json", "application/json").status,
        sender.post(b"payload=%7Bbroken", "application/x-www-form-urlencoded").status,
        sender.raw_event_callback({"type": "event_callback", "event_id": "Ev0X", "event": {}}).status,
        sender.interactive({"type": "block_actions", "user": {"id": "U1"}, "actions": []}).status,
        sender.block_action("feedback_helpful", user_id="U1", value="not-a-number").status,
        sender.block_action("feedback_helpful", user_id="U1", value="999999").status,
        sender.block_action("no_such_action", user_id="U1").status,
    ]
    assert all(s < 500 for s in statuses), statuses
    # The server is still healthy afterwards.
    with urllib.request.urlopen(slack_app.base_url + "/healthz", timeout=5) as resp:
        assert resp.status == 200


def test_unknown_paths_are_404(slack_app):
    req = urllib.request.Request(slack_app.base_url + "/admin", method="GET")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 404


def test_the_server_keeps_answering_when_the_process_holds_over_1024_files(slack_app):
    """A busy bot holds its database pool, index files and up to 1,000 connections: a connection whose
    descriptor is numbered above 1024 must be served (select() refuses those; the server polls)."""
    import os

    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(held) > 1024
        sender, fake = slack_app.sender, slack_app.fake
        fake.add_user("U1", locale="zh-CN")
        body = json.dumps(
            sender.event_body({"type": "app_home_opened", "user": "U1", "tab": "home"})
        ).encode()
        assert sender.post(body, "application/json").status == 200
        fake.wait_for("views.publish")
    finally:
        for fd in held:
            os.close(fd)
