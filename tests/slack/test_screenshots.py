"""Screenshots in answers: the quoted section's images as image blocks, and the answer still delivered
(without them) when Slack cannot download one."""

from __future__ import annotations

import logging

import pytest

from bot import ids
from tests.slack.harness import index_knowledge, start_app

DOCS = "https://docs.example.com/erp/"
RECEIPT_SHOT = (
    "https://docs.example.com/erp/%E4%BB%93%E5%BA%93/images/%E6%94%B6%E8%B4%A7%20%E7%95%8C%E9%9D%A2.png"
)
RETURN_SHOT = (
    "https://docs.example.com/erp/%E9%87%87%E8%B4%AD/%E9%80%80%E8%B4%A7/images/"
    "%E9%80%80%E8%B4%A7%20%E7%95%8C%E9%9D%A2.png"
)
QUOTE_SHOT = "https://cdn.example.com/erp/quotation%20form.png"

# (relative path, text, encoding): a UTF-8 and a GBK manual under Chinese folder and file names, an
# English one whose screenshot is an absolute https URL.
MANUALS = [
    (
        "仓库/收货入库.md",
        "---\ntitle: 收货入库\nroles: [warehouse]\nlang: zh\n---\n# 收货入库\n\n## 确认收货\n\n"
        "供应商送货到仓库后，在 ERP 中确认收货：\n\n1. 打开“库存”应用，点击“收货”。\n"
        "2. 核对收货数量，扫描批次号。\n3. 点击“验证”完成收货入库。\n\n![收货界面](images/收货 界面.png)\n",
        "utf-8",
    ),
    (
        "采购/退货/采购退货.md",
        "---\ntitle: 采购退货\nroles: [purchasing]\nlang: zh\n---\n# 采购退货\n\n## 退货给供应商\n\n"
        "货物有质量问题时退货给供应商：\n\n1. 打开已验证的收货单，点击“退回”。\n"
        "2. 填写退货数量和原因。\n3. 点击“验证”生成退货单。\n\n![退货界面](images/退货 界面.png)\n",
        "gbk",
    ),
    (
        "sales/quotations.md",
        "---\ntitle: Sales quotations\nroles: [sales]\nlang: en\n---\n# Sales quotations\n\n"
        "## Send a quotation\n\nOpen Sales, click New, choose the customer and add product lines, then "
        "click Send by Email; the customer can sign online.\n\n"
        "![Quotation form](https://cdn.example.com/erp/quotation form.png)\n",
        "utf-8",
    ),
]


@pytest.fixture(scope="module")
def screenshot_knowledge(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("screenshots_kb")
    for rel, text, encoding in MANUALS:
        path = root / "kb" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(encoding))
    return index_knowledge(root, embedder)


@pytest.fixture
def app(slack_services, fake_slack, screenshot_knowledge):
    slack_services.__dict__["knowledge"] = screenshot_knowledge
    running = start_app(slack_services, fake_slack)
    running.fake.add_user("UZH", locale="zh-CN")
    running.fake.add_user("UEN", locale="en-US")
    yield running
    slack_services.__dict__.pop("knowledge", None)  # the module's, for the next test: not closed
    running.stop()


def _images(call) -> list[dict]:
    return [b for b in call.blocks if b["type"] == "image"]


@pytest.mark.parametrize("slack_overrides", [{"DOCS_BASE_URL": DOCS}])
@pytest.mark.parametrize(
    ("question", "url", "alt"),
    [("怎么确认收货入库？", RECEIPT_SHOT, "收货界面"), ("怎么退货给供应商？", RETURN_SHOT, "退货界面")],
    ids=["utf-8", "gbk"],
)
def test_a_chinese_manuals_screenshot_follows_the_quoted_steps(app, question, url, alt):
    app.sender.dm("UZH", question, channel="DUZH")
    answer = app.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    assert "点击“验证”" in answer.text
    [image] = _images(answer)
    assert image["image_url"] == url
    assert image["alt_text"] == alt and image["title"]["text"] == alt
    kinds = [b["type"] for b in answer.blocks]
    assert kinds.index("image") > kinds.index("section")  # after the quote
    assert f"[{alt}]" in answer.text  # the quote still names it


def test_without_docs_base_url_a_relative_screenshot_stays_alt_text(app):
    app.sender.dm("UZH", "怎么确认收货入库？", channel="DUZH")
    answer = app.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUZH")
    assert "点击“验证”" in answer.text
    assert _images(answer) == []
    assert "[收货界面]" in answer.text and "images/" not in answer.text


def test_an_absolute_https_screenshot_needs_no_docs_base_url(app):
    app.sender.dm("UEN", "How do I send a quotation to a customer?", channel="DUEN")
    answer = app.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DUEN")
    assert "Send by Email" in answer.text
    assert [(b["image_url"], b["alt_text"]) for b in _images(answer)] == [(QUOTE_SHOT, "Quotation form")]


@pytest.mark.parametrize("slack_overrides", [{"DOCS_BASE_URL": DOCS}])
def test_when_slack_cannot_download_a_screenshot_the_answer_is_posted_without_it(app, caplog):
    fake = app.fake
    fake.refuse_images()
    caplog.set_level(logging.WARNING, logger="erp_coach.delivery")
    app.sender.dm("UZH", "怎么确认收货入库？", channel="DUZH")
    posted = fake.wait_for("chat.postMessage", lambda c: c.response.get("ok"))
    refused, delivered = fake.calls("chat.postMessage")
    assert refused.response["error"] == "invalid_blocks" and _images(refused)
    assert _images(delivered) == [] and "点击“验证”" in delivered.text and "[收货界面]" in delivered.text
    assert [b for b in refused.blocks if b["type"] != "image"] == delivered.blocks
    assert any("without them" in r.getMessage() for r in caplog.records)

    # Rating it redraws it: the rated message (as Slack stored it, with a screenshot here) is sent again.
    message = {"type": "message", "ts": posted.response["ts"], "text": refused.args["text"]}
    message["blocks"] = refused.blocks
    qid = refused.element(ids.FEEDBACK_HELPFUL)["value"]
    mark = fake.mark()
    app.sender.block_action(
        ids.FEEDBACK_HELPFUL, user_id="UZH", value=qid, message=message, channel_id="DUZH"
    )
    redrawn = fake.wait_for("response_url", lambda c: not _images(c), after=mark)
    assert redrawn.args["replace_original"] is True and "点击“验证”" in redrawn.text
    assert len(fake.calls("response_url")) == 2  # the refused redraw, then this one


@pytest.mark.parametrize("slack_overrides", [{"DOCS_BASE_URL": DOCS}])
def test_an_ephemeral_answer_a_modal_answer_and_ticket_suggestions_survive_a_refused_screenshot(app):
    fake = app.fake
    fake.refuse_images()

    mark = fake.mark()
    app.sender.command("/erp", "怎么确认收货入库？", user_id="UZH", channel_id="C0WH")
    answer = fake.wait_for("response_url", lambda c: not _images(c), after=mark)
    assert "点击“验证”" in answer.text and answer.args["response_type"] == "ephemeral"
    refused = [c for c in fake.calls("response_url")[-2:] if _images(c)]
    assert refused and refused[0].response["error"] == "invalid_blocks"

    mark = fake.mark()
    values = {ids.ASK_BLOCK: {ids.ASK_INPUT: {"type": "plain_text_input", "value": "怎么退货给供应商？"}}}
    app.sender.view_submission(ids.ASK_MODAL, values, user_id="UZH", view_id="V0ASK")
    modal = fake.wait_for("views.update", lambda c: "退回" in c.text and not _images(c), after=mark)
    assert modal.args["view_id"] == "V0ASK"
    assert any(_images(c) for c in fake.calls("views.update")[-2:])  # the refused one came first

    mark = fake.mark()
    app.sender.command("/erp", "ticket 收货入库的时候怎么确认收货", user_id="UZH")
    shown = fake.wait_for("views.update", lambda c: "点击“验证”" in c.text and not _images(c), after=mark)
    assert shown.args["external_id"]
    assert [c.response["error"] for c in fake.calls("views.update")[-2:] if _images(c)] == [
        "invalid_arguments"
    ]


@pytest.mark.parametrize("slack_overrides", [{"DOCS_BASE_URL": DOCS}])
def test_a_shared_answer_and_a_colleagues_rating_survive_a_refused_screenshot(app):
    """Share to channel posts the answer for everyone even when Slack cannot fetch its screenshot; a
    colleague's 👍 under an answer in a channel redraws the tally even when the docs site went down
    after the answer was posted."""
    fake = app.fake
    fake.refuse_images()
    mark = fake.mark()
    app.sender.command("/erp", "怎么确认收货入库？", user_id="UZH", channel_id="C0WH")
    private = fake.wait_for("response_url", lambda c: not _images(c) and "点击“验证”" in c.text, after=mark)
    mark = fake.mark()
    value = private.element(ids.SHARE_ANSWER)["value"]
    app.sender.block_action(ids.SHARE_ANSWER, user_id="UZH", value=value, channel_id="C0WH")
    public = fake.wait_for(
        "response_url",
        lambda c: c.args.get("response_type") == "in_channel" and not _images(c),
        after=mark,
    )
    assert "点击“验证”" in public.text and ids.SHARED_HELPFUL in public.action_ids()
    refused = [c for c in fake.calls()[mark:] if c.method == "response_url" and _images(c)]
    assert [c.args.get("response_type") for c in refused] == ["in_channel"]

    # An @mention answered while the screenshot could be fetched; then the docs site goes down.
    fake.refuse_images(False)
    mark = fake.mark()
    app.sender.event(
        {
            "type": "app_mention",
            "channel": "C0WH",
            "user": "UZH",
            "text": "<@UBOT> 怎么确认收货入库？",
            "ts": "1700000401.000100",
        }
    )
    answer = fake.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "C0WH", after=mark)
    assert _images(answer)
    fake.refuse_images()
    message = {"type": "message", "ts": answer.response["ts"], "text": answer.text, "blocks": answer.blocks}
    qid = answer.element(ids.SHARED_HELPFUL)["value"]
    mark = fake.mark()
    app.sender.block_action(ids.SHARED_HELPFUL, user_id="UEN", value=qid, message=message, channel_id="C0WH")
    redrawn = fake.wait_for(
        "response_url", lambda c: c.args.get("replace_original") is True and not _images(c), after=mark
    )
    assert "👍 1" in str(redrawn.blocks) and "点击“验证”" in redrawn.text
