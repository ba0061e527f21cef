"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL: a
model change without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

import feedback.models  # noqa: F401 - registers every table on Base.metadata
from feedback.db import Base


def _head(db) -> str:
    from alembic.script import ScriptDirectory

    from feedback.db import alembic_config

    return ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # APScheduler keeps its own jobs table in the same database; it is not ours to migrate.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("apscheduler"))]
    assert diff == []


def test_tickets_resolved_before_csat_keep_their_rating_and_its_window(db):
    import datetime as dt

    from alembic import command

    from feedback.db import alembic_config
    from feedback.tickets import RatingRequest, Ticket, create_ticket, merge_duplicate, rate_ticket

    # Tickets as they stood before csat (written with today's models, which have newer columns), then
    # the schema taken back to before csat and up again.
    resolved = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
    with db.begin() as s:
        rated = create_ticket(s, reporter="U1", description="发票无法过账").ticket
        dup = create_ticket(s, reporter="U2", description="过账发票报错").ticket
        still_open = create_ticket(s, reporter="U3", description="库存盘点单打不开").ticket
        merge_duplicate(s, dup.id, rated.id, "U_SUP")
        rated.status, rated.resolution, rated.resolved_at = "resolved", "已修复过账规则", resolved
        rated.satisfaction, rated.satisfaction_at = 3, resolved + dt.timedelta(hours=2)
        ids = rated.id, dup.id, still_open.id
    command.downgrade(alembic_config(db.url), "survey_reminders")
    db.upgrade()
    with db.begin() as s:
        rows = {r.ticket_id: r for r in s.scalars(select(RatingRequest))}
        assert set(rows) == {ids[0], ids[1]}  # the open ticket was never resolved, so never asked
        assert (rows[ids[0]].recipient, rows[ids[0]].rating, rows[ids[0]].asked_at) == ("U1", 3, resolved)
        assert rows[ids[1]].recipient == "U2" and rows[ids[1]].rating is None
        assert rows[ids[0]].open_until == resolved + dt.timedelta(days=28)
        rate_ticket(s, ids[0], "U1", 5, now=resolved + dt.timedelta(days=3))  # still changeable
    with db.begin() as s:
        assert s.get(Ticket, ids[0]).satisfaction == 5


def test_anonymous_answers_stored_with_their_day_take_the_rounds_time(db):
    import datetime as dt

    from alembic import command

    from feedback.db import alembic_config
    from feedback.surveys import SurveyDelivery, SurveyResponse, SurveyRound

    scheduled = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
    answered_on = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # as the earlier code kept it: the day
    with db.begin() as s:
        for anonymous in (True, False):
            round_ = SurveyRound(
                survey_id="pulse" if anonymous else "named",
                scheduled_for=scheduled,
                send_after=scheduled,
                closes_at=scheduled + dt.timedelta(days=5),
                status="open",
                anonymous=anonymous,
                definition={},
            )
            s.add(round_)
            s.flush()
            s.add(
                SurveyResponse(
                    round_id=round_.id, role="hr", answers={"overall": 1}, submitted_at=answered_on
                )
            )
            s.add(
                SurveyDelivery(
                    round_id=round_.id, slack_user_id="U1", status="sent", responded_on=answered_on
                )
            )
    command.downgrade(alembic_config(db.url), "reporter_thread")
    db.upgrade()
    with db.begin() as s:
        anonymous_round = s.scalars(select(SurveyRound).where(SurveyRound.anonymous.is_(True))).one()
        for response in s.scalars(select(SurveyResponse)):
            expected = scheduled if response.round_id == anonymous_round.id else answered_on
            assert response.submitted_at == expected
        for delivery in s.scalars(select(SurveyDelivery)):
            expected = scheduled if delivery.round_id == anonymous_round.id else answered_on
            assert delivery.responded_on == expected


def test_faq_withdrawal_goes_down_and_up_keeping_the_entries(db):
    from alembic import command
    from sqlalchemy import inspect

    from feedback.db import alembic_config, current_revision
    from feedback.faq import active_entries, add_entry, withdraw_entry

    with db.begin() as s:
        kept = add_entry(s, question="报销款什么时候到账？", answer="审批后五个工作日内。").id
        gone = add_entry(s, question="发票抬头写什么？", answer="公司全称。").id
        withdraw_entry(s, gone, "U_SUP", "抬头规则已改")
    command.downgrade(alembic_config(db.url), "anonymous_times")
    columns = {c["name"] for c in inspect(db.engine).get_columns("faq_entries")}
    assert not columns & {"withdrawn_at", "withdrawn_by", "withdrawn_reason"}
    assert "question" in columns
    db.upgrade()
    assert current_revision(db) == _head(db)
    with db.begin() as s:
        # The older schema could not say an entry was withdrawn: after the round trip both are active.
        assert [e.id for e in active_entries(s)] == [kept, gone]


def test_colleague_ratings_go_down_and_up_keeping_the_askers_ratings(db):
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from feedback.colleague_ratings import ColleagueRating, colleague_tally, rate_as_colleague
    from feedback.db import alembic_config, current_revision
    from feedback.people import ensure_user
    from feedback.questions import QuestionLog, log_question, rate_answer

    with db.begin() as s:
        ensure_user(s, "U1")
        qid = log_question(
            s, slack_user_id="U1", lang="zh", question="怎么提交报销单？", answered=True, latency_ms=1.0
        ).id
        rate_answer(s, qid, 1)
        rate_as_colleague(s, qid, "U2", -1, "outdated")
    command.downgrade(alembic_config(db.url), "faq_withdrawal")
    assert "colleague_ratings" not in inspect(db.engine).get_table_names()
    with db.begin() as s:
        assert s.get(QuestionLog, qid).rating == 1
    db.upgrade()
    assert current_revision(db) == "colleague_ratings"
    with db.begin() as s:
        assert colleague_tally(s, qid).not_helpful == 0  # the downgrade forgot them
        rate_as_colleague(s, qid, "U2", 1)
    # The constraint itself, not only the service, keeps one row per person and answer.
    with pytest.raises(IntegrityError), db.begin() as s:
        s.add(ColleagueRating(question_id=qid, slack_user_id="U2", rating=-1))
