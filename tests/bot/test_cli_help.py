"""`erp-coach --help` lists each command on a line or two; the details are in the command's own --help."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.cli import app

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
    result = runner.invoke(app, ["ingest", "--help"], terminal_width=100)
    text = " ".join(result.output.split())
    assert "FAQ entries added in Slack" in text and "--reset" in text
    result = runner.invoke(app, ["eval", "--help"], terminal_width=100)
    assert "KB_DIR" not in result.output and "--kb" in result.output  # one name for the folder


def test_help_paragraphs_are_wrapped_by_the_terminal_not_by_the_source():
    result = runner.invoke(app, ["eval", "--help"], terminal_width=200)
    assert any(
        '"question", the pages that answer it ("relevant") or "answerable": false' in line
        for line in result.output.splitlines()
    ), result.output
