"""FAQ entries on both backends: withdrawing one keeps the first record, whoever withdraws it again."""

from __future__ import annotations

import threading

import pytest

from feedback.faq import (
    FaqNotFound,
    active_entries,
    add_entry,
    all_entries,
    ticket_entries,
    withdraw_entry,
)
from feedback.tickets import InvalidTicket, create_ticket, events_of, resolve_ticket

QUESTION = "月底怎么导出供应商对账单？"


def _faq_from_ticket(db) -> tuple[int, int]:
    with db.begin() as s:
        ticket = create_ticket(s, reporter="U_REP", description=QUESTION).ticket
        resolve_ticket(s, ticket.id, "在“供应商”里点击“对账单”，再点“导出 Excel”。", "U_SUP")
        entry = add_entry(
            s,
            question=QUESTION,
            answer="点击“对账单”，再点“导出 Excel”。",
            ticket_id=ticket.id,
            created_by="U_SUP",
        )
        return entry.id, ticket.id


def test_withdrawing_keeps_the_entry_on_record_and_out_of_the_active_ones(db):
    faq_id, ticket_id = _faq_from_ticket(db)
    with db.begin() as s:
        other = add_entry(
            s, question="How do I print a delivery slip?", answer="Open the delivery, Print."
        ).id
        assert [e.id for e in active_entries(s)] == [faq_id, other]

    with db.begin() as s:
        done = withdraw_entry(s, faq_id, "U_SUP", "  价格表流程已改，答案过时  ")
        assert done.already is False
        assert (done.entry.withdrawn_by, done.entry.withdrawn_reason) == ("U_SUP", "价格表流程已改，答案过时")
        first_at = done.entry.withdrawn_at
        assert first_at is not None and first_at.tzinfo is not None
    with db.begin() as s:
        assert [e.id for e in active_entries(s)] == [other]
        assert [(e.id, e.withdrawn) for e in all_entries(s)] == [(faq_id, True), (other, False)]
        assert [e.id for e in ticket_entries(s, ticket_id)] == [faq_id]
        last = events_of(s, ticket_id)[-1]
        assert (last.kind, last.actor, last.before, last.after) == (
            "faq_withdrawn", "U_SUP", f"db-faq-{faq_id}", "价格表流程已改，答案过时",
        )  # fmt: skip

    # Again, by someone else with another reason: not an error, and the first record stands.
    with db.begin() as s:
        again = withdraw_entry(s, faq_id, "cli:admin", "重复")
        assert again.already is True and again.events == []
        assert (again.entry.withdrawn_by, again.entry.withdrawn_at) == ("U_SUP", first_at)
    with db.begin() as s:
        assert [e.kind for e in events_of(s, ticket_id)].count("faq_withdrawn") == 1

    # An entry without a ticket (nothing to audit there) withdraws the same way, with no reason given.
    with db.begin() as s:
        done = withdraw_entry(s, other, "cli:admin")
        assert done.already is False and done.events == [] and done.entry.withdrawn_reason is None


def test_an_unknown_id_or_a_bad_reason_is_a_clear_error_and_changes_nothing(db):
    faq_id, _ = _faq_from_ticket(db)
    with db.begin() as s, pytest.raises(FaqNotFound, match="no FAQ entry #999"):
        withdraw_entry(s, 999, "U_SUP", "typo")
    with db.begin() as s, pytest.raises(InvalidTicket) as too_long:
        withdraw_entry(s, faq_id, "U_SUP", "旧" * 1001)
    assert too_long.value.code == "withdrawn_reason_too_long"
    with db.begin() as s, pytest.raises(InvalidTicket):
        withdraw_entry(s, faq_id, "  ", "nobody")
    with db.begin() as s, pytest.raises(InvalidTicket) as blank:  # Slack's dialog asks for a reason
        withdraw_entry(s, faq_id, "U_SUP", " \n\u3000 ", require_reason=True)
    assert blank.value.code == "withdrawn_reason_empty"
    with db.begin() as s:
        assert [e.id for e in active_entries(s)] == [faq_id]


def test_two_withdrawals_at_once_record_one(db):
    faq_id, ticket_id = _faq_from_ticket(db)
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def withdraw(who: str) -> None:
        try:
            barrier.wait()
            with db.begin() as s:
                results[who] = withdraw_entry(s, faq_id, who, f"by {who}").already
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=withdraw, args=(who,)) for who in ("U_A", "U_B")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(results.values()) == [False, True]
    winner = next(who for who, already in results.items() if not already)
    with db.begin() as s:
        [entry] = all_entries(s)
        assert (entry.withdrawn_by, entry.withdrawn_reason) == (winner, f"by {winner}")
        assert [e.actor for e in events_of(s, ticket_id) if e.kind == "faq_withdrawn"] == [winner]
