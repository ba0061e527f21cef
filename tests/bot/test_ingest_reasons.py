"""`erp-coach ingest` says why it skipped a file in the CLI language: zh-CN for most knowledge admins."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli._reasons import reason_text, why_text
from bot.i18n import LANGUAGES, catalog
from knowledge import reasons
from knowledge.reasons import REASONS, WHY, Reason, Why, template_fields
from tests.knowledge.pages import encrypted_pdf

runner = CliRunner()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_skip_reason_has_a_catalog_entry_with_the_same_params(lang):
    entries = catalog(lang)
    for code, english in REASONS.items():
        key = f"cli.skip.{code}"
        assert key in entries, f"{lang}: no {key}"
        assert template_fields(entries[key]) == template_fields(english), (lang, code)
    stale = {k.removeprefix("cli.skip.") for k in entries if k.startswith("cli.skip.")} - set(REASONS)
    assert not stale, f"{lang}: catalog entries for codes knowledge/ no longer has: {stale}"
    assert template_fields(entries["cli.ingest.reason_with_note"]) == {"reason", "note"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_search_decision_has_a_catalog_entry_with_the_same_params(lang):
    entries = catalog(lang)
    for code, english in WHY.items():
        assert template_fields(entries[f"cli.why.{code}"]) == template_fields(english), (lang, code)
    stale = {k.removeprefix("cli.why.") for k in entries if k.startswith("cli.why.")} - set(WHY)
    assert not stale, f"{lang}: catalog entries for decisions knowledge/ no longer makes: {stale}"


def test_why_a_search_abstained_is_said_in_chinese_with_the_same_figures():
    why = Why(False, "lexical_coverage", {"coverage": "40%", "need": "55%"})
    assert str(why) == "abstained: the best pages cover 40% of the question's terms (need 55%)"
    assert why_text(why, "zh-CN") == "拒答：最好的页面覆盖了问题中 40% 的词语（需要 55%）"


def test_a_code_the_catalog_does_not_know_is_said_in_english(monkeypatch):
    monkeypatch.setitem(reasons.REASONS, "brand_new", "a new kind of problem in {detail}")
    reason = Reason("brand_new", {"detail": "页眉"}).with_note("earlier_version_removed")
    assert reason_text(reason, "zh-CN") == "a new kind of problem in 页眉；之前索引的版本已从索引中移除"
    assert reason_text(Reason("empty"), "zh-CN") == "文件为空"


@pytest.fixture
def kb(cli_env, tmp_path):
    """A Chinese-named folder: one good GBK page, a FAQ with one entry half filled in, and broken files."""
    cli_env.setenv("COLUMNS", "250")  # a table row on one line
    root = tmp_path / "知识库"
    folder = root / "财务"
    folder.mkdir(parents=True)
    (folder / "费用报销.md").write_bytes("# 费用报销\n\n打开“费用”应用，点击“新建报销单”。\n".encode("gbk"))
    (folder / "常见问题.csv").write_bytes(
        "问题,答案\n报销多久到账？,审批后三个工作日。\n发票丢了怎么办？,\n".encode("gbk")
    )
    (folder / "空白.md").write_bytes(b"")
    (folder / "损坏.pdf").write_bytes(b"%PDF-1.4 nope")
    (folder / "加密.pdf").write_bytes(encrypted_pdf())
    (folder / "草稿.md").write_bytes("---\ntitle: [报销草稿\n---\n# 报销草稿\n\n正文\n".encode("gbk"))
    (root / "笔记.xyz").write_text("not a manual", encoding="utf-8")
    return root


def _ingest(root, *args):
    # The folder, and a file of a type ingest does not read (named on its own, or a folder would pass it by).
    result = runner.invoke(app, ["ingest", str(root), str(root / "笔记.xyz"), *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _rows(output: str) -> dict[str, str]:
    """Table rows as `file -> reason` (cells of one line; the box characters dropped)."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


def test_ingest_says_why_in_chinese_with_lang_zh_cn(kb):
    output = _ingest(kb, "--lang", "zh-CN")  # CLI_LANGUAGE is en in the tests: --lang wins
    assert "已索引 2 个" in output  # the good page and the FAQ file
    rows = _rows(output)
    assert rows["财务/空白.md"] == "文件为空"
    assert rows["财务/加密.pdf"] == "PDF 已加密，请导出一份未加密的副本"
    assert rows["财务/损坏.pdf"].startswith("PDF 已损坏或无法读取（")
    assert rows["财务/草稿.md"].startswith("文件开头的 YAML 信息（front matter）第 2 行格式有误：")
    assert rows["笔记.xyz"] == "不支持的文件类型 .xyz"
    assert rows["财务/常见问题.csv"] == "第 2 条（发票丢了怎么办？）没有答案，未收录"
    assert "the file is empty" not in output and "encrypted" not in output and "left out" not in output

    result = runner.invoke(app, ["ask", "怎么提交报销单？"])
    assert "新建报销单" in result.output  # the good page was indexed


def test_ingest_says_why_in_english_with_lang_en(kb, cli_env):
    cli_env.setenv("CLI_LANGUAGE", "zh-CN")  # --lang wins over the setting
    output = _ingest(kb, "--lang", "en")
    assert "2 indexed" in output
    rows = _rows(output)
    assert rows["财务/空白.md"] == "the file is empty"
    assert rows["财务/加密.pdf"] == "the PDF is encrypted; export an unprotected copy"
    assert rows["财务/损坏.pdf"].startswith("broken or unreadable PDF (")
    assert rows["财务/草稿.md"].startswith("malformed YAML front matter at line 2: ")
    assert rows["笔记.xyz"] == "unsupported file type .xyz"
    assert rows["财务/常见问题.csv"] == "entry 2 (发票丢了怎么办？) has no answer; left out"
    assert "文件为空" not in output


def test_a_withdrawn_earlier_version_is_said_in_chinese_too(kb):
    _ingest(kb, "--lang", "zh-CN")
    (kb / "财务" / "费用报销.md").write_bytes(b"")
    rows = _rows(_ingest(kb, "--lang", "zh-CN"))
    assert rows["财务/费用报销.md"] == "文件为空；之前索引的版本已从索引中移除"
