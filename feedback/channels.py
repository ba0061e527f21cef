"""Per-channel settings: whether the bot answers every question posted in a channel or only @mentions,
and which part of the knowledge base (folders, as source prefixes) the channel searches.

A channel without a row behaves as before: mentions only, every manual. Each change records who made it
and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedback.db import Base, UTCDateTime, utcnow

MENTION = "mention"  # answer only when @mentioned (the default)
ALL = "all"  # also answer questions posted in the channel without a mention
ANSWER_MODES = (MENTION, ALL)


class UnknownAnswerMode(ValueError):
    def __init__(self, mode: str) -> None:
        super().__init__(f"unknown answer mode {mode!r}; choose one of: {', '.join(ANSWER_MODES)}")
        self.mode = mode


class ChannelSetting(Base):
    __tablename__ = "channel_settings"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    answer_mode: Mapped[str] = mapped_column(String(16), default=MENTION)
    # Source prefixes relative to the knowledge root ("财务", "inventory/receipts"); [] = everything.
    scope: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str | None] = mapped_column(String(32))  # Slack user id of the last change
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class ChannelConfig:
    """A channel's settings as plain values (the defaults when nobody configured it)."""

    channel_id: str
    answer_mode: str = MENTION
    scope: tuple[str, ...] = ()
    updated_by: str | None = None
    updated_at: dt.datetime | None = None

    @property
    def answers_all(self) -> bool:
        return self.answer_mode == ALL


def channel_config(session: Session, channel_id: str) -> ChannelConfig:
    row = session.get(ChannelSetting, channel_id)
    if row is None:
        return ChannelConfig(channel_id)
    return ChannelConfig(
        channel_id,
        row.answer_mode if row.answer_mode in ANSWER_MODES else MENTION,
        tuple(row.scope or ()),
        row.updated_by,
        row.updated_at,
    )


def set_answer_mode(
    session: Session, channel_id: str, mode: str, by: str, now: dt.datetime | None = None
) -> ChannelConfig:
    mode = (mode or "").strip().lower()
    if mode not in ANSWER_MODES:
        raise UnknownAnswerMode(mode)
    row = _row(session, channel_id)
    row.answer_mode = mode
    _touch(row, by, now)
    session.flush()
    return channel_config(session, channel_id)


def set_scope(
    session: Session, channel_id: str, scope: Sequence[str], by: str, now: dt.datetime | None = None
) -> ChannelConfig:
    """Set the channel's search scope (source prefixes; empty = everything). Validating the prefixes
    against the knowledge base is the caller's job (it knows the index)."""
    row = _row(session, channel_id)
    row.scope = list(scope)
    _touch(row, by, now)
    session.flush()
    return channel_config(session, channel_id)


def _row(session: Session, channel_id: str) -> ChannelSetting:
    row = session.get(ChannelSetting, channel_id, with_for_update=True)
    if row is None:
        row = ChannelSetting(channel_id=channel_id, answer_mode=MENTION, scope=[])
        session.add(row)
    return row


def _touch(row: ChannelSetting, by: str, now: dt.datetime | None) -> None:
    row.updated_by = by
    row.updated_at = now or utcnow()
