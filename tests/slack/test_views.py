"""Block Kit views stay within Slack's limits whatever the manuals contain; catalogs match, and hold
every key the CLI uses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from bot import ids
from bot.i18n import LANGUAGES, catalog
from bot.views.answers import AnswerContext, answer_message, parse_ticket_value, without_screenshots
from bot.views.home import HomeData, HomeItem, home_view
from bot.views.tickets import TicketDraft, report_modal
from knowledge.types import Hit, SearchResult
from tests.slack.fake_slack import validate_blocks, validate_view
from tests.slack.harness import write_sample_kb


def _hit(source: str, text: str, **kw) -> Hit:
    return Hit(
        source=source,
        title=kw.pop("title", "标题"),
        heading_path=("标题", "小节"),
        text=text,
        score=0.9,
        **kw,
    )


def test_i18n_catalogs_have_identical_keys():
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    assert keys["en"] == keys["zh-CN"], keys["en"] ^ keys["zh-CN"]


def test_every_key_the_cli_uses_is_in_both_catalogs():
    root = Path(__file__).resolve().parents[2] / "bot"
    domains = "|".join(path.stem for path in (root / "i18n" / "locales" / "en").glob("*.yaml"))
    # "domain.group.name" literals, and f-strings such as f"cli.surveys.col.{column}" as patterns
    # (some key must match); "tickets.csv" has one dot and is not a key.
    literal = re.compile(rf"""f?["']((?:{domains})\.[a-z_]+(?:\.[a-z_{{}}]+)+)["']""")
    used = {key for path in (root / "cli").glob("*.py") for key in literal.findall(path.read_text("utf-8"))}
    assert len(used) > 100  # the scan found the CLI's keys
    for lang in LANGUAGES:
        keys = set(catalog(lang))
        missing = []
        for key in used:
            parts = re.split(r"\{[a-z_.]+\}", key)  # {column}, {reason.code}: any one name there
            pattern = re.compile("[a-z_]+".join(map(re.escape, parts)) + "$")
            if not any(pattern.match(k) for k in keys):
                missing.append(key)
        assert not missing, (lang, sorted(missing))


def test_a_huge_passage_is_split_and_truncated_within_limits():
    steps = "\n".join(f"{i}. 在“库存”应用中点击 <按钮> & 确认第 {i} 步。" * 3 for i in range(1, 400))
    hits = [_hit("a.md", steps)] + [_hit(f"r{i}.md", "x" * 5000, title="T" * 400) for i in range(20)]
    result = SearchResult(
        question="<!channel> 怎么做？" * 200, role=None, lang="zh", answered=True, hits=hits
    )
    message = answer_message(
        result, AnswerContext(lang="zh-CN", question_id=7, show_question=True, asker="U1", shareable=True)
    )
    assert validate_blocks(message.blocks) == []
    assert len(message.blocks) <= 50
    assert "<按钮>" not in json.dumps(message.blocks, ensure_ascii=False)  # escaped
    assert "已截断" in json.dumps(message.blocks, ensure_ascii=False)
    ticket = parse_ticket_value(
        next(
            el
            for b in message.blocks
            if b["type"] == "actions"
            for el in b["elements"]
            if el["action_id"] == ids.OPEN_TICKET
        )["value"]
    )
    assert ticket["q"] == 7 and ticket["question"].startswith(
        "<!channel>"
    )  # raw text for the ticket, not shown


def test_a_quote_in_another_language_than_the_askers_says_so():
    def source_line(ui: str, page_lang: str) -> str:
        hit = _hit("hr/请假申请.md", "1. 打开 休假 ‣ 我的休假", lang=page_lang)
        result = SearchResult(
            question="how do I request leave", role=None, lang="en", answered=True, hits=[hit]
        )
        blocks = answer_message(result, AnswerContext(lang=ui, question_id=1)).blocks
        return next(b["elements"][0]["text"] for b in blocks if b["type"] == "context")

    assert source_line("en", "zh").endswith("· written in Chinese")
    assert source_line("zh-CN", "en").endswith("· 英文内容")
    assert "·" not in source_line("en", "en") and "·" not in source_line("zh-CN", "zh")


def test_markdown_in_manuals_becomes_slack_mrkdwn():
    text = "## 步骤\n**注意** 见 [手册](https://docs.example.com/a?b=1&c=2) 与 [本地](../x.md) ![图](img.png)"
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[_hit("a.md", text)])
    blocks = answer_message(result, AnswerContext(lang="zh-CN", question_id=1)).blocks
    body = blocks[0]["text"]["text"]
    assert "*步骤*" in body and "*注意*" in body
    assert "<https://docs.example.com/a?b=1&c=2|手册>" in body
    assert "本地" in body and "../x.md" not in body


def test_home_view_within_limits_with_long_lists():
    items = [HomeItem(text="<@U1> " + "问" * 500, note="已回答") for _ in range(30)]
    view = home_view(
        HomeData(
            lang="zh-CN", role="finance", language_label="中文", recent_questions=items, open_tickets=items
        )
    )
    assert validate_view(view) == []


def test_chat_works_without_a_tty(tmp_path):
    write_sample_kb(tmp_path / "kb")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ERP_COACH_DATA_DIR": str(tmp_path / "data"),
        "KNOWLEDGE_DIRS": str(tmp_path / "kb"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    exe = Path(sys.executable).with_name("erp-coach")
    proc = subprocess.run(
        [str(exe), "run"],
        input="怎么提交报销单？\n今天食堂的菜单是什么？\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SLACK_BOT_TOKEN" in proc.stderr  # says which settings are missing
    assert "新建报销单" in proc.stdout  # answered from the knowledge base
    assert "没有找到" in proc.stdout  # and abstained honestly


BASE = "https://docs.example.com/erp/"
SHOTS = (
    "1. 打开收货单 ![收货界面](images/收货 界面.png)\n"
    '2. 点击验证 ![](../shared/验证.png "按钮")\n'
    "3. 内嵌 ![内嵌图](data:image/png;base64,iVBORw0KGgo=) ![脚本](javascript:alert(1)) ![本地](file:///C:/a.png)\n"
    "4. 完成 ![完成](https://cdn.example.com/a%20b/done.png?v=2) ![第四张](images/four.png)"
)


def _images(blocks: list[dict]) -> list[dict]:
    return [b for b in blocks if b["type"] == "image"]


def test_screenshots_of_the_quoted_section_follow_the_quote_as_image_blocks():
    hit = _hit("仓库/收货 入库.md", SHOTS, title="收货")
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[hit])
    blocks = answer_message(result, AnswerContext(lang="zh-CN", question_id=1, docs_base_url=BASE)).blocks
    assert validate_blocks(blocks) == []
    folder = "https://docs.example.com/erp/%E4%BB%93%E5%BA%93"
    assert [(b["image_url"], b["alt_text"], b.get("title", {}).get("text")) for b in _images(blocks)] == [
        (f"{folder}/images/%E6%94%B6%E8%B4%A7%20%E7%95%8C%E9%9D%A2.png", "收货界面", "收货界面"),
        ("https://docs.example.com/erp/shared/%E9%AA%8C%E8%AF%81.png", "小节", None),  # no alt: the heading
        ("https://cdn.example.com/a%20b/done.png?v=2", "完成", "完成"),
    ]
    kinds = [b["type"] for b in blocks]
    assert kinds[:4] == ["section", "image", "image", "image"]  # right under the quote, above the source
    quote = blocks[0]["text"]["text"]
    for alt in ("[收货界面]", "[内嵌图]", "[脚本]", "[本地]", "[完成]", "[第四张]"):
        assert alt in quote  # the quote still names every screenshot
    assert "data:" not in quote and "javascript" not in quote and "images/" not in quote


def test_without_a_usable_url_a_screenshot_stays_alt_text_only():
    hit = _hit("仓库/收货.md", SHOTS)
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[hit])
    blocks = answer_message(result, AnswerContext(lang="zh-CN", question_id=1)).blocks  # no DOCS_BASE_URL
    assert [b["image_url"] for b in _images(blocks)] == ["https://cdn.example.com/a%20b/done.png?v=2"]
    assert "[收货界面]" in blocks[0]["text"]["text"]
    # A FAQ entry made from a ticket has no folder: only absolute screenshots.
    faq = Hit(
        source="faq:7", title="收货？", heading_path=("收货？",), text="收货？", score=1.0, kind="faq",
        answer="见 ![收货界面](images/a.png) ![完成](https://cdn.example.com/done.png)",
    )  # fmt: skip
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[faq])
    blocks = answer_message(result, AnswerContext(lang="zh-CN", question_id=1, docs_base_url=BASE)).blocks
    assert [b["image_url"] for b in _images(blocks)] == ["https://cdn.example.com/done.png"]


def test_screenshots_keep_a_huge_answer_within_slacks_limits():
    alt = "<截图> & " * 400
    text = "\n".join(f"{i}. 第 {i} 步 ![{alt}](images/{i}.png)" for i in range(1, 30))
    hits = [_hit("a.md", text)] + [_hit(f"r{i}.md", "x") for i in range(5)]
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=hits)
    ctx = AnswerContext(lang="zh-CN", question_id=1, show_question=True, asker="U1")
    plain = len(answer_message(result, ctx).blocks)  # no DOCS_BASE_URL: no screenshots
    ctx.docs_base_url = BASE
    ctx.extra_context = ["注"] * (48 - plain)  # room for two more blocks
    blocks = answer_message(result, ctx).blocks
    assert len(blocks) == 50 and len(_images(blocks)) == 2 and validate_blocks(blocks) == []
    ctx.extra_context = []
    blocks = answer_message(result, ctx).blocks
    images = _images(blocks)
    assert len(images) == 3 and validate_blocks(blocks) == []
    assert all(len(b["alt_text"]) <= 2000 and "<截图>" not in b["alt_text"] for b in images)
    assert without_screenshots(blocks) == [b for b in blocks if b["type"] != "image"]


def test_ticket_deflection_shows_the_first_screenshot_of_the_section_it_quotes():
    hit = _hit("仓库/收货.md", SHOTS)
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[hit])
    view = report_modal("zh-CN", TicketDraft(description="收货"), deflection=result, docs_base_url=BASE)
    assert validate_view(view) == []
    assert view["blocks"][0]["type"] == "section" and view["blocks"][1]["type"] == "image"
    assert [b["alt_text"] for b in _images(view["blocks"])] == ["收货界面"]  # a hint, not the manual


def test_a_screenshot_of_steps_the_quote_cuts_off_is_not_shown():
    # A long section: Slack's three sections hold its first steps; the rest is "see the manual".
    steps = [
        f"{i}. 在“库存”应用中核对第 {i} 行的数量和批次号，然后点击“下一步”继续。" * 8 for i in range(1, 40)
    ]
    steps[0] += " ![第一步](images/first.png)"
    steps[-1] += " ![最后一步](images/last.png)"
    hit = _hit("仓库/收货.md", "\n".join(steps))
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[hit])
    blocks = answer_message(result, AnswerContext(lang="zh-CN", question_id=1, docs_base_url=BASE)).blocks
    assert validate_blocks(blocks) == []
    quote = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "[第一步]" in quote and "[最后一步]" not in quote  # cut off ...
    assert [b["alt_text"] for b in _images(blocks)] == ["第一步"]  # ... and so is its picture
    assert not any("\U000f0000" <= ch <= "\U000ffffd" for ch in json.dumps(blocks, ensure_ascii=False))

    # The ticket form's excerpt is shorter still: the first screenshot past it is not the hint.
    late = _hit("仓库/收货.md", "\n".join(steps[1:5]) + " ![收货界面](images/late.png)")
    result = SearchResult(question="q", role=None, lang="zh", answered=True, hits=[late])
    view = report_modal("zh-CN", TicketDraft(description="收货"), deflection=result, docs_base_url=BASE)
    assert validate_view(view) == [] and _images(view["blocks"]) == []
