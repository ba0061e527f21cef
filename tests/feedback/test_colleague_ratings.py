"""Colleague ratings on shared answers: one vote per person, changeable, never doubled, counted apart
from the asker's own rating."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from feedback.colleague_ratings import ColleagueRating, ColleagueTally, colleague_tally, rate_as_colleague
from feedback.people import ensure_user
from feedback.questions import QuestionLog, log_question, rate_answer


def _question(db) -> int:
    with db.begin() as s:
        ensure_user(s, "UASK")
        return log_question(
            s, slack_user_id="UASK", lang="zh", question="怎么提交报销单？", answered=True, latency_ms=1.0
        ).id


def _rows(db, qid: int) -> list[tuple[str, int, str | None]]:
    with db.begin() as s:
        return [
            (r.slack_user_id, r.rating, r.reason)
            for r in s.scalars(
                select(ColleagueRating)
                .where(ColleagueRating.question_id == qid)
                .order_by(ColleagueRating.slack_user_id)
            )
        ]


def test_each_colleague_has_one_vote_and_the_tally_counts_them(db):
    qid = _question(db)
    with db.begin() as s:
        assert rate_as_colleague(s, qid, "U1", 1)
        assert rate_as_colleague(s, qid, "U2", 1)
        assert rate_as_colleague(s, qid, "U3", -1)
    with db.begin() as s:
        assert not rate_as_colleague(s, qid, "U1", 1)  # the same vote again: nothing changes
        assert colleague_tally(s, qid) == ColleagueTally(helpful=2, not_helpful=1)
        # The asker's rating lives on the question log and is not touched.
        assert s.get(QuestionLog, qid).rating is None
    assert [u for u, _, _ in _rows(db, qid)] == ["U1", "U2", "U3"]


def test_a_colleague_changes_their_vote_and_the_reason_follows_it(db):
    qid = _question(db)
    with db.begin() as s:
        rate_as_colleague(s, qid, "U1", -1)
    with db.begin() as s:
        assert rate_as_colleague(s, qid, "U1", -1, "outdated")  # the reason dialog, after the click
    with db.begin() as s:
        assert not rate_as_colleague(s, qid, "U1", -1)  # a second click keeps the reason
    assert _rows(db, qid) == [("U1", -1, "outdated")]
    with db.begin() as s:
        assert rate_as_colleague(s, qid, "U1", 1)
        assert colleague_tally(s, qid) == ColleagueTally(helpful=1, not_helpful=0)
    assert _rows(db, qid) == [("U1", 1, None)]  # a 👍 has no "what was wrong"


def test_colleague_and_asker_ratings_are_kept_apart(db):
    qid = _question(db)
    with db.begin() as s:
        rate_answer(s, qid, -1, "unclear")
        rate_as_colleague(s, qid, "U1", 1)
    with db.begin() as s:
        entry = s.get(QuestionLog, qid)
        assert (entry.rating, entry.rating_reason) == (-1, "unclear")
        assert colleague_tally(s, qid) == ColleagueTally(helpful=1, not_helpful=0)


def test_an_unknown_question_or_rating_is_refused(db):
    qid = _question(db)
    with db.begin() as s, pytest.raises(LookupError):
        rate_as_colleague(s, qid + 999, "U1", 1)
    with db.begin() as s, pytest.raises(ValueError):
        rate_as_colleague(s, qid, "U1", 0)
    assert _rows(db, qid) == []


def test_two_clicks_at_once_make_one_row(db):
    """A double click on two replicas: both transactions insert at the same moment."""
    qid = _question(db)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def click(rating: int) -> None:
        try:
            with db.begin() as s:
                s.get(QuestionLog, qid)  # both have read before either writes
                barrier.wait(timeout=10)
                rate_as_colleague(s, qid, "U1", rating)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(r,)) for r in (1, 1, -1, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with db.begin() as s:
        count = s.scalar(select(func.count()).select_from(ColleagueRating))
        tally = colleague_tally(s, qid)
    assert count == 1 and tally.helpful + tally.not_helpful == 1
