import pytest

from feedback.db import utcnow
from feedback.people import UnknownRole, ensure_user, set_role, users_with_roles
from feedback.questions import (
    attach_rating_reminder,
    log_question,
    rate_answer,
    recent_questions,
    reminded_since,
    take_rating_reminder,
)

ROLES = ["finance", "warehouse", "support"]


def test_role_is_stored_and_unknown_roles_are_refused(db):
    with db.begin() as s:
        set_role(s, "U1", "finance", ROLES)
        ensure_user(s, "U2", slack_locale="en-US")
    with db.begin() as s, pytest.raises(UnknownRole, match="choose one of: finance"):
        set_role(s, "U1", "astronaut", ROLES)
    with db.begin() as s:
        assert [u.slack_user_id for u in users_with_roles(s, ["finance"])] == ["U1"]
        assert [u.slack_user_id for u in users_with_roles(s, None)] == ["U1", "U2"]
        assert users_with_roles(s, None)[1].language == "en"


def test_question_log_keeps_chinese_text_and_rating(db):
    with db.begin() as s:
        ensure_user(s, "U1", slack_locale="zh-CN")
        q = log_question(
            s,
            slack_user_id="U1",
            role="warehouse",
            lang="zh",
            question="如何做两步收货？",
            top_sources=[{"source": "inventory/receipts.md", "score": 0.8}],
            answered=True,
            latency_ms=42.0,
        )
        qid = q.id
    with db.begin() as s:
        rate_answer(s, qid, -1, "outdated")
    with db.begin() as s:
        [entry] = recent_questions(s, "U1")
        assert entry.question == "如何做两步收货？"
        assert (entry.rating, entry.rating_reason) == (-1, "outdated")
        assert entry.created_at.tzinfo is not None


def _question(db, user="U1") -> int:
    with db.begin() as s:
        ensure_user(s, user)
        return log_question(
            s, slack_user_id=user, lang="zh", question="怎么提交报销单？", answered=True, latency_ms=1.0
        ).id


def test_a_rating_takes_the_scheduled_reminder_once(db):
    qid = _question(db)
    with db.begin() as s:
        assert attach_rating_reminder(s, qid, "Q1", utcnow())
    with db.begin() as s:
        rate_answer(s, qid, 1)
        assert take_rating_reminder(s, qid) == "Q1"
    with db.begin() as s:
        rate_answer(s, qid, -1)  # changing one's mind withdraws nothing twice
        assert take_rating_reminder(s, qid) is None
        assert reminded_since(s, "U1", utcnow().replace(year=2000))


def test_a_reminder_scheduled_after_the_rating_is_not_kept(db):
    qid = _question(db)
    with db.begin() as s:
        rate_answer(s, qid, 1)
    with db.begin() as s:
        assert not attach_rating_reminder(s, qid, "Q2", utcnow())
        assert take_rating_reminder(s, qid) is None
