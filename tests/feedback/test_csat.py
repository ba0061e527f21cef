"""The closure notice's satisfaction rating (CSAT) on both backends: the cooldown, the rating window,
reopened tickets, duplicates' reporters, concurrent resolutions and the audit trail."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from feedback.db import Database
from feedback.tickets import (
    RatingClosed,
    RatingRequest,
    Ticket,
    create_ticket,
    events_of,
    merge_duplicate,
    rate_ticket,
    rating_counts,
    rating_state,
    reopen_ticket,
    resolve_ticket,
)

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Hangzhou
DAY = dt.timedelta(days=1)


def _new(db, reporter="U_REP", description="销售订单无法确认，提示“客户信用额度不足”") -> int:
    with db.begin() as s:
        return create_ticket(s, reporter=reporter, description=description).ticket.id


def _resolve(db, ticket_id, at, resolution="已调整客户信用额度，请重新确认订单。", **kw):
    with db.begin() as s:
        return resolve_ticket(s, ticket_id, resolution, "U_SUP", now=at, **kw)


def _requests(db) -> list[tuple[int, str, dt.datetime]]:
    with db.begin() as s:
        rows = s.scalars(select(RatingRequest).order_by(RatingRequest.id))
        return [(r.ticket_id, r.recipient, r.asked_at) for r in rows]


def test_a_reporter_asked_within_the_cooldown_gets_the_notice_without_the_rating(db_url):
    db = Database(db_url)
    first, second, third = _new(db), _new(db, description="库存调拨单过账失败"), _new(db)
    other = _new(db, reporter="U_FIN", description="发票无法过账")

    [asked] = _resolve(db, first, T0)
    assert (asked.recipient, asked.reason, asked.rating_until) == ("U_REP", "resolved", T0 + 28 * DAY)

    # Another process (its own engine) three days later: the cooldown is in the database.
    elsewhere = Database(db_url)
    [quiet] = _resolve(elsewhere, second, T0 + 3 * DAY, resolution="调拨单已重新过账。")
    assert (quiet.recipient, quiet.reason, quiet.rating_until) == ("U_REP", "resolved", None)
    [colleague] = _resolve(elsewhere, other, T0 + 3 * DAY)  # the cooldown is per person
    assert colleague.rating_until == T0 + 31 * DAY

    [again] = _resolve(db, third, T0 + 7 * DAY + dt.timedelta(minutes=1))  # the cooldown is over
    assert again.rating_until is not None
    assert [(tid, who) for tid, who, _ in _requests(db)] == [
        (first, "U_REP"),
        (other, "U_FIN"),
        (third, "U_REP"),
    ]
    with db.begin() as s:
        assert "rating_requested" not in [e.kind for e in events_of(s, second)]
        assert [e.after for e in events_of(s, first) if e.kind == "rating_requested"] == ["U_REP"]
        with pytest.raises(RatingClosed) as refused:  # nobody asked: a forged click stores nothing
            rate_ticket(s, second, "U_REP", 5, now=T0 + 3 * DAY)
        assert refused.value.until is None
    with db.begin() as s:
        assert s.get(Ticket, second).satisfaction is None
    elsewhere.dispose()
    db.dispose()


def test_cooldown_zero_asks_every_time(db):
    first, second = _new(db), _new(db, description="库存调拨单过账失败")
    [a] = _resolve(db, first, T0, csat_cooldown_days=0)
    [b] = _resolve(db, second, T0 + dt.timedelta(minutes=5), csat_cooldown_days=0, csat_window_days=2)
    assert (a.rating_until, b.rating_until) == (T0 + 28 * DAY, T0 + dt.timedelta(days=2, minutes=5))


def test_reporters_of_merged_duplicates_count_the_same_way(db):
    original = _new(db, reporter="U1", description="发票过账报错：科目未配置")
    dup = _new(db, reporter="U2", description="过账发票时提示科目未配置")
    own = _new(db, reporter="U2", description="报销单无法提交")
    earlier = _new(db, reporter="U3", description="采购询价单打不开")
    dup_of_earlier_asked = _new(db, reporter="U3", description="发票过账失败，科目缺失")
    with db.begin() as s:
        merge_duplicate(s, dup, original, "U_SUP")
        merge_duplicate(s, dup_of_earlier_asked, original, "U_SUP")
    _resolve(db, earlier, T0 - DAY)  # U3 was asked yesterday for another ticket

    notices = _resolve(db, original, T0, resolution="财务已配置过账科目，请重新过账。")
    got = {n.recipient: (n.ticket.id, n.reason, n.rating_until) for n in notices}
    assert got == {
        "U1": (original, "resolved", T0 + 28 * DAY),
        "U2": (dup, "duplicate_resolved", T0 + 28 * DAY),  # asked on their own (duplicate) ticket
        "U3": (dup_of_earlier_asked, "duplicate_resolved", None),  # within the cooldown
    }
    # Being asked about a duplicate starts the cooldown too.
    [later] = _resolve(db, own, T0 + 2 * DAY, resolution="报销单模板已修复。")
    assert later.rating_until is None
    with db.begin() as s:
        rate_ticket(s, dup, "U2", 4, now=T0 + DAY)
        assert s.get(Ticket, dup).satisfaction == 4


def test_rating_is_changeable_within_the_window_and_refused_after_it(db):
    tid = _new(db)
    _resolve(db, tid, T0)
    with db.begin() as s:
        rate_ticket(s, tid, "U_REP", 2, now=T0 + DAY)
    with db.begin() as s:
        rate_ticket(s, tid, "U_REP", 2, now=T0 + DAY)  # a double click changes nothing
        rate_ticket(s, tid, "U_REP", 5, now=T0 + 27 * DAY)  # changed their mind
    with db.begin() as s, pytest.raises(RatingClosed) as late:
        rate_ticket(s, tid, "U_REP", 1, now=T0 + 28 * DAY)
    assert late.value.until == T0 + 28 * DAY and late.value.code == "rating_closed"
    with db.begin() as s:
        t = s.get(Ticket, tid)
        assert (t.satisfaction, t.satisfaction_at) == (5, T0 + 27 * DAY)
        assert rating_state(s, tid).rating == 5
        rated = [(e.actor, e.before, e.after) for e in events_of(s, tid) if e.kind == "rated"]
    assert rated == [("U_REP", None, "2"), ("U_REP", "2", "5")]


def test_a_reopened_ticket_resolved_again_asks_afresh_subject_to_the_cooldown(db):
    tid = _new(db)
    _resolve(db, tid, T0)
    with db.begin() as s:
        reopen_ticket(s, tid, "U_REP", "还是提示额度不足")
    [within] = _resolve(db, tid, T0 + 2 * DAY, resolution="信用额度已从 5 万调到 10 万。")
    assert within.rating_until is None  # asked two days ago
    with db.begin() as s:
        reopen_ticket(s, tid, "U_REP", "仍然不行")
    [afresh] = _resolve(db, tid, T0 + 10 * DAY, resolution="清除了缓存的旧额度。")
    assert afresh.rating_until == T0 + 38 * DAY
    with db.begin() as s:
        # Past the first ask's window, within the new one: the rating lands on the new request.
        rate_ticket(s, tid, "U_REP", 4, now=T0 + 30 * DAY)
    with db.begin() as s:
        rows = list(s.scalars(select(RatingRequest).order_by(RatingRequest.id)))
        assert [(r.asked_at, r.rating) for r in rows] == [(T0, None), (T0 + 10 * DAY, 4)]


def test_concurrent_resolutions_for_one_reporter_ask_once(db):
    tickets = [_new(db, description=f"第 {i} 张出库单无法验证") for i in range(6)]
    barrier = threading.Barrier(len(tickets))
    errors: list[Exception] = []

    def work(ticket_id):
        try:
            barrier.wait()
            _resolve(db, ticket_id, T0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(tid,)) for tid in tickets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert [who for _, who, _ in _requests(db)] == ["U_REP"]
    with db.begin() as s:
        assert all(s.get(Ticket, tid).status == "resolved" for tid in tickets)


def test_rating_counts_for_a_period(db):
    reporters = [f"U{i}" for i in range(7)]
    made = [_new(db, reporter=r, description=f"{r} 的凭证无法审核") for r in reporters]
    for i, tid in enumerate(made):
        _resolve(db, tid, T0 + i * dt.timedelta(hours=1))
    with db.begin() as s:
        for tid, reporter, value in zip(made, reporters, (5, 4, 2, 5), strict=False):
            rate_ticket(s, tid, reporter, value, now=T0 + DAY)
        rate_ticket(s, made[4], reporters[4], 3, now=T0 + 9 * DAY)  # rated the week after
    with db.begin() as s:
        week = rating_counts(s, T0, T0 + 7 * DAY)
        after = rating_counts(s, T0 + 7 * DAY, T0 + 14 * DAY)
    assert (week.asked, week.answered, sorted(week.ratings)) == (7, 5, [2, 4, 5, 5])
    assert (after.asked, after.answered, after.ratings) == (0, 0, (3,))
