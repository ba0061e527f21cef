"""`erp-coach tickets ...`, `backup` and `restore`, run as a user runs them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bot.cli import app
from feedback.db import Database
from feedback.tickets import (
    RatingRequest,
    TicketEvent,
    assign,
    create_ticket,
    events_of,
    list_tickets,
    resolve_ticket,
)

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, tmp_path, db_url):
    """The CLI pointed at a fresh database (both backends), away from any developer .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def _seed(db_url: str) -> None:
    db = Database(db_url)
    with db.begin() as s:
        a = create_ticket(s, reporter="U1", description="=SUM(A1) 采购订单无法确认", category="bug").ticket
        b = create_ticket(s, reporter="U2", description="How do I book a vendor refund?").ticket
        assign(s, a.id, "U_SUP", "U_SUP")
        resolve_ticket(s, b.id, "参见《供应商退款》第 3 节", "U_SUP")
    db.dispose()


def test_list_json_and_status_filter(cli_env):
    _seed(cli_env)
    result = runner.invoke(app, ["tickets", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["key"], r["status"]) for r in rows] == [("ERP-1", "triaged"), ("ERP-2", "resolved")]
    assert rows[0]["title"].endswith("采购订单无法确认")
    only = json.loads(runner.invoke(app, ["tickets", "list", "--status", "resolved", "--json"]).stdout)
    assert [r["key"] for r in only] == ["ERP-2"]
    table = runner.invoke(app, ["tickets", "list"])
    assert table.exit_code == 0 and "ERP-1" in table.stdout and "triaged" in table.stdout


def test_unknown_status_is_a_clear_error_not_a_traceback(cli_env):
    result = runner.invoke(app, ["tickets", "list", "--status", "done"])
    assert result.exit_code == 2
    assert "Unknown status 'done'; choose one of: new, triaged" in result.output
    assert "Traceback" not in result.output


def test_export_csv_opens_in_excel_with_chinese_and_no_formulas(cli_env, tmp_path):
    _seed(cli_env)
    out = tmp_path / "导出" / "工单.csv"
    out.parent.mkdir()
    result = runner.invoke(app, ["tickets", "export", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["key"] for r in rows] == ["ERP-1", "ERP-2"]
    assert rows[0]["title"].startswith("'=SUM(A1)")  # stays text in Excel
    assert rows[1]["resolution"] == "参见《供应商退款》第 3 节"
    bad = runner.invoke(app, ["tickets", "export", str(out), "--format", "xlsx"])
    assert bad.exit_code == 2


def test_backup_lose_the_file_restore_everything_is_back(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    db_file = tmp_path / "data" / "erp-coach.db"
    url = f"sqlite:///{db_file}"
    monkeypatch.setenv("DATABASE_URL", url)
    Database(url).upgrade()
    _seed(url)
    db = Database(url)
    with db.begin() as s:
        before = [
            (t.key, t.status, t.resolution, [(e.kind, e.after) for e in events_of(s, t.id)])
            for t in list_tickets(s)
        ]
    # Back up while a connection is open and the WAL holds recent writes.
    backup_file = tmp_path / "备份" / "erp-coach-backup.db"
    result = runner.invoke(app, ["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    db.dispose()
    assert runner.invoke(app, ["backup", str(backup_file)]).exit_code == 1  # no silent overwrite

    for leftover in db_file.parent.glob("erp-coach.db*"):
        leftover.unlink()
    result = runner.invoke(app, ["restore", str(backup_file)])
    assert result.exit_code == 0, result.output

    db = Database(url)
    with db.begin() as s:
        after = [
            (t.key, t.status, t.resolution, [(e.kind, e.after) for e in events_of(s, t.id)])
            for t in list_tickets(s)
        ]
        assert s.query(TicketEvent).count() == 7  # ERP-2's resolution asked its reporter to rate it
        assert [r.recipient for r in s.query(RatingRequest)] == ["U2"]  # the cooldown survives a restore
        # The counter came back too: the next ticket continues the numbering.
        assert create_ticket(s, reporter="U3", description="新问题").ticket.key == "ERP-3"
    db.dispose()
    assert after == before and len(after) == 2

    refused = runner.invoke(app, ["restore", str(backup_file)])
    assert refused.exit_code == 1 and "--force" in refused.output
    junk = tmp_path / "junk.db"
    junk.write_text("not a database", encoding="utf-8")
    assert "not an erp-coach" in runner.invoke(app, ["restore", str(junk), "--force"]).output


@pytest.mark.postgres
def test_postgres_backup_prints_pg_dump_and_runs_it(monkeypatch, tmp_path, postgres_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    _seed(postgres_url)
    out = tmp_path / "pg.dump"
    result = runner.invoke(app, ["backup", str(out)])
    assert "pg_dump --format=custom" in result.output
    assert str(make_url(postgres_url).database) in result.output
    if shutil.which("pg_dump") is None:
        assert result.exit_code == 3 and "not installed" in result.output
        return
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and out.read_bytes().startswith(b"PGDMP")
    assert "restore with: pg_restore" in runner.invoke(app, ["restore", str(out)]).output


@pytest.mark.parametrize("command", [["tickets", "list"], ["tickets", "export", "out.csv"]])
def test_a_fresh_data_dir_says_to_migrate_first(monkeypatch, tmp_path, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "no such table" not in result.output
    assert "erp-coach db upgrade" in " ".join(result.output.split())
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a folder SQLite cannot write in: /proc")
def test_a_backup_that_cannot_be_written_says_where_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["backup", "/proc/erp-coach-backup.db"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "Cannot write the backup to /proc/erp-coach-backup.db" in " ".join(result.output.split())


def test_a_ticket_title_with_brackets_is_listed_as_written(cli_env, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the title on one line
    db = Database(cli_env)
    with db.begin() as s:
        create_ticket(s, reporter="U1", description="[b]采购订单[/b] 无法确认", category="bug")
    db.dispose()
    result = runner.invoke(app, ["tickets", "list"])
    assert result.exit_code == 0, result.output
    assert "[b]采购订单[/b]" in result.stdout  # not read as rich markup
