"""The harness itself: the fake records and validates, the sender signs as Slack does."""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_client import create_web_client
from tests.slack.fake_slack import FakeSlack, validate_blocks
from tests.slack.sender import sign


def test_sign_matches_slacks_documented_example():
    # The example from Slack's "Verifying requests from Slack" guide.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert sign(secret, "1531420618", body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_fake_records_calls_and_answers_like_slack(settings):
    with FakeSlack() as fake:
        fake.add_user("U1", locale="zh-CN", tz="Asia/Shanghai")
        client = create_web_client(
            settings.model_copy(update={"slack_api_url": fake.api_url}), token="xoxb-1"
        )
        posted = client.chat_postMessage(channel="D1", text="你好 <b>", blocks=[{"type": "divider"}])
        assert posted["channel"] == "D1" and posted["ts"]
        info = client.users_info(user="U1", include_locale=True)
        assert info["user"]["locale"] == "zh-CN" and info["user"]["tz"] == "Asia/Shanghai"
        with pytest.raises(SlackApiError):
            client.users_info(user="U404")
        call = fake.wait_for("chat.postMessage")
        assert call.token == "xoxb-1" and call.args["blocks"] == [{"type": "divider"}]
        assert call.text.startswith("你好")
        assert fake.methods() == ["chat.postMessage", "users.info", "users.info"]
        assert not fake.violations


def test_fake_rejects_blocks_beyond_slack_limits():
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert any("3000" in p for p in validate_blocks(too_long))
    assert any("blocks" in p for p in validate_blocks([{"type": "divider"}] * 51))
    dup = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "1"}},
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "2"}},
            ],
        }
    ]
    assert any("duplicate action_id" in p for p in validate_blocks(dup))
    ping = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi <!channel>"}}]
    assert any("ping" in p for p in validate_blocks(ping))
    typo = [{"type": "section", "txt": {"type": "mrkdwn", "text": "hi"}}]
    assert validate_blocks(typo)
    fine = [
        {"type": "header", "text": {"type": "plain_text", "text": "标题"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "&lt;!channel&gt; is harmless"}},
    ]
    assert validate_blocks(fine) == []


def test_fake_rate_limits_and_the_client_waits_it_out(settings):
    with FakeSlack() as fake:
        fake.rate_limit(per_second=2, methods=["chat.postMessage"], retry_after=1)
        client = create_web_client(
            settings.model_copy(update={"slack_api_url": fake.api_url}), token="xoxb-1"
        )
        start = time.monotonic()
        for i in range(4):
            client.chat_postMessage(channel="D1", text=f"m{i}")
        assert fake.rate_limited >= 1
        assert len(fake.calls("chat.postMessage")) == 4  # every message arrived despite the 429s
        assert time.monotonic() - start >= 1.0


def test_fake_file_upload_v2(settings):
    with FakeSlack() as fake:
        client = create_web_client(
            settings.model_copy(update={"slack_api_url": fake.api_url}), token="xoxb-1"
        )
        client.files_upload_v2(channel="C1", content="a,b\n1,2\n", filename="report.csv", title="报表")
        assert list(fake.uploads.values()) == [b"a,b\n1,2\n"]
        done = fake.wait_for("files.completeUploadExternal")
        assert done.response["ok"], done.response


def test_app_answers_url_verification_and_health(slack_app):
    r = slack_app.sender.raw_event_callback({"type": "url_verification", "challenge": "c-123", "token": "x"})
    assert r.status == 200 and "c-123" in r.text
    import urllib.request

    with urllib.request.urlopen(slack_app.base_url + "/healthz", timeout=5) as resp:
        assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"


def test_unsigned_request_is_rejected_without_side_effects(slack_app):
    mark = slack_app.fake.mark()
    r = slack_app.sender.dm("U1", "如何报销", sign_request=False)
    assert r.status == 401
    slack_app.fake.assert_quiet(mark, wait=0.3)


def test_web_client_is_pointed_at_the_fake(slack_services, fake_slack):
    client: WebClient = slack_services.slack_client
    assert client.base_url == fake_slack.api_url
    assert client.auth_test()["user_id"] == "UBOT"
