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
    "answering_app",
    "fake_slack",
    "index_knowledge",
    "slack_knowledge",
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
        self.services.close()  # the knowledge base it opened (its Chroma store), the database pool


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
def slack_services(slack_settings, embedder) -> Services:
    services = Services(slack_settings)
    # The session's model (what the cached property would load again, for seconds, in every test).
    services.__dict__["embedder"] = embedder
    return services


@pytest.fixture
def slack_app(slack_services, fake_slack):
    running = start_app(slack_services, fake_slack)
    yield running
    running.stop()


# A small company knowledge base: Chinese and English manuals (one under a Chinese folder/file name, one
# GBK-encoded) and a FAQ, enough to answer, cite, relate and abstain.
SAMPLE_KB = {
    "财务/费用报销.md": (
        "---\ntitle: 费用报销\nroles: [finance]\nlang: zh\n---\n"
        "# 费用报销\n\n## 提交报销单\n\n员工出差或采购办公用品后，在 ERP 中提交报销单：\n\n"
        "1. 打开“费用”应用，点击“新建报销单”。\n2. 填写费用类别、金额和日期，上传发票照片。\n"
        "3. 选择审批人（通常是直属经理），点击“提交审批”。\n4. 财务审核通过后，报销款会在五个工作日内打入工资卡。\n\n"
        "## 报销单被退回怎么办\n\n如果报销单被退回，请查看审批意见，修改后重新提交。发票抬头必须是公司全称。\n"
    ),
    "inventory/receipts.md": (
        "---\ntitle: Receiving goods\nroles: [warehouse]\nlang: en\n---\n"
        "# Receiving goods\n\n## Validate a receipt\n\nWhen a purchase order is confirmed, the ERP creates a receipt.\n\n"
        "1. Open Inventory and click Receipts.\n2. Open the receipt for the purchase order.\n"
        "3. Enter the received quantities, and scan the lot numbers if any.\n4. Click Validate to put the goods in stock.\n\n"
        "## Return goods to a vendor\n\nOpen the validated receipt, click Return, choose the quantities and validate the return.\n"
    ),
    "sales/quotations.md": (
        "---\ntitle: Sales quotations\nroles: [sales]\nlang: en\n---\n"
        "# Sales quotations\n\n## Create a quotation\n\nOpen Sales, click New, choose the customer and add product lines. "
        "Send it by email with Send by Email; the customer can sign online.\n\n"
        "## Discounts on quotations\n\nEnter a discount percentage on a line; discounts above 15% need a manager's approval.\n"
    ),
    "仓库/盘点.md": (
        "---\ntitle: 库存盘点\nroles: [warehouse]\nlang: zh\n---\n"
        "# 库存盘点\n\n## 月末盘点\n\n每月最后一个工作日进行盘点：在“库存”应用中打开“实际库存”，"
        "录入清点数量，然后点击“应用”更新库存。差异超过 5% 需要仓库主管确认。\n"
    ),
    "faq.yaml": (
        "- id: pw\n  question: How do I reset my ERP password?\n"
        "  answer: Click **Forgot password** on the login page; a reset link is sent to your company email.\n"
        "  lang: en\n"
        "- id: pw-zh\n  question: 忘记 ERP 密码怎么办？\n"
        "  answer: 在登录页点击“忘记密码”，重置链接会发送到你的公司邮箱。\n  lang: zh\n"
        "- id: recall\n  question: 报销单提交以后还能撤回吗？\n"
        "  answer: 审批前可以：打开报销单，点击“撤回”，修改后再提交。\n  lang: zh\n  source: 财务/费用报销.md\n"
    ),
}


def write_sample_kb(root) -> None:
    from pathlib import Path

    root = Path(root)
    for rel, text in SAMPLE_KB.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        encoding = "gbk" if rel.startswith("仓库/") else "utf-8"
        path.write_bytes(text.encode(encoding))


def index_knowledge(root, embedder):
    """A KnowledgeBase in `root`/data over the manuals written to `root`/kb, every file indexed."""
    from knowledge.base import KnowledgeBase, KnowledgeConfig

    kb = KnowledgeBase(KnowledgeConfig(data_dir=root / "data"), embedder)
    report = kb.ingest([root / "kb"])
    assert not report.skipped, report.skipped
    return kb


@pytest.fixture(scope="session")
def slack_knowledge(tmp_path_factory, embedder):
    """A KnowledgeBase over SAMPLE_KB, built once per session and shared read-only by the Slack tests."""
    root = tmp_path_factory.mktemp("slack_kb")
    write_sample_kb(root / "kb")
    return index_knowledge(root, embedder)


@pytest.fixture
def answering_app(slack_services, fake_slack, slack_knowledge):
    """`slack_app` with the sample knowledge base behind it, so questions get real answers."""
    slack_services.__dict__["knowledge"] = slack_knowledge  # what the cached property would hold
    running = start_app(slack_services, fake_slack)
    yield running
    slack_services.__dict__.pop("knowledge", None)  # the session's, for the next test: not closed
    running.stop()
