"""Training plans, assignments, reminders, completion, and knowledge gaps turned into modules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedback.colleague_ratings import rate_as_colleague
from feedback.people import ensure_user, set_role
from feedback.questions import log_question, rate_answer
from feedback.scheduler import QuietHours, SendWindow
from feedback.surveys import DeliveryFailed
from feedback.training import (
    TrainingCatalog,
    TrainingConfigError,
    assign_missing_plans,
    assign_plan,
    completion_by_role,
    knowledge_gaps,
    mark_done,
    module_from_gap,
    pending_trainings,
    send_training_reminders,
    training_plan,
)

ROLES = ["finance", "warehouse", "sales", "purchasing", "manager"]
EXAMPLE = Path(__file__).resolve().parents[2] / "feedback" / "examples" / "training.yaml"
ANY_TIME = SendWindow(quiet_hours=None, working_days=frozenset(range(7)))
T0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def catalog(tmp_path) -> TrainingCatalog:
    c = TrainingCatalog(tmp_path / "training.yaml", ROLES, EXAMPLE)
    c.ensure_file()
    return c


def test_assigning_a_role_assigns_its_plan_once(db, catalog):
    with db.begin() as session:
        set_role(session, "U1", "finance", ROLES)
        created = assign_plan(session, catalog, "U1", "finance", now=T0)
        assert [a.module_id for a in created] == ["fin-invoice", "fin-reconcile"]
        # Due for the whole of its last day in Hangzhou: the plan shows a date, not an hour.
        assert created[0].due_at == dt.datetime(2026, 11, 9, 23, 59, 59, 999999, tzinfo=SHANGHAI)
        assert assign_plan(session, catalog, "U1", "finance", now=T0 + dt.timedelta(days=1)) == []
        items = pending_trainings(session, "U1", now=T0)
        assert items[0].title["zh-CN"] == "创建并确认客户发票" and items[0].heading == "创建发票"
        # A role change brings the new plan; the old role's unfinished modules are no longer owed.
        assert [a.module_id for a in assign_plan(session, catalog, "U1", "warehouse", now=T0)] == [
            "wh-receipt",
            "wh-count",
        ]
        assert [i.module_id for i in pending_trainings(session, "U1", now=T0)] == ["wh-receipt", "wh-count"]


def test_a_module_assigned_late_in_the_evening_counts_its_days_from_hangzhous_date(db, tmp_path):
    """23:30 in Hangzhou is still Monday there (15:30 UTC): due the next Monday, at its end; a catalog for
    another company time zone ends the day at that zone's midnight."""
    late = dt.datetime(2026, 11, 2, 15, 30, tzinfo=dt.UTC)
    berlin = TrainingCatalog(tmp_path / "berlin.yaml", ROLES, EXAMPLE, timezone="Europe/Berlin")
    berlin.ensure_file()
    hangzhou = TrainingCatalog(tmp_path / "hz.yaml", ROLES, EXAMPLE, timezone="Asia/Shanghai")
    hangzhou.ensure_file()
    with db.begin() as session:
        [first, *_] = assign_plan(session, hangzhou, "U1", "finance", now=late)
        assert first.due_at == dt.datetime(2026, 11, 9, 23, 59, 59, 999999, tzinfo=SHANGHAI)
        [other, *_] = assign_plan(session, berlin, "U2", "finance", now=late)
        assert other.due_at == dt.datetime(2026, 11, 9, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/Berlin"))
        [item, *_] = pending_trainings(session, "U1", now=dt.datetime(2026, 11, 9, 15, 0, tzinfo=dt.UTC))
        assert not item.overdue  # 23:00 on the due date in Hangzhou
        [item, *_] = pending_trainings(session, "U1", now=dt.datetime(2026, 11, 9, 16, 1, tzinfo=dt.UTC))
        assert item.overdue  # 00:01 the day after


def test_mark_done_only_for_ones_own_open_module(db, catalog):
    with db.begin() as session:
        assign_plan(session, catalog, "U1", "finance", now=T0)
        assign_plan(session, catalog, "U2", "finance", now=T0)
        mine = pending_trainings(session, "U1", now=T0)[0]
        assert mark_done(session, "U2", mine.assignment_id) is False  # someone else's
        assert mark_done(session, "U1", mine.assignment_id) is True
        assert mark_done(session, "U1", mine.assignment_id) is False  # a double click
        assert [i.module_id for i in pending_trainings(session, "U1", now=T0)] == ["fin-reconcile"]
        plan = training_plan(session, "U1", now=T0)
        assert plan[-1].completed_at is not None


def test_reminders_before_due_and_while_overdue_never_doubled(db, catalog):
    with db.begin() as session:
        ensure_user(session, "U1", role="finance", slack_locale="en")
        assign_plan(session, catalog, "U1", "finance", now=T0)
    sent = []
    day = lambda n: lambda: T0 + dt.timedelta(days=n)  # noqa: E731
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(3)) == 0  # nothing due within 2 days
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(6)) == 1
    assert sent[-1].kind == "due_soon" and [i.module_id for i in sent[-1].items] == ["fin-invoice"]
    assert sent[-1].lang == "en"
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(6.1)) == 0  # once
    # Due on Monday the 9th: 22:00 that evening is not overdue yet, Tuesday morning is.
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(7.5)) == 0
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(8)) == 1
    assert sent[-1].kind == "overdue" and sent[-1].items[0].overdue
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(8.5)) == 0  # not every tick
    assert send_training_reminders(db, sent.append, ANY_TIME, now=day(11.1)) == 1  # every 3 days
    with db.begin() as session:
        mark_done(session, "U1", sent[-1].items[0].assignment_id)
    send_training_reminders(db, sent.append, ANY_TIME, now=day(14))
    assert [i.module_id for i in sent[-1].items] == ["fin-reconcile"]  # the done one is never reminded


def test_a_reminder_slack_could_not_take_is_sent_on_the_next_run(db, catalog):
    with db.begin() as session:
        ensure_user(session, "U1", role="finance")
        assign_plan(session, catalog, "U1", "finance", now=T0)
    at = lambda: T0 + dt.timedelta(days=6)  # noqa: E731 - fin-invoice is due within 2 days

    def slack_down(reminder):
        raise DeliveryFailed("connection refused", retry=True)

    assert send_training_reminders(db, slack_down, ANY_TIME, now=at) == 0
    sent = []
    assert send_training_reminders(db, sent.append, ANY_TIME, now=at) == 1  # not lost with the outage
    assert [i.module_id for i in sent[0].items] == ["fin-invoice"]

    def gone(reminder):
        raise DeliveryFailed("account_inactive")

    with db.begin() as session:
        ensure_user(session, "U2", role="finance")
        assign_plan(session, catalog, "U2", "finance", now=T0)
    assert send_training_reminders(db, gone, ANY_TIME, now=at) == 0  # logged, not retried forever
    assert send_training_reminders(db, sent.append, ANY_TIME, now=at) == 0


def test_training_reminders_respect_quiet_hours(db, catalog):
    with db.begin() as session:
        ensure_user(session, "U1", role="finance")
        assign_plan(session, catalog, "U1", "finance", now=T0)
    night = SendWindow(quiet_hours=QuietHours.parse("21:00-08:30"), working_days=frozenset(range(7)))
    sent = []
    at_23h = T0 + dt.timedelta(days=6, hours=13)  # 23:00 in Shanghai, fin-invoice due within 2 days
    assert send_training_reminders(db, sent.append, night, now=lambda: at_23h) == 0
    assert send_training_reminders(db, sent.append, night, now=lambda: at_23h + dt.timedelta(hours=10)) == 1


def test_completion_by_role(db, catalog):
    with db.begin() as session:
        for uid in ("U1", "U2"):
            assign_plan(session, catalog, uid, "finance", now=T0)
        assign_plan(session, catalog, "U3", "warehouse", now=T0)
        mark_done(session, "U1", pending_trainings(session, "U1", now=T0)[0].assignment_id)
        stats = {r.role: r for r in completion_by_role(session, now=T0 + dt.timedelta(days=8))}
    assert (stats["finance"].assigned, stats["finance"].completed, stats["finance"].overdue) == (4, 1, 1)
    assert stats["finance"].rate == 0.25
    assert (stats["warehouse"].assigned, stats["warehouse"].overdue) == (2, 1)


def test_knowledge_gaps_become_a_module_for_the_role_in_one_click(db, catalog):
    with db.begin() as session:
        for uid in ("U1", "U2"):
            set_role(session, uid, "warehouse", ROLES)
        src = [{"source": "inventory/批次.md", "title": "批次管理", "heading": "批次号", "score": 0.2}]
        for i in range(3):
            log_question(
                session,
                slack_user_id="U1",
                role="warehouse",
                lang="zh-CN",
                question=f"怎么设置批次号{i}？",
                top_sources=src,
                answered=False,
                latency_ms=10.0,
                created_at=T0,
            )
        q = log_question(
            session,
            slack_user_id="U2",
            role="warehouse",
            lang="zh-CN",
            question="批次号在哪里看？",
            top_sources=src,
            answered=True,
            latency_ms=10.0,
            created_at=T0,
        )
        rate_answer(session, q.id, -1, "unclear")
        log_question(
            session,
            slack_user_id="U2",
            role="warehouse",
            lang="zh-CN",
            question="如何入库？",
            top_sources=[],
            answered=False,
            latency_ms=10.0,
            created_at=T0,
        )
        gaps = knowledge_gaps(session, T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1))
    assert len(gaps) == 1
    gap = gaps[0]
    assert (gap.role, gap.heading, gap.count, gap.topic) == ("warehouse", "批次号", 4, "批次号")
    module, assigned = module_from_gap(db, gap, created_by="UADMIN", now=T0)
    assert assigned == 2 and module.source == "inventory/批次.md"
    again, assigned_again = module_from_gap(db, gap, created_by="UADMIN", now=T0)
    assert again.id == module.id and assigned_again == 0
    with db.begin() as session:
        assert module.id in {i.module_id for i in pending_trainings(session, "U2", now=T0)}
        # The new module is now part of the role's plan for people who get the role later.
        assert module.id in {a.module_id for a in assign_plan(session, catalog, "U9", "warehouse", now=T0)}


def test_colleagues_thumbs_down_on_a_shared_answer_count_as_a_knowledge_gap(db):
    """Answers shared to a channel that colleagues found wanting (more 👎 than 👍) join the gap report;
    one that as many found helpful does not."""
    src = [{"source": "财务/报销.md", "title": "费用报销", "heading": "差旅报销", "score": 0.8}]
    with db.begin() as session:
        set_role(session, "U1", "finance", ROLES)
        ids = []
        for i, question in enumerate(
            ["差旅费怎么报销？", "出差补贴怎么报？", "高铁票能报销吗？", "住宿标准是多少？"]
        ):
            q = log_question(
                session,
                slack_user_id="U1",
                role="finance",
                lang="zh-CN",
                question=question,
                top_sources=src,
                answered=True,
                latency_ms=10.0,
                created_at=T0 + dt.timedelta(minutes=i),
            )
            ids.append(q.id)
        for qid in ids[:3]:  # two colleagues against one
            rate_as_colleague(session, qid, "UC1", -1, "wrong")
            rate_as_colleague(session, qid, "UC2", -1)
            rate_as_colleague(session, qid, "UC3", 1)
        rate_as_colleague(session, ids[3], "UC1", -1)  # a tie is no verdict
        rate_as_colleague(session, ids[3], "UC2", 1)
        gaps = knowledge_gaps(session, T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1))
        assert [(g.role, g.heading, g.count) for g in gaps] == [("finance", "差旅报销", 3)]
        assert "住宿标准是多少？" not in gaps[0].examples
        # Colleagues changing their minds (👎 → 👍) take the question back out.
        for qid in ids[:3]:
            rate_as_colleague(session, qid, "UC2", 1)
        assert knowledge_gaps(session, T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1)) == []


def test_bad_training_file_is_reported(tmp_path):
    path = tmp_path / "training.yaml"
    path.write_text("plans:\n  仓库:\n    - id: x\n      title: 入库\n", encoding="utf-8")
    with pytest.raises(TrainingConfigError, match="unknown role"):
        TrainingCatalog(path, ROLES).plans()
    path.write_text("plans:\n  finance:\n    - title: 入库\n", encoding="utf-8")
    with pytest.raises(TrainingConfigError, match="needs an `id`"):
        TrainingCatalog(path, ROLES).plans()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("- finance\n", "write `plans:`"),
        ("plans: [finance]\n", "write `plans:`"),
        ("plans:\n  finance: fin-x\n", "list its modules"),
        ("plans:\n  finance: [fin-x]\n", "give its fields"),
        ("plans:\n  finance:\n    - id: x\n      title: 入库\n      due_days: '7'\n", "whole number"),
    ],
)
def test_a_training_file_of_the_wrong_shape_says_what_to_fix(tmp_path, text, match):
    path = tmp_path / "training.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TrainingConfigError, match=match):
        TrainingCatalog(path, ROLES).plans()


def test_a_gbk_training_file_reads_right(tmp_path):
    path = tmp_path / "training.yaml"
    path.write_bytes("plans:\n  finance:\n    - id: fin-1\n      title: 发票过账\n".encode("gbk"))
    [module] = TrainingCatalog(path, ROLES).plans()["finance"]
    assert module.title["zh-CN"] == "发票过账"


def test_new_employees_and_role_changes_get_their_plan_from_the_sweep(db, catalog):
    with db.begin() as session:
        set_role(session, "UNEW", "warehouse", ROLES)
        ensure_user(session, "UNOROLE")
    assert assign_missing_plans(db, catalog, now=T0) == 2
    assert assign_missing_plans(db, catalog, now=T0) == 0
    with db.begin() as session:
        [receipt] = [i for i in pending_trainings(session, "UNEW", now=T0) if i.module_id == "wh-receipt"]
        mark_done(session, "UNEW", receipt.assignment_id, now=T0)
        set_role(session, "UNEW", "sales", ROLES)
    assert assign_missing_plans(db, catalog, now=T0) == 1
    with db.begin() as session:
        # The warehouse module not done is no longer owed (nor reminded); the one done stays on record.
        assert {i.module_id for i in pending_trainings(session, "UNEW", now=T0)} == {"sales-quote"}
        done = {i.module_id for i in training_plan(session, "UNEW", now=T0) if i.completed_at is not None}
        assert done == {"wh-receipt"}
    with db.begin() as session:
        set_role(session, "UNEW", None, ROLES)
    assign_missing_plans(db, catalog, now=T0)
    with db.begin() as session:
        assert pending_trainings(session, "UNEW", now=T0) == []
        assert pending_trainings(session, "UNOROLE") == []


def test_training_reminders_wait_for_the_persons_do_not_disturb(db, catalog):
    with db.begin() as session:
        for uid in ("U1", "U2"):
            ensure_user(session, uid, role="finance")
            assign_plan(session, catalog, uid, "finance", now=T0)
    at = T0 + dt.timedelta(days=6)  # fin-invoice is due within 2 days
    until = at + dt.timedelta(hours=1)
    window = SendWindow(
        quiet_hours=None,
        working_days=frozenset(range(7)),
        dnd=lambda user_ids, moment: {u for u in user_ids if u == "U1" and moment < until},
    )
    sent = []
    assert send_training_reminders(db, sent.append, window, now=lambda: at) == 1
    assert [r.slack_user_id for r in sent] == ["U2"]
    assert send_training_reminders(db, sent.append, window, now=lambda: until) == 1
    assert [r.slack_user_id for r in sent] == ["U2", "U1"]
