"""Asking a question anywhere (Slack or the terminal): search, then log it for digests and the gap report."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.services import Services
from feedback.channels import channel_config
from feedback.questions import QuestionLog, log_question
from knowledge.types import SearchResult

TOP_SOURCES = 5


@dataclass
class Answer:
    result: SearchResult
    question_id: int
    latency_ms: float


def channel_scope(services: Services, channel_id: str | None) -> tuple[str, ...]:
    """The knowledge scope of the conversation a question was asked in: the channel's setting, or
    everything for direct messages (D...), the App Home and modals (no channel)."""
    if not channel_id or channel_id.startswith("D"):
        return ()
    with services.db.begin() as session:
        return channel_config(session, channel_id).scope


def ui_language(question_lang: str | None, *, override: str | None, fallback: str) -> str:
    """The language to answer in: the user's explicit choice, else the language they asked in."""
    if override:
        return override
    if question_lang in ("zh", "zh-CN"):
        return "zh-CN"
    if question_lang == "en":
        return "en"
    return fallback


def ask(
    services: Services,
    question: str,
    *,
    user_id: str | None,
    role: str | None,
    surface: str,
    channel_id: str | None = None,
    follows: str | None = None,
    scope: tuple[str, ...] = (),
) -> Answer:
    """Search the knowledge base for `question` as `role` (within `scope`, source prefixes; () = all)
    and record it in the question log."""
    started = time.perf_counter()
    result = find(services, question, role=role, follows=follows, scope=scope)
    return record(
        services,
        question,
        result,
        (time.perf_counter() - started) * 1000,
        user_id=user_id,
        role=role,
        surface=surface,
        channel_id=channel_id,
    )


def find(
    services: Services,
    question: str,
    *,
    role: str | None,
    follows: str | None = None,
    scope: tuple[str, ...] = (),
) -> SearchResult:
    """The search alone, not yet logged (a question posted in a channel is only logged when answered).

    `follows` is the earlier question of the thread a reply was written in: a follow-up such as
    "被退回了怎么办？" says too little on its own, so when it finds nothing the search is repeated with
    the earlier question in front of it."""
    result = services.knowledge.search(question, role=role, scope=scope)
    if follows and not result.answered:
        in_context = services.knowledge.search(f"{follows} {question}", role=role, scope=scope)
        if in_context.answered:
            result = in_context
    return result


def record(
    services: Services,
    question: str,
    result: SearchResult,
    latency_ms: float,
    *,
    user_id: str | None,
    role: str | None,
    surface: str,
    channel_id: str | None = None,
) -> Answer:
    """Log a searched question as asked (for digests, the gap report and ratings)."""
    top = [
        {
            "source": hit.source,
            "title": hit.title,
            "heading": " › ".join(hit.heading_path),
            "score": round(float(hit.score), 4),
            "kind": hit.kind,
        }
        for hit in result.hits[:TOP_SOURCES]
    ]
    with services.db.begin() as session:
        if user_id:
            from feedback.people import ensure_user

            ensure_user(session, user_id)
        entry = log_question(
            session,
            slack_user_id=user_id,
            role=role,
            lang=result.lang or "",
            question=question,
            top_sources=top,
            answered=bool(result.answered),
            latency_ms=round(latency_ms, 2),
            surface=surface,
            channel_id=channel_id,
        )
    return Answer(result=result, question_id=entry.id, latency_ms=latency_ms)


def remember_message(
    services: Services,
    question_id: int,
    channel_id: str | None,
    ts: str | None,
    thread_ts: str | None = None,
) -> None:
    """Store where the answer was posted (for reminders, status updates and follow-ups): an answer
    posted at the top of a conversation starts its own thread."""
    with services.db.begin() as session:
        entry = session.get(QuestionLog, question_id)
        if entry is not None:
            entry.channel_id = channel_id or entry.channel_id
            entry.message_ts = ts
            entry.thread_ts = thread_ts or ts
