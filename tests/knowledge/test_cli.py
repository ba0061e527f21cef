"""`erp-coach ingest`, `ask` and `eval` as an operator runs them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.knowledge.pages import word_manual

runner = CliRunner()


@pytest.fixture
def kb_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "kb"
    (root / "仓库").mkdir(parents=True)
    (root / "仓库" / "两步收货.md").write_bytes(
        "---\ntitle: 两步收货\nroles: [warehouse]\n---\n# 两步收货\n\n## 配置\n\n1. 打开库存设置。\n2. 勾选多步路线。\n3. 在仓库上选择两步收货。\n".encode(
            "gbk"
        )
    )
    (root / "credit-notes.md").write_text(
        "---\ntitle: Credit notes\nroles: [finance]\n---\n# Credit notes\n\nA posted invoice cannot be edited: "
        "issue a credit note with Add Credit Note on the invoice.\n",
        encoding="utf-8",
    )
    (root / "faq.csv").write_text(
        "question,answer,roles,lang,source\nHow do I fix a posted invoice?,Add a credit note.,finance,en,credit-notes.md\n",
        encoding="utf-8",
    )
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 nope")
    return root


def test_ingest_ask_and_eval(kb_dir, tmp_path):
    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert result.exit_code == 0, result.output
    assert "3 indexed" in result.output and "broken.pdf" in result.output and "passages/s" in result.output

    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert "3 unchanged" in result.output and "Passages embedded: 0" in result.output

    result = runner.invoke(app, ["ask", "怎么配置两步收货？", "--role", "warehouse"])
    assert result.exit_code == 0, result.output
    assert "来自操作手册" in result.output and "2. 勾选多步路线。" in result.output
    assert "仓库/两步收货.md" in result.output

    result = runner.invoke(app, ["ask", "what is for lunch in the canteen", "--explain"])
    assert "won't guess" in result.output and "abstained" in result.output

    result = runner.invoke(app, ["ask", "how do I fix a posted invoice", "--json"])
    payload = json.loads(result.output)
    assert payload["answered"] and payload["hits"][0]["kind"] == "faq"

    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {
                    "id": "1",
                    "question": "两步收货怎么配置",
                    "lang": "zh",
                    "role": "warehouse",
                    "relevant": ["仓库/两步收货.md"],
                    "answerable": True,
                },
                {
                    "id": "2",
                    "question": "posted invoice is wrong",
                    "lang": "en",
                    "role": "finance",
                    "relevant": ["credit-notes.md"],
                    "answerable": True,
                },
                {
                    "id": "3",
                    "question": "what is the canteen menu today",
                    "lang": "en",
                    "role": None,
                    "relevant": [],
                    "answerable": False,
                },
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "results.jsonl"
    result = runner.invoke(app, ["eval", str(questions), "--kb", str(kb_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "hit@5" in result.output and "p95" in result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["1", "2", "3"]
    assert lines[0]["ranked_sources"][0] == "仓库/两步收货.md"
    assert lines[1]["ranked_sources"][0] == "credit-notes.md"  # the FAQ hit counts as the page it cites
    assert set(lines[0]) == {"id", "ranked_sources", "answered", "latency_ms"}


def test_ingest_says_when_a_broken_file_was_withdrawn(kb_dir):
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    (kb_dir / "仓库" / "两步收货.md").write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert result.exit_code == 0, result.output
    assert "0 indexed, 2 unchanged, 1 removed, 2 skipped" in result.output
    output = " ".join(result.output.split())  # rich wraps the reason inside its table cell
    assert "仓库/两步收货.md" in output and "the file is empty; its earlier" in output

    result = runner.invoke(app, ["ask", "怎么配置两步收货？", "--role", "warehouse"])
    assert "勾选多步路线" not in result.output


def test_user_mistakes_get_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "No such file or folder" in result.output
    bad = tmp_path / "q.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(bad), "--kb", str(tmp_path)])
    assert result.exit_code == 2 and "q.jsonl:1" in result.output


def test_reset_puts_database_faqs_back(kb_dir, tmp_path):
    from feedback.db import Database
    from feedback.faq import add_entry

    (tmp_path / "data").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'data' / 'erp-coach.db'}")
    db.upgrade()
    with db.begin() as session:
        entry = add_entry(
            session, question="扫码枪没反应怎么办？", answer="重新插拔USB接口。", roles=["warehouse"]
        )
        faq_id = entry.faq_id
    db.dispose()

    first = runner.invoke(app, ["ingest", str(kb_dir)])
    assert "FAQ entries from the database re-indexed: 1" in first.output, first.output
    result = runner.invoke(app, ["ingest", str(kb_dir), "--reset"])
    assert result.exit_code == 0 and "FAQ entries from the database re-indexed: 1" in result.output, (
        result.output
    )
    result = runner.invoke(app, ["ask", "扫码枪没有反应", "--json"])
    payload = json.loads(result.output)
    assert payload["hits"][0]["source"] == f"faq:{faq_id}"


@pytest.mark.parametrize("command", [["ask", "MIGO怎么做"], ["chat"]])
def test_a_malformed_synonyms_file_stops_with_its_line_not_a_traceback(
    kb_dir, tmp_path, monkeypatch, command
):
    bad = tmp_path / "公司用语.tsv"
    bad.write_text("migo\treceipt\n红冲 贷项通知单\n", encoding="utf-8")
    monkeypatch.setenv("SYNONYMS_FILE", str(bad))
    result = runner.invoke(app, command, input="")
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "公司用语.tsv:2: expected 'phrase<TAB>manual words', got '红冲 贷项通知单'" in output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('{"question": "怎么报销", "relevant": ["hr/报销.md"]}\n[1, 2]\n', "q.jsonl:2: not a question line"),
        ('{"id": "q4"}\n', 'q.jsonl:1: no "question"'),
        ('{"question": "  ", "answerable": false}\n', 'q.jsonl:1: no "question"'),
        # a misspelt key must not turn an answerable question into an unanswerable one
        ('{"question": "怎么报销", "expected": ["hr/报销.md"]}\n', "q.jsonl:1: say which pages answer it"),
        ('{"question": "怎么报销", "answerable": true}\n', "q.jsonl:1: say which pages answer it"),
        ('{"question": "怎么报销", "relevant": [1]}\n', 'q.jsonl:1: "relevant" must be'),
    ],
)
def test_a_malformed_question_file_names_the_line(tmp_path, monkeypatch, lines, expected):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "q.jsonl"
    bad.write_text(lines, encoding="utf-8")
    result = runner.invoke(app, ["eval", str(bad), "--kb", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()) and "Traceback" not in result.output


def test_question_files_in_gbk_and_with_one_page_as_text_are_read(tmp_path):
    from knowledge.evaluation import load_questions

    path = tmp_path / "q.jsonl"
    path.write_bytes('{"question": "怎么报销", "relevant": "hr/费用报销.md"}\n'.encode("gbk"))
    (question,) = load_questions(path)
    assert question.question == "怎么报销" and question.relevant == ["hr/费用报销.md"] and question.answerable
    assert question.lang == "zh"  # no "lang": the question's own, not English


@pytest.mark.parametrize("question", ["", "   "])
def test_an_empty_question_is_refused_with_an_example(kb_dir, question):
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code == 2, result.output
    assert "如何提交报销单" in result.output and "won't guess" not in result.output


def test_ask_and_chat_take_the_same_roles_and_languages(kb_dir):
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["ask", "怎么配置两步收货？", "--role", "Warehouse", "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert "2. 勾选多步路线。" in result.output

    for command in (["ask", "--lang", "fr", "how do I fix an invoice"], ["chat", "--lang", "fr"]):
        result = runner.invoke(app, command, input="")
        assert result.exit_code == 2, result.output
        assert "'fr'" in result.output and "zh" in result.output and "en" in result.output

    for command in (["ask", "--role", "nobody", "怎么收货"], ["chat", "--role", "nobody"]):
        result = runner.invoke(app, command, input="怎么收货\n")
        assert result.exit_code == 2, result.output
        assert "Unknown role 'nobody'" in " ".join(result.output.split())

    result = runner.invoke(app, ["chat", "--role", "WAREHOUSE", "--lang", "en"], input="怎么配置两步收货？\n")
    assert result.exit_code == 0, result.output
    assert "勾选多步路线" in result.output and "Bye." in result.output


def test_chat_cuts_a_pasted_wall_of_text_as_slack_does(kb_dir):
    from bot.listeners.ask import MAX_QUESTION

    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["chat"], input="两步收货" * 5000 + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("两步收货") < MAX_QUESTION // 4 + 20  # echoed once, cut where Slack cuts
    assert "相关内容：" in result.output  # with the Chinese colon


def test_explain_shows_whole_sources_in_a_narrow_terminal(kb_dir, monkeypatch):
    import re

    monkeypatch.setenv("COLUMNS", "80")
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["ask", "怎么配置两步收货？", "--explain"])
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("fused") :]
    assert "…" not in table  # no source cut short
    cells = re.sub(r"[\s│┃|]", "", table)  # folded cells read on, line after line
    assert "仓库/两步收货.md" in cells and "faq.csv#1→credit-notes.md" in cells


def test_explain_says_why_in_the_cli_language_and_json_keeps_the_english_reason(kb_dir, monkeypatch):
    monkeypatch.setenv("CLI_LANGUAGE", "zh-CN")
    monkeypatch.setenv("COLUMNS", "250")
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["ask", "食堂今天中午吃什么", "--explain"])
    assert result.exit_code == 0, result.output
    assert "拒答：证据" in result.output and "（需要 " in result.output
    payload = json.loads(runner.invoke(app, ["ask", "食堂今天中午吃什么", "--json"]).output)
    assert payload["reason"].startswith("abstained: evidence ") and payload["why"]["code"].startswith("zh_")


def test_ingest_says_which_files_it_read_again_after_an_upgrade(kb_dir, monkeypatch):
    from knowledge import loaders

    monkeypatch.setenv("CLI_LANGUAGE", "zh-CN")
    monkeypatch.setitem(loaders.READER_VERSIONS, ".md", 1)  # as the release before indexed them
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    monkeypatch.setitem(loaders.READER_VERSIONS, ".md", 2)
    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert result.exit_code == 0, result.output
    assert "其中 2 个文件并未改动" in result.output  # the two .md pages; the FAQ file is unchanged
    assert "并未改动" not in runner.invoke(app, ["ingest", str(kb_dir)]).output


def test_preview_shows_how_files_are_read_and_cited_without_indexing_them(kb_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CLI_LANGUAGE", "zh-CN")
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["preview", str(kb_dir)])
    assert result.exit_code == 1, result.output  # broken.pdf cannot be read
    out = result.output
    assert "仓库/两步收货.md：两步收货（1 个章节；角色：warehouse）" in out
    assert "── 两步收货 › 配置\n1. 打开库存设置。\n2. 勾选多步路线。" in out
    assert "faq.csv：1 条常见问题（角色：finance）" in out and "答：Add a credit note." in out
    assert "无法读取 broken.pdf：" in out
    assert not (tmp_path / "data").exists()  # nothing indexed, no model loaded

    one = runner.invoke(app, ["preview", str(kb_dir / "credit-notes.md"), "--lang", "en"])
    assert one.exit_code == 0, one.output
    assert "credit-notes.md: Credit notes (sections: 1; roles: finance)" in one.output


def test_ingest_lists_faq_entries_it_left_out(kb_dir):
    (kb_dir / "faq.csv").write_text(
        "question,answer,roles,lang,source\nHow do I fix a posted invoice?,Add a credit note.,finance,en,credit-notes.md\n"
        "发票丢了怎么办？,,finance,zh,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "3 indexed" in output and "1 FAQ entry left out" in output
    assert "faq.csv" in output and "entry 2 (发票丢了怎么办？) has no answer; left out" in output


def test_ask_cuts_a_wall_of_text_where_slack_does(kb_dir):
    from bot.listeners.ask import MAX_QUESTION

    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["ask", "两步收货" * 5000, "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["question"]) == MAX_QUESTION


def test_file_names_with_brackets_are_shown_as_they_are(kb_dir):
    (kb_dir / "[草稿]报销.md").write_bytes(b"")
    (kb_dir / "[b]old.md").write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert result.exit_code == 0, result.output
    assert "[草稿]报销.md" in result.output and "[b]old.md" in result.output  # not read as rich markup
    result = runner.invoke(app, ["ingest", str(kb_dir / "[draft]")])
    assert result.exit_code == 2 and "[draft]" in result.output


def test_titles_with_brackets_are_shown_as_they_are_in_the_chat(kb_dir):
    (kb_dir / "退货.md").write_text(
        "# [draft] 客户退货\n\n## 操作\n\n1. 在销售订单上点击“退货”。\n2. 填写退货数量并验证。\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["chat"], input="客户退货怎么操作？\n")
    assert result.exit_code == 0, result.output
    assert "填写退货数量并验证" in result.output and "[draft] 客户退货" in result.output


def test_ask_and_chat_list_the_screenshots_of_the_steps_they_quote(kb_dir, monkeypatch):
    (kb_dir / "仓库" / "两步收货.md").write_bytes(
        "---\ntitle: 两步收货\nroles: [warehouse]\n---\n# 两步收货\n\n## 配置\n\n1. 打开库存设置。\n"
        "2. 勾选多步路线。 ![多步路线](images/多步 路线.png)\n3. 在仓库上选择两步收货。 ![](../shared/仓库.png)\n"
        "4. 保存。 ![内嵌](data:image/png;base64,iVBORw0KGgo=)\n".encode("gbk")
    )
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["ask", "怎么配置两步收货？"])
    assert result.exit_code == 0, result.output
    assert "> 2. 勾选多步路线。 [多步路线]" in result.output and "![" not in result.output
    listed = result.output[result.output.index("截图：") :]
    assert "• [多步路线] 仓库/images/多步 路线.png" in listed  # under the knowledge root, as on disk
    assert "• [配置] shared/仓库.png" in listed  # no alt text: the section's name
    assert "data:" not in result.output

    monkeypatch.setenv("DOCS_BASE_URL", "https://docs.example.com/erp/")
    result = runner.invoke(app, ["chat"], input="怎么配置两步收货？\n")
    assert result.exit_code == 0, result.output
    assert "[多步路线]" in result.output and "![" not in result.output
    url = "https://docs.example.com/erp/%E4%BB%93%E5%BA%93/images/%E5%A4%9A%E6%AD%A5%20%E8%B7%AF%E7%BA%BF.png"
    assert f"• [多步路线] {url}" in result.output  # where Slack would load it from


def test_a_word_manual_is_quoted_step_by_step_and_cited_by_its_sections(kb_dir):
    (kb_dir / "仓库" / "仓库操作手册.docx").write_bytes(word_manual())
    assert runner.invoke(app, ["ingest", str(kb_dir)]).exit_code == 0
    result = runner.invoke(app, ["ask", "收货单怎么验证？"])
    assert result.exit_code == 0, result.output
    assert (
        "> 1. 打开库存应用，点击“收货”。\n>    [收货界面]\n> 2. 填写实收数量。\n> 3. 点击“验证”。\n"
        in result.output
    )  # Word's numbering, with the screenshot between two steps named where it stands
    assert "仓库操作手册 › 收货 (仓库/仓库操作手册.docx)" in result.output
    result = runner.invoke(app, ["ask", "实收数量是什么意思"])
    assert "> 实收数量 | 仓库实际点到的数量" in result.output
    assert (
        "出处：仓库操作手册 › 收货 › 字段说明" in result.output
    )  # the table's own section, not the last one


def test_office_files_that_are_not_read_are_listed_with_what_to_save_them_as(kb_dir):
    (kb_dir / "仓库" / "旧版收货手册.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    (kb_dir / "仓库" / "常见问题.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # WPS spreadsheet
    (kb_dir / "仓库" / "~$两步收货.docx").write_bytes(b"\x00" * 162)  # Word's lock file: not a manual
    (kb_dir / "仓库" / "截图.png").write_bytes(b"\x89PNG")  # a screenshot of a manual: no report
    result = runner.invoke(app, ["ingest", str(kb_dir), "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps the reason inside its table cell
    assert "仓库/旧版收货手册.doc" in output and "不读取 .doc 文件；请另存为 .docx 后重新索引" in output
    assert "仓库/常见问题.et" in output and "请另存为 .xlsx" in output
    assert "~$" not in output and "截图.png" not in output
    assert "已跳过 3 个" in output  # the two above and broken.pdf


def test_a_faq_kept_in_excel_answers_questions(kb_dir):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["问题", "答案", "角色"])
    book.active.append(
        ["报销单被退回了怎么办？", "按退回意见修改后在原单上点“重新提交”，不要新建。", "finance"]
    )
    book.save(kb_dir / "财务常见问题.xlsx")
    result = runner.invoke(app, ["ingest", str(kb_dir)])
    assert result.exit_code == 0 and "财务常见问题.xlsx" not in result.output  # read, not skipped
    result = runner.invoke(app, ["ask", "报销单被退回了怎么办", "--role", "finance"])
    assert "来自常见问题" in result.output and "点“重新提交”，不要新建" in result.output
