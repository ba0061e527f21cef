"""`erp-coach serve` that cannot start says what to fix, not a traceback."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.slack.fake_slack import FakeSlack

runner = CliRunner()


@pytest.fixture
def env(monkeypatch, tmp_path, db_url):
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("KNOWLEDGE_DIRS", "")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    with FakeSlack() as fake:
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        yield fake


def test_a_token_slack_refuses_is_named(env):
    env.respond_with("auth.test", {"ok": False, "error": "invalid_auth"})
    result = runner.invoke(app, ["serve", "--http", "--no-scheduler", "--port", "0"])
    assert result.exit_code == 1, result.output
    assert "Slack refused to start the bot" in result.output and "invalid_auth" in result.output
    assert "SLACK_BOT_TOKEN" in result.output and "Traceback" not in result.output


def test_a_port_in_use_says_to_pick_another(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["serve", "--http", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)]
        )
    assert result.exit_code == 1, result.output
    assert "already in use" in result.output and "--port" in result.output
