import pytest

from feedback.people import UnknownRole, ensure_user, set_role, users_with_roles
from feedback.questions import log_question, rate_answer, recent_questions

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
