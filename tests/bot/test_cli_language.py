"""The CLI speaks CLI_LANGUAGE, zh-CN unless set: what knowledge admins and support staff read."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # messages on one line
    for name in ("DATABASE_URL", "KNOWLEDGE_DIRS", "CLI_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _output(result) -> str:
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_ingest_reports_in_chinese_with_a_skipped_gbk_file(env, tmp_path):
    kb = tmp_path / "知识库" / "财务"
    kb.mkdir(parents=True)
    (kb / "费用报销.md").write_bytes("# 费用报销\n\n打开“费用”应用，点击“新建报销单”。\n".encode("gbk"))
    (kb / "[草稿]报销.md").write_bytes("---\ntitle: 报销草稿\n---\n".encode("gbk"))  # no text: skipped
    result = runner.invoke(app, ["ingest", str(tmp_path / "知识库")])
    assert result.exit_code == 0, result.output
    output = _output(result)
    assert "文件：发现 2 个，已索引 1 个，未变 0 个，已移除 0 个，已跳过 1 个" in output
    assert "已嵌入段落：1 个" in output and "跳过的文件" in output
    assert "财务/[草稿]报销.md" in output  # brackets printed as written, not read as markup
    assert "Files:" not in output and "Skipped" not in output


def test_ask_on_an_empty_knowledge_base_says_so_in_chinese(env):
    result = runner.invoke(app, ["ask", "怎么提交报销单？"])
    assert result.exit_code == 0, result.output
    assert "知识库是空的：请先运行 `erp-coach ingest`。" in _output(result)


def test_an_unknown_revision_is_explained_in_chinese(env):
    result = runner.invoke(app, ["db", "upgrade", "nosuchrevision"])
    assert result.exit_code == 2, result.output
    output = _output(result)
    assert "数据库迁移失败：" in output and "'nosuchrevision'" in output
    assert "`erp-coach db current` 可查看数据库的修订版本" in output


def test_tickets_list_on_a_fresh_data_dir_in_chinese_or_english(env):
    result = runner.invoke(app, ["tickets", "list"])
    assert result.exit_code == 1, result.output
    assert "还没有表；请先运行 `erp-coach db upgrade`" in _output(result)

    env.setenv("CLI_LANGUAGE", "en")
    assert "has no tables yet" in _output(runner.invoke(app, ["tickets", "list"]))


@pytest.mark.parametrize("cli_language", [None, "en"])
def test_a_bad_setting_is_said_in_both_languages(env, cli_language):
    """The settings did not load, so CLI_LANGUAGE is not known, even when it is set."""
    if cli_language:
        env.setenv("CLI_LANGUAGE", cli_language)
    env.setenv("TIMEZONE", "Mars/Base")
    result = runner.invoke(app, ["tickets", "list"])
    assert result.exit_code == 2, result.output
    output = _output(result)
    assert "设置有误 / Bad setting: TIMEZONE: 'Mars/Base' is not a time zone" in output
    assert "请在 .env 或环境变量中修改" in output and "Fix it in .env or the environment" in output


def test_cli_language_itself_is_checked(env):
    env.setenv("CLI_LANGUAGE", "fr")
    output = _output(runner.invoke(app, ["db", "current"]))
    assert "CLI_LANGUAGE: 'fr' is not one of zh-CN, en" in output


def test_lang_defaults_to_cli_language_and_overrides_it(env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert "数据库中没有有效的常见问题条目" in runner.invoke(app, ["faq", "list"]).output
    env.setenv("CLI_LANGUAGE", "en")
    assert "No active FAQ entries" in runner.invoke(app, ["faq", "list"]).output
    assert "数据库中没有有效的常见问题条目" in runner.invoke(app, ["faq", "list", "--lang", "zh"]).output
    result = runner.invoke(app, ["faq", "list", "--lang", "fr"])
    assert result.exit_code == 2 and "erp-coach 不支持语言 'fr'" in _output(result)
