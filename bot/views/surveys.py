"""Survey DMs and the survey modal (Block Kit), and reading the modal's answers back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot import ids
from bot.i18n import t
from bot.views.text import slack_time
from feedback.surveys import Question, localized


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_when(moment: dt.datetime, tz: str, lang: str) -> str:
    """A survey's deadline as Slack shows it to each reader, in their own time zone; in the company's
    zone (`tz`) where a client cannot format dates."""
    fallback = "%m月%d日 %H:%M" if lang == "zh-CN" else "%a %d %b %H:%M"
    return slack_time(moment, tz, "{date_short_pretty} {time}", fallback_format=fallback)


def time_left(left: dt.timedelta, lang: str) -> str:
    """ "2 天" / "2 days", "5 小时" / "5 hours", or "不到 1 小时" / "less than an hour"."""
    hours = round(left.total_seconds() / 3600)
    if hours >= 24:
        days = round(left.total_seconds() / 86400)
        return t("surveys.left_day" if days == 1 else "surveys.left_days", lang, n=days)
    if hours >= 1:
        return t("surveys.left_hour" if hours == 1 else "surveys.left_hours", lang, n=hours)
    return t("surveys.left_under_an_hour", lang)


def invitation_blocks(
    kind: str,
    round_id: int,
    title: dict[str, str],
    anonymous: bool,
    closes_at: dt.datetime,
    tz: str,
    lang: str,
    *,
    now: dt.datetime | None = None,
    last: bool = False,
) -> tuple[str, list[dict]]:
    """(fallback text, blocks) of a survey invitation (`kind="survey"`) or reminder (`"reminder"`).

    A reminder says how long is left ("closes in 2 days", from `now`), and the last of several says so."""
    name = _escape(localized(title, lang))
    closes = format_when(closes_at, tz, lang)
    if kind == "survey":
        intro = t("surveys.invite_intro", lang, title=name)
    else:
        left = time_left(closes_at - (now or dt.datetime.now(dt.UTC)), lang)
        key = "surveys.last_reminder_intro" if last else "surveys.reminder_intro"
        intro = t(key, lang, title=name, closes=closes, left=left)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": t("surveys.invite_deadline", lang, closes=closes)
                    + "  "
                    + t("surveys.anonymous_note" if anonymous else "surveys.named_note", lang),
                }
            ],
        },
        {
            "type": "actions",
            "block_id": f"survey:{round_id}",
            "elements": [
                {
                    "type": "button",
                    "style": "primary",
                    "action_id": ids.SURVEY_OPEN,
                    "text": {"type": "plain_text", "text": t("surveys.answer_button", lang)},
                    "value": str(round_id),
                }
            ],
        },
    ]
    return intro.replace("*", ""), blocks


def status_blocks(text: str, title: dict[str, str], lang: str) -> list[dict]:
    """What the invitation turns into once answered or closed (no button left to press)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(localized(title, lang))}*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]},
    ]


def _option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}


def _select(options: list[dict], lang: str, action_id: str) -> dict:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": {"type": "plain_text", "text": t("surveys.choose", lang)},
        "options": options,
    }


def survey_modal(
    round_id: int, title: dict[str, str], questions: list[Question], lang: str, message: dict | None = None
) -> dict:
    """The modal with one input per question (one per module for module ratings).

    `message`: {"channel": ..., "ts": ...} of the invitation, so the submission can update it."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": localized(title, lang)[:150]}}
    ]
    for q in questions:
        label = localized(q.text, lang)
        if q.type == "satisfaction":
            options = [_option(t(f"surveys.satisfaction_{i}", lang), str(i)) for i in range(5, 0, -1)]
            blocks.append(_input(f"q:{q.id}", label, _select(options, lang, _action(q.id)), q.optional))
        elif q.type == "nps":
            options = [_option(str(i), str(i)) for i in range(10, -1, -1)]
            blocks.append(
                _input(
                    f"q:{q.id}",
                    label,
                    _select(options, lang, _action(q.id)),
                    q.optional,
                    t("surveys.nps_hint", lang),
                )
            )
        elif q.type == "module_rating":
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(label)}*"}})
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": t("surveys.module_hint", lang)}]}
            )
            options = [_option(t(f"surveys.rating_{i}", lang), str(i)) for i in range(5, 0, -1)]
            for module, module_label in q.modules:
                blocks.append(
                    _input(
                        f"q:{q.id}:{module}",
                        localized(module_label, lang),
                        _select(options, lang, _action(q.id, module)),
                        True,
                    )
                )
        else:
            element = {
                "type": "plain_text_input",
                "action_id": _action(q.id),
                "multiline": True,
                "max_length": 2000,
                "placeholder": {"type": "plain_text", "text": t("surveys.text_placeholder", lang)},
            }
            blocks.append(_input(f"q:{q.id}", label, element, q.optional))
    return {
        "type": "modal",
        "callback_id": ids.SURVEY_MODAL,
        "private_metadata": json.dumps({"round": round_id, **(message or {})}),
        "title": {"type": "plain_text", "text": t("surveys.modal_title", lang)[:24]},
        "submit": {"type": "plain_text", "text": t("surveys.submit", lang)},
        "close": {"type": "plain_text", "text": t("surveys.cancel", lang)},
        "blocks": blocks[:100],
    }


def _action(question_id: str, module: str | None = None) -> str:
    """Action ids must be unique within a view: `answer:<question>[:<module>]`."""
    return f"{ids.SURVEY_ANSWER}:{question_id}" + (f":{module}" if module else "")


def _input(block_id: str, label: str, element: dict, optional: bool, hint: str | None = None) -> dict:
    block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label[:2000]},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def answers_from_state(state_values: dict[str, dict[str, Any]], questions: list[Question]) -> dict[str, Any]:
    """The modal's `view.state.values` -> answers keyed by question id (module ratings as a dict)."""
    answers: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        if not block_id.startswith("q:"):
            continue
        element = next(iter(actions.values()), {})
        value = (
            (element.get("selected_option") or {}).get("value")
            if "selected_option" in element
            else element.get("value")
        )
        if value in (None, ""):
            continue
        parts = block_id.split(":", 2)
        if len(parts) == 3:
            answers.setdefault(parts[1], {})[parts[2]] = int(value)
        else:
            question = next((q for q in questions if q.id == parts[1]), None)
            answers[parts[1]] = value if question is None or question.type == "text" else int(value)
    return answers
