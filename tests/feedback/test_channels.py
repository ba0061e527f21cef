"""Channel settings in the database (SQLite and PostgreSQL): defaults, changes, who made them and when."""

from __future__ import annotations

import datetime as dt

import pytest

from feedback.channels import ALL, MENTION, UnknownAnswerMode, channel_config, set_answer_mode, set_scope

T0 = dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC)


def test_an_unconfigured_channel_answers_mentions_only_from_every_manual(db):
    with db.begin() as session:
        config = channel_config(session, "C0FIN")
    assert (config.answer_mode, config.scope, config.updated_by) == (MENTION, (), None)
    assert not config.answers_all


def test_mode_and_scope_are_kept_with_who_changed_them_and_when(db):
    with db.begin() as session:
        set_answer_mode(session, "C0FIN", "ALL", by="UADMIN", now=T0)
    with db.begin() as session:
        set_scope(session, "C0FIN", ["财务", "仓库/盘点.md"], by="UBOSS", now=T0 + dt.timedelta(hours=1))
    with db.begin() as session:
        config = channel_config(session, "C0FIN")
        other = channel_config(session, "C0OPS")
    assert config.answers_all and config.answer_mode == ALL
    assert config.scope == ("财务", "仓库/盘点.md")  # Chinese folder names survive the JSON column
    assert (config.updated_by, config.updated_at) == ("UBOSS", T0 + dt.timedelta(hours=1))
    assert other.answer_mode == MENTION  # one channel's setting is not another's

    with db.begin() as session:
        set_scope(session, "C0FIN", [], by="UADMIN", now=T0)
        set_answer_mode(session, "C0FIN", "mention", by="UADMIN", now=T0)
    with db.begin() as session:
        config = channel_config(session, "C0FIN")
    assert (config.answer_mode, config.scope, config.updated_by) == (MENTION, (), "UADMIN")


def test_an_unknown_mode_is_refused_and_changes_nothing(db):
    with pytest.raises(UnknownAnswerMode), db.begin() as session:
        set_answer_mode(session, "C0FIN", "sometimes", by="UADMIN")
    with db.begin() as session:
        assert channel_config(session, "C0FIN").updated_by is None
