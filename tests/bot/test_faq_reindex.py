"""FAQ entries support added in Slack (stored in the database) survive `ingest --reset` and a lost index."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from feedback.db import Database
from feedback.faq import add_entry
from feedback.tickets import create_ticket, resolve_ticket

runner = CliRunner()
QUESTION = "月底怎么导出供应商对账单？"
ANSWER = "在“采购”应用打开“供应商”，选中供应商后点击“对账单”，再点“导出 Excel”。"


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DATABASE_URL", "KNOWLEDGE_DIRS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    kb = tmp_path / "知识库"
    (kb / "财务").mkdir(parents=True)
    (kb / "财务" / "费用报销.md").write_text(
        "---\ntitle: 费用报销\nlang: zh\n---\n# 费用报销\n\n## 提交报销单\n\n"
        "打开“费用”应用，点击“新建报销单”，填写金额，上传发票照片，然后点击“提交审批”。\n",
        encoding="utf-8",
    )
    return kb


def _promote_faq(db_url: str) -> None:
    """What "Resolve and add to FAQ" stores (the Slack side is tested in tests/slack/test_faq_loop.py)."""
    db = Database(db_url)
    db.upgrade()
    with db.begin() as s:
        ticket = create_ticket(s, reporter="U1", description=QUESTION).ticket
        resolve_ticket(s, ticket.id, ANSWER, "U_SUP")
        add_entry(s, question=QUESTION, answer=ANSWER, lang="zh-CN", ticket_id=ticket.id, created_by="U_SUP")
    db.dispose()


def _best(question: str) -> dict:
    result = runner.invoke(app, ["ask", question, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    return payload["hits"][0] if payload["answered"] else {}


def test_ingest_reset_puts_the_database_faqs_back(env, tmp_path):
    result = runner.invoke(app, ["ingest", str(env)])
    assert result.exit_code == 0, result.output
    assert "re-indexed" not in result.output  # no database yet: nothing to restore, no file created
    assert not (tmp_path / "data" / "erp-coach.db").exists()
    assert _best(QUESTION) == {}  # the manuals do not cover it

    _promote_faq(f"sqlite:///{tmp_path / 'data' / 'erp-coach.db'}")
    for _ in range(2):  # every reset loses the index copy; every reset restores it
        result = runner.invoke(app, ["ingest", str(env), "--reset"])
        assert result.exit_code == 0, result.output
        assert "FAQ entries from the database re-indexed: 1" in result.output
        best = _best(QUESTION)
        assert best["kind"] == "faq" and "导出 Excel" in best["answer"]

    result = runner.invoke(app, ["ingest", str(env)])  # nothing lost: nothing to redo
    assert "re-indexed" not in result.output
    assert _best(QUESTION)["kind"] == "faq"


def test_run_restores_database_faqs_into_a_fresh_index(env, tmp_path, monkeypatch):
    db_file = tmp_path / "db" / "erp-coach.db"
    db_file.parent.mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_file}")
    _promote_faq(f"sqlite:///{db_file}")
    monkeypatch.setenv("KNOWLEDGE_DIRS", str(env))
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "new-data"))  # the index folder was lost
    monkeypatch.delenv("CLI_LANGUAGE")  # `make run` as shipped: zh-CN

    result = runner.invoke(app, ["run"], input=f"{QUESTION}\n")
    assert result.exit_code == 0, result.output
    assert "已重新索引 1 条" in result.output
    assert "导出 Excel" in result.output and "常见问题" in result.output  # the chat answered from the FAQ


def _faq_sources(kb, question: str) -> list[str]:
    return [h.source for h in kb.search(question).hits if h.kind == "faq"]


def test_reindex_leaves_withdrawn_entries_out_and_takes_indexed_ones_out(db, env, tmp_path, open_kb):
    from bot.faq_index import Reindexed, reindex_faqs
    from feedback.faq import withdraw_entry

    kb = open_kb(tmp_path / "kb-data")
    kb.ingest([env])
    with db.begin() as s:
        wrong = add_entry(s, question=QUESTION, answer=ANSWER, created_by="U_SUP").id
        kept = add_entry(s, question="报销款什么时候到账？", answer="财务审核通过后五个工作日内。").id
    assert reindex_faqs(db, kb) == Reindexed(indexed=2)
    assert _faq_sources(kb, QUESTION)[:1] == [f"faq:db-faq-{wrong}"]

    # Withdrawn where this index was out of reach (another machine's CLI): the next reindex takes it out.
    with db.begin() as s:
        withdraw_entry(s, wrong, "cli:admin", "流程已改")
    assert reindex_faqs(db, kb) == Reindexed(removed=1)
    assert f"faq:db-faq-{wrong}" not in _faq_sources(kb, QUESTION)
    assert reindex_faqs(db, kb) == Reindexed()  # nothing left to do

    # A rebuilt index gets the active entries back, never the withdrawn one.
    kb.ingest([env], reset=True)
    assert reindex_faqs(db, kb) == Reindexed(indexed=1)
    assert f"faq:db-faq-{kept}" in kb.sources and f"faq:db-faq-{wrong}" not in kb.sources
    assert reindex_faqs(db, kb, only_missing=False) == Reindexed(indexed=1)
    assert f"faq:db-faq-{wrong}" not in _faq_sources(kb, QUESTION)
