"""The feedback loop end to end, through signed Slack requests only:

ask in a DM → abstain → "Open a ticket" → modal → ticket → support resolves with "Add to FAQ" → the
reporter's closure notice → the same question asked again is answered from the new FAQ.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from bot import ids
from feedback.faq import all_entries
from feedback.people import set_role
from feedback.questions import QuestionLog
from feedback.tickets import list_tickets
from knowledge.base import KnowledgeBase, KnowledgeConfig
from tests.slack.harness import start_app

TRIAGE = "C0TRIAGE"
QUESTION = "月底怎么导出供应商对账单？"
FAQ_ANSWER = "在“采购”应用打开“供应商”，选中供应商后点击“对账单”，再点“导出 Excel”即可。"

# A small Chinese knowledge base that does not cover supplier statements.
KB = {
    "财务/费用报销.md": (
        "---\ntitle: 费用报销\nlang: zh\n---\n# 费用报销\n\n## 提交报销单\n\n"
        "打开“费用”应用，点击“新建报销单”，填写金额和日期，上传发票照片，然后点击“提交审批”。\n"
    ),
    "仓库/盘点.md": (
        "---\ntitle: 库存盘点\nlang: zh\n---\n# 库存盘点\n\n## 月末盘点\n\n"
        "在“库存”应用中打开“实际库存”，录入清点数量，然后点击“应用”更新库存。\n"
    ),
}


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": TRIAGE}


@pytest.fixture
def app(slack_services, fake_slack, embedder, tmp_path):
    root = tmp_path / "知识库"
    for rel, text in KB.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "kb-data"), embedder)
    assert kb.ingest([root]).files_indexed == 2
    # This test's own index (it gains a FAQ), and the session's model instead of loading another.
    slack_services.__dict__["knowledge"] = kb
    slack_services.__dict__["embedder"] = embedder
    running = start_app(slack_services, fake_slack)
    fake_slack.add_user("U_REP", locale="zh-CN")
    fake_slack.add_user("U_SUP", locale="zh-CN")
    with running.db.begin() as s:
        set_role(s, "U_SUP", "support", slack_services.settings.roles)
    yield running
    running.stop()


def _answer_to(app, mark: int):
    return app.fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == "DU_REP" and c.blocks, after=mark
    )


def _logged(app, n: int, timeout: float = 10) -> list[QuestionLog]:
    deadline = time.monotonic() + timeout
    while True:
        with app.db.begin() as s:
            rows = list(s.scalars(select(QuestionLog).order_by(QuestionLog.id)))
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_unanswered_question_becomes_a_ticket_then_a_faq_that_answers_it_next_time(app):
    fake = app.fake

    # 1. Ask in a DM: the manuals do not cover it, so the bot says so and offers a ticket.
    mark = fake.mark()
    assert app.sender.dm("U_REP", QUESTION, channel="DU_REP").status == 200
    abstain = _answer_to(app, mark)
    assert "手册里没有找到" in abstain.text
    assert ids.FEEDBACK_HELPFUL not in abstain.action_ids()
    button = abstain.element(ids.OPEN_TICKET)
    shown = json.loads(button["value"])["sources"]
    assert shown, "the abstain view lists the nearest sections"
    [first] = _logged(app, 1)
    assert first.answered is False

    # 2. "Open a ticket": the modal comes prefilled with the question and the sources that were shown.
    r = app.sender.block_action(ids.OPEN_TICKET, user_id="U_REP", value=button["value"], channel_id="DU_REP")
    assert r.status == 200
    view = fake.wait_for("views.open").args["view"]
    assert view["callback_id"] == ids.TICKET_MODAL
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    assert by_block[ids.TICKET_DESCRIPTION_BLOCK]["element"]["initial_value"] == QUESTION
    assert by_block[ids.TICKET_TITLE_BLOCK]["element"]["initial_value"] == QUESTION
    context = " ".join(el["text"] for b in view["blocks"] if b["type"] == "context" for el in b["elements"])
    assert shown[0] in context

    # 3. Submit the modal (as Slack echoes it back, the user keeping the prefilled text): one ticket.
    category = by_block[ids.TICKET_CATEGORY_BLOCK]["element"]["initial_option"]  # "how-to gap"
    values = {
        ids.TICKET_TITLE_BLOCK: {ids.TICKET_TITLE_INPUT: {"type": "plain_text_input", "value": QUESTION}},
        ids.TICKET_DESCRIPTION_BLOCK: {
            ids.TICKET_DESCRIPTION_INPUT: {"type": "plain_text_input", "value": QUESTION}
        },
        ids.TICKET_CATEGORY_BLOCK: {
            ids.TICKET_CATEGORY_INPUT: {"type": "static_select", "selected_option": category}
        },
        ids.TICKET_PRIORITY_BLOCK: {
            ids.TICKET_PRIORITY_INPUT: {"type": "static_select", "selected_option": {"value": "normal"}}
        },
        ids.TICKET_MODULE_BLOCK: {ids.TICKET_MODULE_INPUT: {"type": "plain_text_input", "value": "采购"}},
    }
    r = app.sender.view_submission(
        ids.TICKET_MODAL, values, user_id="U_REP", private_metadata=view["private_metadata"]
    )
    assert (r.status, r.body) == (200, b"")
    app.settle()
    with app.db.begin() as s:
        [ticket] = list_tickets(s)
        assert (ticket.source, ticket.question_id, ticket.category) == ("answer", first.id, category["value"])
        assert [src["title"] for src in ticket.shown_sources] == shown
        ticket_id, key = ticket.id, ticket.key
    confirmation = [
        c for c in fake.calls("chat.postMessage") if c.args["channel"] == "DU_REP" and key in c.text
    ]
    assert confirmation, "the reporter is told the ticket number"
    assert any(c.args["channel"] == TRIAGE and key in c.text for c in fake.calls("chat.postMessage"))

    # 4. Support resolves it from the triage card and adds the answer to the FAQ.
    app.sender.block_action(ids.TICKET_RESOLVE, user_id="U_SUP", value=str(ticket_id), channel_id=TRIAGE)
    resolve_view = fake.wait_for(
        "views.open", lambda c: c.args["view"]["callback_id"] == ids.TICKET_RESOLVE_MODAL
    )
    resolve_blocks = {b.get("block_id") for b in resolve_view.args["view"]["blocks"]}
    assert {ids.RESOLVE_FAQ_BLOCK, ids.RESOLVE_FAQ_QUESTION_BLOCK} <= resolve_blocks
    mark = fake.mark()
    r = app.sender.view_submission(
        ids.TICKET_RESOLVE_MODAL,
        {
            ids.RESOLVE_TEXT_BLOCK: {
                ids.RESOLVE_TEXT_INPUT: {"type": "plain_text_input", "value": FAQ_ANSWER}
            },
            ids.RESOLVE_FAQ_BLOCK: {
                ids.RESOLVE_FAQ_INPUT: {"type": "checkboxes", "selected_options": [{"value": "faq"}]}
            },
            ids.RESOLVE_FAQ_QUESTION_BLOCK: {
                ids.RESOLVE_FAQ_QUESTION_INPUT: {"type": "plain_text_input", "value": QUESTION}
            },
            ids.RESOLVE_FAQ_LANG_BLOCK: {
                ids.RESOLVE_FAQ_LANG_INPUT: {"type": "static_select", "selected_option": {"value": "zh-CN"}}
            },
        },
        user_id="U_SUP",
        private_metadata=resolve_view.args["view"]["private_metadata"],
    )
    assert (r.status, r.body) == (200, b"")
    app.settle()

    # 5. The reporter gets the closure notice: the resolution, who resolved it, and the buttons.
    notice = fake.wait_for("chat.postMessage", lambda c: ids.TICKET_FIXED in c.action_ids(), after=mark)
    assert notice.args["channel"] == "DU_REP"
    assert key in notice.text and "<@U_SUP>" in notice.text and "导出 Excel" in notice.text
    assert ids.TICKET_STILL_PROBLEM in notice.action_ids()
    with app.db.begin() as s:
        [entry] = all_entries(s)
        assert (entry.question, entry.answer, entry.ticket_id) == (QUESTION, FAQ_ANSWER, ticket_id)

    # 6. The same question again: answered at once, from the new FAQ, with the FAQ cited.
    mark = fake.mark()
    app.sender.dm("U_REP", QUESTION, channel="DU_REP")
    answer = _answer_to(app, mark)
    assert "手册里没有找到" not in answer.text
    assert "导出 Excel" in answer.text and "常见问题" in answer.text
    assert {ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL} <= set(answer.action_ids())
    second = _logged(app, 2)[-1]
    assert second.answered is True
    assert second.top_sources[0]["kind"] == "faq"
