"""A mistake in the settings (.env or the environment) stops any command with one line naming the
setting, a non-zero exit and no traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def _problem(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TIMEZONE", "Mars/Base", "TIMEZONE: 'Mars/Base' is not a time zone"),
        ("DATABASE_URL", "notaurl", "DATABASE_URL: 'notaurl' is not a database URL"),
        ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL: 'mysql://u@h/db' is not a database URL"),
        (
            "DATABASE_URL",
            "mysql://erp:s3cret@h/db",
            "DATABASE_URL: 'mysql://erp:***@h/db' is not a database URL",
        ),
        ("DATABASE_URL", "postgres:/erp:s3cret@h/db", "DATABASE_URL: 'postgres:/erp:***@h/db'"),
        ("TICKET_SLA_HOURS", "urgent=x", "TICKET_SLA_HOURS: urgent='x' is not a positive number"),
        ("ROLE_FOLDERS", "财务", "ROLE_FOLDERS: expected KEY=VALUE pairs"),
        ("ERP_COACH_HTTP_THREADS", "many", "ERP_COACH_HTTP_THREADS: "),
        ("QUIET_HOURS", "25:99-08:00", "QUIET_HOURS: quiet hours '25:99-08:00': write HH:MM-HH:MM"),
        ("WORKING_DAYS", "montag", "WORKING_DAYS: working day 'montag'"),
        ("DIGEST_CRON", "every monday", "DIGEST_CRON: 'every monday' is not a cron line"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(cli_env, name, value, expected):
    cli_env.setenv(name, value)
    for command in (["tickets", "list"], ["db", "upgrade"], ["ingest"]):
        output = _problem(runner.invoke(app, command))
        assert expected in output, output
        assert "pydantic" not in output and "errors.pydantic.dev" not in output
        assert "s3cret" not in output  # a password in the URL is not printed


def test_a_data_dir_that_cannot_be_created_is_named(cli_env, tmp_path):
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    cli_env.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "a-file" / "data"))
    output = _problem(runner.invoke(app, ["db", "upgrade"]))
    assert "ERP_COACH_DATA_DIR" in output and "a-file" in output and "not a folder" in output


def test_a_database_that_does_not_answer_is_one_line(cli_env):
    cli_env.setenv("DATABASE_URL", "postgresql+psycopg://erp:secret@127.0.0.1:1/erp")
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    output = " ".join(result.output.split())
    assert "Cannot reach the database" in output and "127.0.0.1:1" in output
    assert "secret" not in output  # the password is not printed


def test_a_dot_env_saved_in_gbk_is_read(cli_env, tmp_path):
    from bot.config import load_settings

    (tmp_path / ".env").write_bytes("ROLE_FOLDERS=财务=finance,仓库=warehouse\n".encode("gbk"))
    assert load_settings().role_folders == {"财务": "finance", "仓库": "warehouse"}
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
