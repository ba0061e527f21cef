"""`erp-coach faq list|withdraw` on both backends, as a knowledge admin runs them while the bot runs."""

from __future__ import annotations

import socket

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from bot.cli import app
from feedback.db import Database
from feedback.faq import add_entry, all_entries
from feedback.tickets import create_ticket, resolve_ticket, set_triage_message
from knowledge.base import KnowledgeBase
from tests.slack.fake_slack import FakeSlack

runner = CliRunner()
QUESTION = "月底怎么导出供应商对账单？"
ANSWER = "在“采购”应用打开“供应商”，选中供应商后点击“对账单”，再点“导出 Excel”。"


@pytest.fixture
def env(monkeypatch, tmp_path, db_url):
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "KNOWLEDGE_DIRS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("CLI_LANGUAGE")  # the default, zh-CN; --lang en is tested where it matters
    kb = tmp_path / "知识库"
    (kb / "财务").mkdir(parents=True)
    (kb / "财务" / "费用报销.md").write_text(
        "---\ntitle: 费用报销\nlang: zh\n---\n# 费用报销\n\n## 提交报销单\n\n"
        "打开“费用”应用，点击“新建报销单”，填写金额，上传发票照片，然后点击“提交审批”。\n",
        encoding="utf-8",
    )
    return kb


def _faq_from_ticket(db_url: str) -> int:
    db = Database(db_url)
    with db.begin() as s:
        ticket = create_ticket(s, reporter="U1", description=QUESTION).ticket
        resolve_ticket(s, ticket.id, ANSWER, "U_SUP")
        faq_id = add_entry(s, question=QUESTION, answer=ANSWER, ticket_id=ticket.id, created_by="U_SUP").id
        add_entry(s, question="How do I print a delivery slip?", answer="Open the delivery and click Print.")
    db.dispose()
    return faq_id


def _faq_sources(kb: KnowledgeBase) -> list[str]:
    return [h.source for h in kb.search(QUESTION).hits if h.kind == "faq"]


def _table_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line[:1] in "┏┃┡│└"]


def test_list_and_withdraw_while_the_bot_runs(env, db_url, tmp_path, open_kb):
    result = runner.invoke(app, ["faq", "list"])
    assert result.exit_code == 0, result.output
    assert "没有有效的常见问题" in result.output

    assert runner.invoke(app, ["ingest", str(env)]).exit_code == 0
    faq_id = _faq_from_ticket(db_url)
    assert runner.invoke(app, ["ingest", str(env)]).exit_code == 0  # indexes the database's entries
    bot = open_kb(tmp_path / "data")  # the running bot's copy
    assert _faq_sources(bot)[:1] == [f"faq:db-faq-{faq_id}"]

    result = runner.invoke(app, ["faq", "list"])
    assert result.exit_code == 0, result.output
    assert QUESTION in result.output and "ERP-1" in result.output and "有效" in result.output
    assert "How do I print a delivery slip?" in result.output
    lines = _table_lines(result.output)
    assert len(lines) >= 5 and len({cell_len(line) for line in lines}) == 1  # Chinese text keeps the columns

    result = runner.invoke(app, ["faq", "withdraw", "999", "--reason", "写错了"])
    assert result.exit_code == 1
    assert "没有编号为 #999 的常见问题" in result.output

    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", "  　"])  # ideographic space
    assert result.exit_code == 2
    assert "请用 --reason 说明原因" in result.output
    assert f"faq:db-faq-{faq_id}" in _faq_sources(bot)  # still quoted

    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", "对账单已改到“会计”应用"])
    assert result.exit_code == 0, result.output
    assert f"已撤回常见问题 #{faq_id}：{QUESTION}" in result.output
    assert "来源工单：ERP-1" in result.output and "对账单已改到“会计”应用" in result.output
    assert "已从知识库索引中移除" in result.output
    # The running bot's next search reads the index the command changed: the entry is no longer quoted.
    assert f"faq:db-faq-{faq_id}" not in _faq_sources(bot)

    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", "again", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert (
        f"FAQ entry #{faq_id} was already withdrawn" in result.output and "nothing changed" in result.output
    )
    db = Database(db_url)
    with db.begin() as s:
        entry = next(e for e in all_entries(s) if e.id == faq_id)
        assert entry.withdrawn_reason == "对账单已改到“会计”应用"  # the first record stands
        assert entry.withdrawn_by.startswith("cli:")
    db.dispose()

    result = runner.invoke(app, ["faq", "list"])
    assert QUESTION not in result.output and "--all" in result.output
    result = runner.invoke(app, ["faq", "list", "--all"])
    assert result.exit_code == 0, result.output
    assert QUESTION in result.output and "已撤回" in result.output and "cli:" in result.output
    lines = _table_lines(result.output)
    assert len({cell_len(line) for line in lines}) == 1

    result = runner.invoke(app, ["ingest", str(env), "--reset"])  # a rebuilt index leaves it out
    assert result.exit_code == 0, result.output
    assert "已重新索引数据库中的常见问题：1 条" in result.output
    bot.refresh()  # the running bot, after the rebuild
    assert f"faq:db-faq-{faq_id}" not in bot.sources and f"faq:db-faq-{faq_id + 1}" in bot.sources
    assert f"faq:db-faq-{faq_id}" not in _faq_sources(bot)


# --------------------------------------------------------------- the ticket's triage card in Slack

TRIAGE, CARD_TS = "C0TRIAGE", "1700000000.000100"
REASON = "对账单已改到“会计”应用"


@pytest.fixture
def fake_slack():
    with FakeSlack() as fake:
        yield fake
    assert not fake.violations, fake.violations


def _faq_on_a_triage_card(db_url: str) -> int:
    """A FAQ entry made from a ticket whose card the bot posted in the triage channel."""
    db = Database(db_url)
    with db.begin() as s:
        ticket = create_ticket(s, reporter="U1", description=QUESTION).ticket
        set_triage_message(s, ticket.id, TRIAGE, CARD_TS)
        resolve_ticket(s, ticket.id, ANSWER, "U_SUP")
        faq_id = add_entry(s, question=QUESTION, answer=ANSWER, ticket_id=ticket.id, created_by="U_SUP").id
    db.dispose()
    return faq_id


def _withdrawal(db_url: str, faq_id: int) -> tuple[bool, str | None]:
    db = Database(db_url)
    with db.begin() as s:
        entry = next(e for e in all_entries(s) if e.id == faq_id)
        outcome = (entry.withdrawn, entry.withdrawn_reason)
    db.dispose()
    return outcome


def test_withdrawing_updates_the_tickets_triage_card_in_slack(env, db_url, fake_slack, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    faq_id = _faq_on_a_triage_card(db_url)

    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", REASON])
    assert result.exit_code == 0, result.output
    assert "已更新 Slack 中 ERP-1 的分诊卡片" in result.output
    [update] = fake_slack.calls("chat.update")
    assert (update.args["channel"], update.args["ts"], update.token) == (TRIAGE, CARD_TS, "xoxb-test-token")
    assert f"原因：{REASON}" in update.text and "已由 cli:" in update.text
    assert not [a for a in update.action_ids() if a.startswith("faq_withdraw_")]  # no button left
    thread = [c.text for c in fake_slack.calls("chat.postMessage") if c.args.get("thread_ts") == CARD_TS]
    assert len(thread) == 1 and thread[0].endswith(f"撤回了常见问题 #{faq_id}：{REASON}")

    # Again (say the first run could not reach Slack): nothing changes, the card is updated again.
    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", "again", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Updated the triage card of ERP-1 in Slack" in result.output
    assert REASON in fake_slack.calls("chat.update")[-1].text
    assert len([c for c in fake_slack.calls("chat.postMessage") if c.args.get("thread_ts")]) == 1
    assert _withdrawal(db_url, faq_id) == (True, REASON)


def test_without_slack_the_withdrawal_stands_and_the_card_shows_it_when_next_updated(
    env, db_url, monkeypatch
):
    faq_id = _faq_on_a_triage_card(db_url)
    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", REASON])
    assert result.exit_code == 0, result.output
    assert "没有 SLACK_BOT_TOKEN" in result.output and "下次更新时显示此次撤回" in result.output
    assert _withdrawal(db_url, faq_id) == (True, REASON)

    # Slack configured but unreachable: said so, exit 0, the withdrawal kept.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{closed}/api/")
    result = runner.invoke(app, ["faq", "withdraw", str(faq_id), "--reason", "again", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Could not update the triage card of ERP-1 in Slack" in result.output
    assert "the next time the card is updated" in result.output
    assert _withdrawal(db_url, faq_id) == (True, REASON)
