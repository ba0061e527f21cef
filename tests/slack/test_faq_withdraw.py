"""Withdrawing a FAQ entry from its ticket's triage card, through signed Slack requests only:
support resolves a ticket with "Add to FAQ" → the card shows the entry with *Withdraw FAQ* → a
non-support user is refused → support's click opens a dialog asking why, in their language → a blank
reason is refused in the dialog → a reason withdraws it (a double submit withdraws once) → the card says
who withdrew it, when and why → the same question is no longer answered from it."""

from __future__ import annotations

import json

import pytest

from bot import ids
from feedback.faq import all_entries, withdraw_entry
from feedback.people import set_role
from feedback.tickets import events_of, list_tickets
from knowledge.base import KnowledgeBase, KnowledgeConfig
from tests.knowledge.pages import write_pages
from tests.slack.harness import start_app

TRIAGE = "C0TRIAGE"
QUESTION = "月底怎么导出供应商对账单？"
FAQ_ANSWER = "在“采购”应用打开“供应商”，选中供应商后点击“对账单”，再点“导出 Excel”即可。"
KB = {
    "财务/费用报销.md": (
        "---\ntitle: 费用报销\nlang: zh\n---\n# 费用报销\n\n## 提交报销单\n\n"
        "打开“费用”应用，点击“新建报销单”，填写金额和日期，上传发票照片，然后点击“提交审批”。\n"
    ),
}


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": TRIAGE}


@pytest.fixture
def app(slack_services, fake_slack, embedder, tmp_path):
    root = write_pages(tmp_path / "知识库", KB)
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "kb-data"), embedder)
    assert kb.ingest([root]).files_indexed == 1
    slack_services.__dict__["knowledge"] = kb  # this test's own index: it gains and loses a FAQ entry
    running = start_app(slack_services, fake_slack)
    for user in ("U_REP", "U_SUP", "U_FIN"):
        fake_slack.add_user(user, locale="zh-CN")
    with running.db.begin() as s:
        set_role(s, "U_SUP", "support", slack_services.settings.roles)
        set_role(s, "U_FIN", "finance", slack_services.settings.roles)
    yield running
    running.stop()


def _ticket_resolved_into_a_faq(app) -> tuple[int, str, int]:
    """Report by the message shortcut, then support resolves it with "Add to FAQ"."""
    r = app.sender.message_shortcut(ids.TICKET_SHORTCUT, user_id="U_REP", text=QUESTION, message_user="U_REP")
    assert r.status == 200
    view = app.fake.wait_for("views.open").args["view"]
    values = {
        ids.TICKET_DESCRIPTION_BLOCK: {
            ids.TICKET_DESCRIPTION_INPUT: {"type": "plain_text_input", "value": QUESTION}
        },
        ids.TICKET_CATEGORY_BLOCK: {
            ids.TICKET_CATEGORY_INPUT: {"type": "static_select", "selected_option": {"value": "how_to_gap"}}
        },
        ids.TICKET_PRIORITY_BLOCK: {
            ids.TICKET_PRIORITY_INPUT: {"type": "static_select", "selected_option": {"value": "normal"}}
        },
    }
    r = app.sender.view_submission(
        ids.TICKET_MODAL, values, user_id="U_REP", private_metadata=view["private_metadata"]
    )
    assert r.status == 200
    app.settle()
    with app.db.begin() as s:
        [ticket] = list_tickets(s)
        ticket_id, triage_ts = ticket.id, ticket.triage_ts
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
        },
        user_id="U_SUP",
        private_metadata=json.dumps({"t": ticket_id}),
    )
    assert (r.status, r.body) == (200, b"")
    app.settle()
    with app.db.begin() as s:
        [entry] = all_entries(s)
    return ticket_id, triage_ts, entry.id


def _card(app, triage_ts: str, after: int = 0):
    updates = [
        c for c in app.fake.calls()[after:] if c.method == "chat.update" and c.args.get("ts") == triage_ts
    ]
    assert updates, "the triage card was not updated"
    return updates[-1]


def _press(app, faq_id: int, user: str, triage_ts: str):
    return app.sender.block_action(
        f"{ids.FAQ_WITHDRAW_PREFIX}{faq_id}",
        user_id=user,
        value=str(faq_id),
        block_id=f"faq_{faq_id}",
        channel_id=TRIAGE,
        message_ts=triage_ts,
    )


def _submit(app, user: str, reason: str, metadata: str):
    values = {
        ids.FAQ_WITHDRAW_REASON_BLOCK: {
            ids.FAQ_WITHDRAW_REASON_INPUT: {"type": "plain_text_input", "value": reason}
        }
    }
    return app.sender.view_submission(
        ids.FAQ_WITHDRAW_MODAL, values, user_id=user, private_metadata=metadata, view_id="V0WITHDRAW"
    )


def _errors(response) -> dict:
    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    return body["errors"]


def _faq_sources(app) -> list[str]:
    return [h.source for h in app.services.knowledge.search(QUESTION).hits if h.kind == "faq"]


REASON = "对账单已改到“会计”应用，旧步骤不再适用"


def test_support_withdraws_a_faq_with_a_reason_once_and_the_card_shows_who_when_why(app):
    fake = app.fake
    ticket_id, triage_ts, faq_id = _ticket_resolved_into_a_faq(app)

    # The card shows the entry made from the resolution, with the button (the dialog is the confirmation).
    card = _card(app, triage_ts)
    action = f"{ids.FAQ_WITHDRAW_PREFIX}{faq_id}"
    assert action in card.action_ids() and QUESTION in card.text
    button = card.element(action)
    assert button["text"]["text"] == "撤回常见问题" and button["style"] == "danger"
    assert _faq_sources(app)[:1] == [f"faq:db-faq-{faq_id}"]

    # Someone without a support role is refused; no dialog, nothing changes, the card stays as it was.
    mark = fake.mark()
    assert _press(app, faq_id, "U_FIN", triage_ts).status == 200
    app.settle()
    [refusal] = [c for c in fake.calls()[mark:] if c.method == "chat.postEphemeral"]
    assert refusal.args["user"] == "U_FIN" and "support" in refusal.text
    assert not [c for c in fake.calls()[mark:] if c.method in ("views.open", "chat.update")]

    # Support's click opens the dialog asking why, in Chinese (their Slack language).
    mark = fake.mark()
    assert _press(app, faq_id, "U_SUP", triage_ts).status == 200
    opened = fake.wait_for("views.open", after=mark)
    dialog = opened.args["view"]
    assert opened.args["trigger_id"] and dialog["callback_id"] == ids.FAQ_WITHDRAW_MODAL
    assert (dialog["title"]["text"], dialog["submit"]["text"], dialog["close"]["text"]) == (
        "撤回这条常见问题？", "撤回", "取消",
    )  # fmt: skip
    [box] = [b for b in dialog["blocks"] if b.get("block_id") == ids.FAQ_WITHDRAW_REASON_BLOCK]
    assert box["label"]["text"] == "撤回原因" and not box.get("optional")
    assert box["element"]["multiline"] is True and box["element"]["max_length"] == 1000  # as the CLI allows
    assert f"常见问题 #{faq_id}" in opened.text and QUESTION in opened.text
    app.settle()
    assert not [c for c in fake.calls()[mark:] if c.method == "chat.update"]  # nothing withdrawn yet
    metadata = dialog["private_metadata"]

    # A blank reason (spaces, a full-width space, new lines) is refused in the dialog, in Chinese.
    assert _errors(_submit(app, "U_SUP", " \u3000\n ", metadata)) == {
        ids.FAQ_WITHDRAW_REASON_BLOCK: "请填写撤回这条常见问题的原因。"
    }
    # Whoever submits is checked again: a finance user's submission is refused the same way.
    [refused] = _errors(_submit(app, "U_FIN", "不对", metadata)).values()
    assert "只有支持人员" in refused and "support" in refused
    app.settle()
    with app.db.begin() as s:
        assert not all_entries(s)[0].withdrawn
    assert _faq_sources(app)[:1] == [f"faq:db-faq-{faq_id}"]

    # A reason withdraws it. Submitted twice (a double click): the dialog closes, the second sees the
    # withdrawal that stands instead of an error, and one withdrawal with the first reason is recorded.
    mark = fake.mark()
    first, second = _submit(app, "U_SUP", REASON, metadata), _submit(app, "U_SUP", "第二次", metadata)
    assert (first.status, first.body) == (200, b"")
    assert second.status == 200 and second.json()["response_action"] == "update"
    already = second.json()["view"]
    assert already["callback_id"] == ids.FAQ_WITHDRAWN_MODAL and "submit" not in already
    shown = json.dumps(already, ensure_ascii=False)
    assert f"常见问题 #{faq_id} 之前已经撤回" in shown and REASON in shown and "<@U_SUP>" in shown
    app.settle()
    with app.db.begin() as s:
        [entry] = all_entries(s)
        assert (entry.withdrawn, entry.withdrawn_by, entry.withdrawn_reason) == (True, "U_SUP", REASON)
        assert [e.kind for e in events_of(s, ticket_id)].count("faq_withdrawn") == 1
    assert not [c for c in fake.calls()[mark:] if c.method == "chat.postEphemeral"]  # no error shown
    thread = [
        c.text
        for c in fake.calls()[mark:]
        if c.method == "chat.postMessage" and c.args.get("thread_ts") == triage_ts
    ]
    assert thread == [f":wastebasket: <@U_SUP> 撤回了常见问题 #{faq_id}：{REASON}"]
    card = _card(app, triage_ts, after=mark)
    assert action not in card.action_ids()  # redrawn in place: who withdrew it, when and why; no button
    assert "已由 <@U_SUP>" in card.text and "<!date^" in card.text and f"原因：{REASON}" in card.text

    # The bot no longer quotes it: the index lost it, and a DM asking again is not answered by it.
    assert f"faq:db-faq-{faq_id}" not in _faq_sources(app)
    mark = fake.mark()
    app.sender.dm("U_REP", QUESTION, channel="DU_REP")
    answer = fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == "DU_REP" and c.blocks, after=mark
    )
    assert "导出 Excel" not in answer.text


def test_a_card_withdrawn_from_elsewhere_shows_the_withdrawal_in_the_dialog_and_is_redrawn(app):
    """The card still offers *Withdraw FAQ* (the command line withdrew it while Slack was unreachable)."""
    app.fake.add_user("U_SUP_EN", locale="en-US")
    with app.db.begin() as s:
        set_role(s, "U_SUP_EN", "support", app.services.settings.roles)
    assert app.sender.home_opened("U_SUP_EN").status == 200  # the bot learns their Slack language
    app.settle()
    ticket_id, triage_ts, faq_id = _ticket_resolved_into_a_faq(app)
    with app.db.begin() as s:
        withdraw_entry(s, faq_id, "cli:admin", "流程已改")

    mark = app.fake.mark()
    assert _press(app, faq_id, "U_SUP_EN", triage_ts).status == 200
    opened = app.fake.wait_for("views.open", after=mark)
    assert opened.args["view"]["callback_id"] == ids.FAQ_WITHDRAWN_MODAL
    assert f"FAQ #{faq_id} had already been withdrawn; nothing was changed." in opened.text
    assert "cli:admin" in opened.text and "流程已改" in opened.text
    app.settle()
    card = _card(app, triage_ts, after=mark)
    assert f"{ids.FAQ_WITHDRAW_PREFIX}{faq_id}" not in card.action_ids()
    assert "cli:admin" in card.text and "原因：流程已改" in card.text
    with app.db.begin() as s:
        assert [e.kind for e in events_of(s, ticket_id)].count("faq_withdrawn") == 1


def test_a_forged_withdraw_of_an_unknown_entry_says_so(app):
    mark = app.fake.mark()
    assert _press(app, 4242, "U_SUP", "1700000000.000100").status == 200
    app.settle()
    [error] = [c for c in app.fake.calls()[mark:] if c.method == "chat.postEphemeral"]
    assert error.args["user"] == "U_SUP" and "#4242" in error.text
    assert not app.fake.calls("views.open")
    r = _submit(app, "U_SUP", "写错了", json.dumps({"f": 4242}))
    assert "#4242" in _errors(r)[ids.FAQ_WITHDRAW_REASON_BLOCK]
