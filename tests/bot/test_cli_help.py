"""`erp-coach --help` lists each command on a line or two; the details are in the command's own --help,
in CLI_LANGUAGE like everything else the CLI says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli._options import help_text
from bot.i18n import LANGUAGES, t

runner = CliRunner()


def _listing() -> dict[str, str]:
    """Command name -> its summary in `erp-coach --help` (rich wraps rows; continuation lines joined)."""
    result = runner.invoke(app, ["--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    rows: dict[str, str] = {}
    name = None
    for line in result.output.splitlines():
        cells = line.strip("│ ").split(None, 1)
        if not cells or not line.startswith("│"):
            continue
        if line.startswith("│ ") and not line.startswith("│  "):
            name = cells[0]
            rows[name] = cells[1] if len(cells) > 1 else ""
        elif name:
            rows[name] += " " + " ".join(cells)
    return rows


def test_every_command_has_a_short_summary():
    rows = _listing()
    assert {"ingest", "ask", "eval", "serve", "chat", "run", "tickets", "surveys"} <= set(rows)
    for name, summary in rows.items():
        assert len(summary) <= 120, (name, summary)


def test_the_details_stay_in_the_commands_own_help():
    # In the language this process's CLI was built in (CLI_LANGUAGE as the tests were collected).
    details = help_text("cli.help.ingest.command").split("\n\n")[1]
    result = runner.invoke(app, ["ingest", "--help"], terminal_width=100)
    assert "".join(details.split()) in "".join(result.output.split()) and "--reset" in result.output
    assert "".join(details.split()) not in "".join(_listing()["ingest"].split())
    result = runner.invoke(app, ["eval", "--help"], terminal_width=100)
    assert "KB_DIR" not in result.output and "--kb" in result.output  # one name for the folder


def test_help_paragraphs_are_wrapped_by_the_terminal_not_by_the_source(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    result = runner.invoke(app, ["eval", "--help"])
    lines = [line.strip() for line in result.output.splitlines()]
    for paragraph in help_text("cli.help.eval.command").split("\n\n"):
        assert paragraph in lines, result.output  # one line each, however long


# What a knowledge admin sees: the real `erp-coach`, in a fresh process, as CLI_LANGUAGE says.

HELP = {
    ("ask", "--explain"): {
        "zh-CN": "显示向量、词法和融合排名，以及回答或拒答的原因。",
        "en": "Show dense, lexical and fused ranks and why it answered.",
    },
    ("ingest", "--reset"): {
        "zh-CN": "删除现有索引，从头重建。",
        "en": "Drop the existing indexes and rebuild from scratch.",
    },
    ("tickets list", "--json"): {
        "zh-CN": "输出 JSON（一个数组），而不是表格。",
        "en": "Print JSON (one array) instead of a table.",
    },
}


def _erp_coach(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`erp-coach ARGS` in tmp_path (no developer .env), with only `env` and the data dir set."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ERP_COACH_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",  # each option's help on one line
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        **env,
    }
    exe = Path(sys.executable).with_name("erp-coach")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )


def _option_help(output: str, option: str) -> str:
    """The help text on `option`'s row of the Options panel."""
    for line in output.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] == option:
            return " ".join(line.strip("│ ").split(None, 2)[2].split())
    raise AssertionError(f"no {option} in\n{output}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_is_in_cli_language(tmp_path, lang):
    result = _erp_coach(tmp_path, "--help", CLI_LANGUAGE=lang)
    assert result.returncode == 0, result.stderr
    assert t("cli.help.app", lang) in result.stdout
    for (command, option), texts in HELP.items():
        result = _erp_coach(tmp_path, *command.split(), "--help", CLI_LANGUAGE=lang)
        assert result.returncode == 0, result.stderr
        assert _option_help(result.stdout, option) == texts[lang], (command, result.stdout)
        other = texts["en" if lang == "zh-CN" else "zh-CN"]
        assert other not in result.stdout
    assert t("cli.help.tickets.list.command", lang) in result.stdout  # the command's own help too


def test_help_is_in_chinese_when_the_settings_are_broken(tmp_path):
    """An unknown CLI_LANGUAGE does not stop the CLI from starting: --help in zh-CN, the default, and a
    command says what is wrong with the setting."""
    result = _erp_coach(tmp_path, "ask", "--help", CLI_LANGUAGE="fr")
    assert result.returncode == 0, result.stderr
    assert _option_help(result.stdout, "--explain") == HELP["ask", "--explain"]["zh-CN"]
    result = _erp_coach(tmp_path, "db", "current", CLI_LANGUAGE="fr")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "CLI_LANGUAGE: 'fr' is not one of zh-CN, en" in result.stderr


def test_chinese_help_is_folded_not_cropped_in_a_narrow_terminal(tmp_path):
    """Rich wraps only at spaces; a Chinese sentence has none, and used to lose its end to "…"."""
    result = _erp_coach(tmp_path, "eval", "--help", CLI_LANGUAGE="zh-CN", COLUMNS="80")
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout, result.stdout
    squashed = "".join(result.stdout.replace("│", "").split())
    for option in ("out", "data_dir", "mode"):
        assert "".join(t(f"cli.help.eval.{option}", "zh-CN").split()) in squashed, result.stdout


FRAME = {
    "zh-CN": {"titles": ("╭─ 参数 ", "╭─ 选项 "), "required": "[必填]", "help": "显示此帮助并退出。"},
    "en": {
        "titles": ("╭─ Arguments ", "╭─ Options "),
        "required": "[required]",
        "help": "Show this message and exit.",
    },
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_frame_of_help_and_of_a_usage_error_is_in_cli_language_too(tmp_path, lang):
    """Not only the texts: the panel titles, [required] and the --help option's line around them."""
    result = _erp_coach(tmp_path, "ask", "--help", CLI_LANGUAGE=lang)
    assert result.returncode == 0, result.stderr
    words = FRAME[lang]
    for title in words["titles"]:
        assert title in result.stdout, result.stdout
    assert words["required"] in result.stdout and _option_help(result.stdout, "--help") == words["help"]
    other = FRAME["en" if lang == "zh-CN" else "zh-CN"]
    assert other["required"] not in result.stdout and other["help"] not in result.stdout
    # A command without its argument: the error panel's title and its pointer to --help.
    result = _erp_coach(tmp_path, "ask", CLI_LANGUAGE=lang)
    assert result.returncode == 2
    assert ("╭─ 错误 " in result.stderr) == (lang == "zh-CN"), result.stderr
    assert ("查看帮助" in result.stderr) == (lang == "zh-CN"), result.stderr
    assert "Traceback" not in result.stderr
