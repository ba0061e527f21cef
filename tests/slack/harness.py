"""Run the real app in HTTP mode against the fake Slack, and talk to it as Slack does.

Fixtures (import them into your conftest: `from tests.slack.harness import *  # noqa: F403`):

- `fake_slack`: a started `FakeSlack`; at teardown it fails the test if any Block Kit payload broke
  Slack's limits or the app called a Web API method the fake does not implement.
- `slack_overrides`: extra Settings values (by env name) for the app; override this fixture in a module.
- `slack_settings`, `slack_services`: the app's Settings/Services on the `db_url` database (SQLite and
  PostgreSQL), SLACK_API_URL pointing at the fake, a test signing secret.
- `slack_app`: a `RunningApp` (the same WSGI app and waitress server `erp-coach serve --http` runs) on a
  random loopback port; `slack_app.sender` sends signed requests, `slack_app.fake` is the fake Slack.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import App

from bot.app import create_app
from bot.config import Settings
from bot.server import create_http_server
from bot.services import Services
from tests.slack.fake_slack import FakeSlack
from tests.slack.sender import SlackSender

SIGNING_SECRET = "test-signing-secret-8f14e45fceea167a"
BOT_TOKEN = "xoxb-test-token"

__all__ = [
    "BOT_TOKEN",
    "SIGNING_SECRET",
    "RunningApp",
    "fake_slack",
    "slack_app",
    "slack_overrides",
    "slack_services",
    "slack_settings",
    "start_app",
]


@dataclass
class RunningApp:
    services: Services
    app: App
    fake: FakeSlack
    url: str  # http://127.0.0.1:PORT/slack/events
    sender: SlackSender
    _server: Any
    _thread: threading.Thread
    _stopping: threading.Event

    @property
    def base_url(self) -> str:
        return self.url.rsplit("/slack/events", 1)[0]

    @property
    def db(self):
        return self.services.db

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the app's answer workers are idle (all lazy listeners finished)."""
        executor = self.app.listener_runner.listener_executor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if executor._work_queue.empty() and not _busy(executor):
                return
            time.sleep(0.02)
        raise AssertionError(f"the app's workers were still busy after {timeout:.1f}s")

    def stop(self) -> None:
        self._stopping.set()
        self._server.close()
        self._thread.join(timeout=5)
        self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.services.db.dispose()


def _busy(executor) -> bool:
    # A ThreadPoolExecutor keeps an idle semaphore counting idle threads; busy = threads - idle.
    idle = executor._idle_semaphore._value
    return idle < len(executor._threads)


def start_app(services: Services, fake: FakeSlack) -> RunningApp:
    """Build the app from `services` and serve it on 127.0.0.1:<random> in a background thread."""
    app = create_app(services)
    server = create_http_server(app, services, host="127.0.0.1", port=0)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            # close() from another thread pulls the socket out from under select(); expected at stop.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, name="erp-coach-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    sender = SlackSender(url, services.settings.slack_signing_secret, response_url_base=fake.base_url)
    return RunningApp(services, app, fake, url, sender, server, thread, stopping)


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()
    assert not fake.violations, "Slack would reject what the app sent:\n" + "\n".join(fake.violations)


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings, e.g. {"DOCS_BASE_URL": "https://docs"}."""
    return {}


@pytest.fixture
def slack_settings(tmp_path, db_url, fake_slack, slack_overrides) -> Settings:
    values = {
        "ERP_COACH_DATA_DIR": tmp_path / "data",
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "ERP_COACH_HTTP_THREADS": 8,
        "ERP_COACH_ANSWER_WORKERS": 4,
    }
    values.update(slack_overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def slack_services(slack_settings) -> Services:
    return Services(slack_settings)


@pytest.fixture
def slack_app(slack_services, fake_slack):
    running = start_app(slack_services, fake_slack)
    yield running
    running.stop()
