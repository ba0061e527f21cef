"""`erp-coach surveys|training|digest` as an operator uses them (real CLI, real database files)."""

from __future__ import annotations

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no developer .env
    data = tmp_path / "数据"
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("COLUMNS", "160")
    return data


def test_surveys_list_create_pause_resume(env):
    result = runner.invoke(app, ["surveys", "list"])
    assert result.exit_code == 0, result.output
    assert "erp-pulse" in result.output and "active" in result.output
    assert (env / "surveys.yaml").exists()  # the example was copied on first run

    result = runner.invoke(
        app,
        [
            "surveys",
            "create",
            "wh-check",
            "--title",
            "仓库月度调查",
            "--audience",
            "warehouse",
            "--schedule",
            "0 9 1 * *",
            "--questions",
            "satisfaction,module_rating,text",
            "--modules",
            "库存,采购",
            "--named",
        ],
    )
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((env / "surveys.yaml").read_text(encoding="utf-8"))["surveys"][-1]
    assert saved["title"] == "仓库月度调查" and saved["anonymous"] is False
    assert saved["questions"][1]["modules"] == ["库存", "采购"]

    assert saved["window"] == "7d" and saved["reminders"] == ["3d", "5d"]  # day 3 and day 5 by default
    listing = runner.invoke(app, ["surveys", "list"])
    assert "3d, 5d after send" in listing.output

    assert runner.invoke(app, ["surveys", "pause", "wh-check"]).exit_code == 0
    assert "paused" in runner.invoke(app, ["surveys", "list"]).output
    assert runner.invoke(app, ["surveys", "resume", "wh-check"]).exit_code == 0


def test_surveys_create_reminders_fit_the_window(env):
    def create(survey_id, *options):
        result = runner.invoke(app, ["surveys", "create", survey_id, "--title", "月度调查", *options])
        saved = yaml.safe_load((env / "surveys.yaml").read_text(encoding="utf-8"))["surveys"][-1]
        return result, saved

    result, saved = create("短调查", "--window", "4d")
    assert result.exit_code == 0, result.output
    assert saved["id"] == "短调查" and saved["reminders"] == ["3d"]  # day 5 would be after the close
    result, saved = create("两次提醒", "--window", "10d", "--reminders", "2d，6d")  # a Chinese comma
    assert result.exit_code == 0 and saved["reminders"] == ["2d", "6d"]
    result, saved = create("不提醒", "--reminders", "none")
    assert result.exit_code == 0 and saved["reminders"] == []
    result, saved = create("旧写法", "--window", "5d", "--remind-before", "2d")  # older scripts
    assert result.exit_code == 0 and saved["reminders"] == ["3d"] and "remind_before" not in saved
    listing = runner.invoke(app, ["surveys", "list"]).output
    assert "2d, 6d after send" in listing and "none" in listing

    result, _ = create("太晚", "--window", "5d", "--reminders", "3d,5d")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'太晚'" in result.output and "reminder 5d is outside the response window" in result.output
    assert "太晚" not in (env / "surveys.yaml").read_text(encoding="utf-8")


def test_surveys_cli_mistakes_are_clear_messages_not_tracebacks(env):
    result = runner.invoke(app, ["surveys", "create", "x", "--title", "t", "--schedule", "every day"])
    assert result.exit_code == 2 and "cron" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["surveys", "create", "x", "--title", "t", "--audience", "ceo"])
    assert result.exit_code == 2 and "unknown audience role" in result.output
    result = runner.invoke(app, ["surveys", "pause", "nope"])
    assert result.exit_code == 2 and "No survey 'nope'" in result.output
    result = runner.invoke(app, ["surveys", "run-now", "erp-pulse"])
    assert result.exit_code == 2 and "SLACK_BOT_TOKEN" in result.output
    result = runner.invoke(app, ["digest", "--since", "2026-11-01"])
    assert result.exit_code == 2 and "both --since and --until" in result.output


def test_digest_preview_renders_text_and_pngs_without_slack(env, tmp_path):
    out = tmp_path / "预览"
    result = runner.invoke(
        app,
        [
            "digest",
            "--preview",
            "--out",
            str(out),
            "--since",
            "2026-11-16",
            "--until",
            "2026-11-23",
            "--lang",
            "zh",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ERP 上线每周摘要" in result.output and "2026-11-16 至 2026-11-22" in result.output
    assert Image.open(out / "trend.png").format == "PNG"
    assert "新建 0，已解决 0" in (out / "digest.zh-CN.md").read_text(encoding="utf-8")
    result = runner.invoke(app, ["digest", "--preview", "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0 and "ERP roll-out weekly digest" in result.output


def test_digest_preview_shows_ticket_satisfaction(env, tmp_path):
    import datetime as dt

    from feedback.db import Database
    from feedback.tickets import create_ticket, rate_ticket, resolve_ticket

    db = Database(f"sqlite:///{env / 'erp-coach.db'}")
    db.upgrade()
    asked = dt.datetime(2026, 11, 17, 2, 0, tzinfo=dt.UTC)  # Tuesday in Hangzhou
    with db.begin() as s:
        for i, rating in enumerate([5, 4, 4, 2, 5, None]):
            reporter = f"U{i}"
            tid = create_ticket(s, reporter=reporter, description=f"采购订单 {i} 无法确认").ticket.id
            resolve_ticket(s, tid, "已补录供应商价格表。", "U_SUP", now=asked)
            if rating is not None:
                rate_ticket(s, tid, reporter, rating, now=asked + dt.timedelta(hours=2))
    db.dispose()
    out = tmp_path / "预览"
    result = runner.invoke(
        app,
        [
            "digest",
            "--preview",
            "--out",
            str(out),
            "--since",
            "2026-11-16",
            "--until",
            "2026-11-23",
            "--lang",
            "zh",
        ],
    )
    assert result.exit_code == 0, result.output
    text = (out / "digest.zh-CN.md").read_text(encoding="utf-8")
    assert "工单满意度：80% 评为 4–5 分（5 个评分）；回复率 83%（邀请 6 次，已评 5 次）" in text
