"""`erp-coach db upgrade|current` as an operator runs them on deploy."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def test_upgrade_then_current_names_the_revision(cli_env):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    revision = result.output.split("revision ")[1].split()[0]
    current = runner.invoke(app, ["db", "current"])
    assert current.exit_code == 0 and current.output.strip() == revision


def test_an_unknown_revision_is_a_message_not_a_traceback(cli_env):
    result = runner.invoke(app, ["db", "upgrade", "nosuchrevision"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Can't locate revision identified by 'nosuchrevision'" in " ".join(result.output.split())


def test_a_database_from_a_newer_release_is_named_by_every_command_that_migrates(cli_env, tmp_path):
    from sqlalchemy import text

    from feedback.db import Database

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'erp-coach.db'}")
    with db.begin() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    db.dispose()
    for command in (["db", "upgrade"], ["surveys", "list"], ["chat"]):
        result = runner.invoke(app, command, input="")
        assert result.exit_code == 2, (command, result.output)
        output = " ".join(result.output.split())
        assert "'0099_from_the_future'" in output and "newer erp-coach" in output, output
