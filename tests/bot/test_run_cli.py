"""`erp-coach run` (what `make run` does) without Slack tokens, pointed at knowledge folders that may not exist."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.slack.harness import write_sample_kb

runner = CliRunner()


@pytest.fixture
def env(cli_env):
    monkeypatch = cli_env
    monkeypatch.setenv("COLUMNS", "400")  # long paths on one line
    monkeypatch.delenv("CLI_LANGUAGE")  # `make run` as shipped: zh-CN
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_knowledge_folder_that_does_not_exist_is_named_and_the_rest_indexed(env, tmp_path):
    write_sample_kb(tmp_path / "kb")
    env.setenv("KNOWLEDGE_DIRS", f"{tmp_path / 'kb'},{tmp_path / '手册'}")
    result = runner.invoke(app, ["run"], input="怎么提交报销单？\n")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"{tmp_path / '手册'}" in output and "KNOWLEDGE_DIRS" in output  # said, not silently left out
    assert "新建报销单" in output  # the folder that exists was indexed and answers
    assert "sample knowledge base" not in output and "示例知识库" not in output  # it is not the sample


def test_no_knowledge_folder_at_all_says_so_and_still_chats(env, tmp_path):
    env.setenv("KNOWLEDGE_DIRS", str(tmp_path / "手册"))
    result = runner.invoke(app, ["run"], input="")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"在 {tmp_path / '手册'} 没有找到知识库文件夹" in output and "知识库是空的" in output


def test_files_it_skips_are_said_in_chinese(env, tmp_path):
    write_sample_kb(tmp_path / "kb")
    (tmp_path / "kb" / "空白.md").write_bytes(b"")
    (tmp_path / "kb" / "常见问题.csv").write_text(
        "问题,答案\n发票丢了怎么办？,\n报销多久到账？,三天\n", encoding="utf-8"
    )
    env.setenv("KNOWLEDGE_DIRS", str(tmp_path / "kb"))
    result = runner.invoke(app, ["run"], input="")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "已跳过 空白.md：文件为空" in output and "the file is empty" not in output
    assert "常见问题.csv：第 1 条（发票丢了怎么办？）没有答案，未收录" in output
