"""Tickets on both backends: numbering under concurrency, idempotency, the status machine, the audit log."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest
from sqlalchemy import func, select

from feedback.faq import add_entry as add_faq
from feedback.faq import all_entries
from feedback.people import set_role
from feedback.tickets import (
    CROSS_LANGUAGE_THRESHOLD,
    InvalidTicket,
    InvalidTransition,
    NotAllowed,
    Ticket,
    TicketEvent,
    add_comment,
    assign,
    close_stale_waiting,
    confirm_fixed,
    create_ticket,
    events_of,
    get_by_number,
    list_tickets,
    merge_duplicate,
    overdue_tickets,
    rate_ticket,
    reopen_ticket,
    require_triager,
    resolve_ticket,
    set_priority,
    set_status,
    similar_open_tickets,
    sla_reminders,
)

ROLES = ["finance", "warehouse", "support", "admin"]
SLA = {"urgent": 4, "high": 8, "normal": 24, "low": 72}


def _new(db, **kw):
    fields = {"reporter": "U_REP", "description": "采购订单无法确认，提示“缺少供应商价格表”"}
    fields.update(kw)
    with db.begin() as s:
        return create_ticket(s, **fields).ticket.id


def _count(db, model) -> int:
    with db.begin() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_ticket_gets_human_number_chinese_text_and_created_event(db):
    first = _new(db, title="采购订单确认失败", category="bug", erp_module="采购", priority="high")
    second = _new(db, description="How do I post a vendor bill?\nDetails below")
    with db.begin() as s:
        t1, t2 = s.get(Ticket, first), s.get(Ticket, second)
        assert (t1.key, t2.key) == ("ERP-1", "ERP-2")
        assert (t1.title, t1.category, t1.priority, t1.status) == ("采购订单确认失败", "bug", "high", "new")
        assert t2.title == "How do I post a vendor bill?"  # the first line when no title is given
        assert t1.created_at.tzinfo is not None
        [ev] = events_of(s, first)
        assert (ev.actor, ev.kind, ev.before, ev.after) == ("U_REP", "created", None, "new")
        assert get_by_number(s, "erp-2").id == second


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"description": "   \n "}, "description_empty"),
        ({"description": "x" * 100_000}, "description_too_long"),
        ({"category": "complaint"}, "bad_category"),
        ({"priority": "P0"}, "bad_priority"),
        ({"title": "t" * 500}, "title_too_long"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(db, fields, code):
    with pytest.raises(InvalidTicket) as err:
        _new(db, **fields)
    assert err.value.code == code
    if code == "bad_category":
        assert "choose one of: how_to_gap, bug" in str(err.value)
    if code == "description_too_long":
        assert "100,000" in str(err.value) and "40,000" in str(err.value)
    assert _count(db, Ticket) == 0 and _count(db, TicketEvent) == 0
    assert _new(db) and list_tickets_keys(db) == ["ERP-1"]  # no number was used up


def list_tickets_keys(db) -> list[str]:
    with db.begin() as s:
        return [t.key for t in list_tickets(s)]


def _hammer(db, n: int, make_kwargs) -> list:
    """n threads create tickets at the same instant (a barrier releases them together)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def work(i):
        try:
            barrier.wait()
            with db.begin() as s:
                created = create_ticket(s, **make_kwargs(i))
                results[i] = (created.ticket.number, created.created)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    return results


def test_concurrent_creators_get_distinct_consecutive_numbers(db):
    results = _hammer(db, 12, lambda i: {"reporter": f"U{i}", "description": f"问题 {i}"})
    numbers = sorted(n for n, _ in results)
    assert numbers == list(range(1, 13))
    assert _count(db, Ticket) == 12 and _count(db, TicketEvent) == 12


def test_retries_and_double_clicks_never_make_a_second_ticket(db):
    # Same Slack event delivered three times at once, by the same new reporter.
    results = _hammer(
        db, 6, lambda i: {"reporter": "U_NEW", "description": "报表打不开", "idempotency_key": "event:Ev123"}
    )
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert {n for n, _ in results} == {1}
    assert _count(db, Ticket) == 1
    # A later retry finds the same ticket, and the next real ticket is ERP-2 (no number lost).
    with db.begin() as s:
        again = create_ticket(s, reporter="U_NEW", description="报表打不开", idempotency_key="event:Ev123")
        assert (again.ticket.key, again.created) == ("ERP-1", False)
    assert _new(db) and list_tickets_keys(db) == ["ERP-1", "ERP-2"]


def test_status_machine_enforces_allowed_moves_and_audits_each(db):
    tid = _new(db)
    with db.begin() as s:
        change = assign(s, tid, "U_SUP", "U_SUP")
        assert change.ticket.status == "triaged"  # claiming a new ticket triages it
        set_status(s, tid, "in_progress", "U_SUP")
        set_status(s, tid, "waiting_on_reporter", "U_SUP")
    with db.begin() as s, pytest.raises(InvalidTransition, match="needs a resolution"):
        set_status(s, tid, "resolved", "U_SUP")
    with db.begin() as s, pytest.raises(InvalidTicket, match="unknown status 'done'"):
        set_status(s, tid, "done", "U_SUP")
    with db.begin() as s:
        add_comment(s, tid, "U_REP", "截图已补充")  # the reporter's reply ends the wait
        assert s.get(Ticket, tid).status == "in_progress"
        [notice] = resolve_ticket(s, tid, "供应商价格表已补录，请重试。", "U_SUP")
        assert (notice.recipient, notice.reason, notice.resolved_by) == ("U_REP", "resolved", "U_SUP")
    with (
        db.begin() as s,
        pytest.raises(InvalidTransition, match="from resolved to in_progress; reopen it first"),
    ):
        set_status(s, tid, "in_progress", "U_SUP")
    with db.begin() as s, pytest.raises(NotAllowed):
        confirm_fixed(s, tid, "U_SUP")  # only the reporter confirms
    with db.begin() as s:
        reopen_ticket(s, tid, "U_REP", "还是不行")
        t = s.get(Ticket, tid)
        assert t.status == "in_progress" and t.closed_at is None
        resolve_ticket(s, tid, "重新同步了价格表", "U_SUP")
        confirm_fixed(s, tid, "U_REP")
        rate_ticket(s, tid, "U_REP", 5)
    with db.begin() as s:
        t = s.get(Ticket, tid)
        assert (t.status, t.satisfaction, t.resolution) == ("closed", 5, "重新同步了价格表")
        trail = [(e.kind, e.before, e.after) for e in events_of(s, tid)]
    assert trail[:4] == [
        ("created", None, "new"),
        ("assigned", None, "U_SUP"),
        ("status", "new", "triaged"),
        ("status", "triaged", "in_progress"),
    ]
    kinds = [k for k, _, _ in trail]
    # Asked to rate once: the second resolution fell within the cooldown.
    assert kinds[4:] == [
        "status", "commented", "reporter_replied", "resolution", "resolved", "rating_requested",
        "reopened", "reopen_reason", "resolution", "resolved", "confirmed", "rated",
    ]  # fmt: skip


def test_rating_must_be_one_to_five_and_only_after_resolution(db):
    tid = _new(db)
    with db.begin() as s, pytest.raises(InvalidTransition):
        rate_ticket(s, tid, "U_REP", 4)
    with db.begin() as s:
        resolve_ticket(s, tid, "done", "U_SUP")
    for bad in (0, 6, "five"):
        with db.begin() as s, pytest.raises(InvalidTicket, match="1 to 5"):
            rate_ticket(s, tid, "U_REP", bad)
    with db.begin() as s:
        assert s.get(Ticket, tid).satisfaction is None


def test_failed_change_leaves_no_audit_event(db):
    tid = _new(db)
    with pytest.raises(InvalidTicket), db.begin() as s:
        assign(s, tid, "U_SUP", "U_SUP")
        set_priority(s, tid, "P0", "U_SUP")  # fails after a valid change in the same transaction
    with db.begin() as s:
        t = s.get(Ticket, tid)
        assert (t.assignee_id, t.status) == (None, "new")
        assert [e.kind for e in events_of(s, tid)] == ["created"]


def test_only_support_and_admin_may_triage(db):
    with db.begin() as s:
        set_role(s, "U_SUP", "support", ROLES)
        set_role(s, "U_FIN", "finance", ROLES)
    with db.begin() as s:
        require_triager(s, "U_SUP")
        with pytest.raises(NotAllowed, match="only support, admin"):
            require_triager(s, "U_FIN")
        with pytest.raises(NotAllowed):
            require_triager(s, "U_STRANGER")


def _unit(*values):
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_tickets_in_two_languages_are_compared_on_their_erp_terms(db):
    """The cosine of an English model says little across languages: a Chinese ticket and an English one
    are compared on the Chinese one's English ERP terms (what `render` gives) against the other's words."""
    glossary = {"采购订单": "purchase order", "审批": "approve", "登录": "log in"}

    def render(text):
        if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return None
        return " ".join(en for zh, en in glossary.items() if zh in text)

    def words(text):
        return [w.strip(".,?") for w in text.lower().split()]

    po = _new(
        db,
        title="PO stuck",
        description="cannot confirm purchase order after approve",
        embedding=_unit(0, 1, 0),
    )
    login = _new(db, title="Login", description="cannot log in since monday", embedding=_unit(0, 0, 1))
    chinese = "采购订单审批后无法确认"
    with db.begin() as s:
        # Orthogonal vectors: only the ERP terms can bring them together.
        found = similar_open_tickets(
            s, _unit(1, 0, 0), threshold=0.45, text=chinese, tokenize=words, render=render
        )
        assert [x.ticket.id for x in found] == [po]
        assert found[0].score >= CROSS_LANGUAGE_THRESHOLD
        # Without a renderer the pair is compared as before, and nothing comes close.
        assert similar_open_tickets(s, _unit(1, 0, 0), threshold=0.45, text=chinese, tokenize=words) == []
        # Two English tickets still go by cosine and shared words: the login ticket is not the PO one.
        same_lang = similar_open_tickets(
            s, _unit(0, 1, 0), threshold=0.45, text="PO stuck after approve", tokenize=words, render=render
        )
        assert [x.ticket.id for x in same_lang] == [po] and login not in [x.ticket.id for x in same_lang]


def test_similar_open_tickets_and_merging_counts_affected_people(db):
    a = _new(db, reporter="U1", description="发票过账报错", embedding=_unit(1, 0, 0))
    b = _new(db, reporter="U2", description="过账发票时报错", embedding=_unit(0.95, 0.1, 0))
    c = _new(db, reporter="U3", description="库存盘点怎么做", embedding=_unit(0, 1, 0))
    d = _new(db, reporter="U4", description="发票过账失败", embedding=_unit(0.9, 0.2, 0.1))
    with db.begin() as s:
        found = similar_open_tickets(s, _unit(0.95, 0.1, 0), threshold=0.8, exclude_id=b)
        assert [x.ticket.id for x in found] == [a, d]
        assert found[0].score > 0.98
        merge_duplicate(s, b, a, "U_SUP")
    with db.begin() as s:
        merge_duplicate(s, d, b, "U_SUP")  # merging into a duplicate lands on the original
    with db.begin() as s:
        orig, dup = s.get(Ticket, a), s.get(Ticket, d)
        assert orig.affected_count == 3
        assert (dup.status, dup.duplicate_of_id, dup.resolution) == ("closed", a, "duplicate of ERP-1")
        # Duplicates are not offered again.
        assert [x.ticket.id for x in similar_open_tickets(s, _unit(1, 0, 0), threshold=0.5)] == [a]
        notices = resolve_ticket(s, a, "财务已修复过账规则", "U_SUP")
        assert sorted((n.recipient, n.reason) for n in notices) == [
            ("U1", "resolved"),
            ("U2", "duplicate_resolved"),
            ("U4", "duplicate_resolved"),
        ]
    with db.begin() as s, pytest.raises(InvalidTransition, match="merged as a duplicate"):
        reopen_ticket(s, b, "U2")
    with db.begin() as s:
        assert s.get(Ticket, c).status == "new"


def test_sla_reminders_once_per_day_and_waiting_pauses_the_clock(db):
    urgent = _new(db, priority="urgent")
    low = _new(db, priority="low")
    waiting = _new(db, priority="urgent")
    with db.begin() as s:
        assign(s, urgent, "U_SUP", "U_SUP")
        set_status(s, waiting, "waiting_on_reporter", "U_SUP")
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    with db.begin() as s:
        assert [t.id for t, _ in overdue_tickets(s, now, SLA)] == [urgent]
        [reminder] = sla_reminders(s, now, SLA)
        assert (reminder.ticket.id, reminder.recipient, reminder.sla_hours) == (urgent, "U_SUP", 4)
        assert dt.timedelta(minutes=55) < reminder.overdue_by < dt.timedelta(minutes=65)
    with db.begin() as s:
        assert sla_reminders(s, now + dt.timedelta(hours=1), SLA) == []
        later = sla_reminders(s, now + dt.timedelta(hours=25), SLA)
        assert [r.ticket.id for r in later] == [urgent]
    with db.begin() as s:
        assert low not in [r.ticket.id for r in sla_reminders(s, now + dt.timedelta(days=2), SLA)]
        assert [e.kind for e in events_of(s, urgent)].count("sla_overdue") == 2


def test_waiting_tickets_without_reply_are_closed_with_a_notice(db):
    quiet = _new(db, reporter="U1")
    answered = _new(db, reporter="U2")
    with db.begin() as s:
        set_status(s, quiet, "waiting_on_reporter", "U_SUP")
        set_status(s, answered, "waiting_on_reporter", "U_SUP")
        add_comment(s, answered, "U2", "我补充了截图")
    with db.begin() as s:
        assert close_stale_waiting(s, dt.datetime.now(dt.UTC) + dt.timedelta(days=2), days=5) == []
        [notice] = close_stale_waiting(s, dt.datetime.now(dt.UTC) + dt.timedelta(days=6), days=5)
        assert (notice.ticket.id, notice.recipient, notice.reason) == (quiet, "U1", "stale_closed")
    with db.begin() as s:
        assert s.get(Ticket, quiet).status == "closed"
        assert s.get(Ticket, answered).status == "in_progress"
        assert events_of(s, quiet)[-1].actor == "system"


def test_faq_entries_are_stored_with_their_ticket(db):
    tid = _new(db)
    with db.begin() as s:
        entry = add_faq(
            s, question="采购订单确认提示缺少价格表？", answer="先在供应商价格表里补录价格。",
            roles=["purchasing"], lang="zh-CN", ticket_id=tid, created_by="U_SUP",
        )  # fmt: skip
        assert entry.faq_id == f"db-faq-{entry.id}"
    with db.begin() as s, pytest.raises(InvalidTicket, match="unknown language"):
        add_faq(s, question="q", answer="a", lang="fr")
    with db.begin() as s:
        [stored] = all_entries(s)
        assert (stored.roles, stored.lang, stored.ticket_id) == (["purchasing"], "zh-CN", tid)
        assert events_of(s, tid)[-1].kind == "faq_added"


def _history_at(db, ticket_id: int, reported: dt.datetime, hours_after: list[float]) -> None:
    """Put a ticket's report and its status changes, in order, at these hours after `reported`."""
    with db.begin() as s:
        s.get(Ticket, ticket_id).created_at = reported
        changes = [e for e in events_of(s, ticket_id) if e.field == "status"]
        changes[0].created_at = reported  # "created": status new
        changes = changes[1:]
        assert len(changes) == len(hours_after), [e.kind for e in changes]
        for event, hours in zip(changes, hours_after, strict=True):
            event.created_at = reported + dt.timedelta(hours=hours)


def test_the_sla_clock_stops_while_waiting_on_the_reporter(db):
    reported = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    ticket = _new(db, priority="normal")  # 24 h
    with db.begin() as s:
        set_status(s, ticket, "waiting_on_reporter", "U_SUP")
        add_comment(s, ticket, "U_REP", "补充：只有宁波仓的订单报错")  # back in progress
    _history_at(db, ticket, reported, [10, 40])  # 10 h with support, 30 h waiting, then back
    with db.begin() as s:
        assert overdue_tickets(s, reported + dt.timedelta(hours=45), SLA) == []  # 15 h on the clock
        [(late_ticket, late)] = overdue_tickets(s, reported + dt.timedelta(hours=55), SLA)  # 25 h
        assert late_ticket.id == ticket and late == dt.timedelta(hours=1)


def test_a_reopened_ticket_does_not_count_the_time_it_was_solved(db):
    reported = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    ticket = _new(db, priority="high")  # 8 h
    with db.begin() as s:
        resolve_ticket(s, ticket, "已补录价格表", "U_SUP")
        reopen_ticket(s, ticket, "U_REP")
    with db.begin() as s:
        statuses = len([e for e in events_of(s, ticket) if e.field == "status"]) - 1  # after "created"
    # Solved after 5 h, reopened 3 days later: 5 h used, 3 left.
    _history_at(db, ticket, reported, [5] + [77] * (statuses - 1))
    with db.begin() as s:
        assert overdue_tickets(s, reported + dt.timedelta(hours=79), SLA) == []
        [(_, late)] = overdue_tickets(s, reported + dt.timedelta(hours=81), SLA)
        assert late == dt.timedelta(hours=1)


def test_overdue_at_a_past_moment_reads_the_status_then(db):
    """What a digest for an earlier week counts: the tickets overdue at its end, not as they stand now."""
    reported = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    period_end = reported + dt.timedelta(hours=30)
    solved_later = _new(db, priority="normal")  # 24 h; in progress at the period's end, solved after
    waiting_then = _new(db, priority="normal")
    opened_after = _new(db, priority="urgent")
    with db.begin() as s:
        resolve_ticket(s, solved_later, "已修复", "U_SUP")
        set_status(s, waiting_then, "waiting_on_reporter", "U_SUP")
        set_status(s, opened_after, "in_progress", "U_SUP")
    with db.begin() as s:
        resolved_events = len([e for e in events_of(s, solved_later) if e.field == "status"]) - 1
    _history_at(db, solved_later, reported, [35] * resolved_events)
    _history_at(db, waiting_then, reported, [2])
    _history_at(db, opened_after, reported + dt.timedelta(hours=40), [1])
    with db.begin() as s:
        s.get(Ticket, solved_later).status_changed_at = reported + dt.timedelta(hours=35)
        s.get(Ticket, waiting_then).status_changed_at = reported + dt.timedelta(hours=2)
    with db.begin() as s:
        [(ticket, late)] = overdue_tickets(s, period_end, SLA)
        assert ticket.id == solved_later and late == dt.timedelta(hours=6)
        assert overdue_tickets(s, reported + dt.timedelta(hours=36), SLA) == []  # solved; the other not yet
        [(ticket, late)] = overdue_tickets(s, reported + dt.timedelta(hours=46), SLA)
        assert ticket.id == opened_after and late == dt.timedelta(hours=2)  # urgent: 4 h from +40 h
