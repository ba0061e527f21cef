"""Training plan blocks: `/erp training`, the App Home section, and reminder DMs."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from bot import ids
from bot.i18n import t
from feedback.surveys import localized
from feedback.training import KnowledgeGap, TrainingItem, module_link

MAX_ITEMS = 15  # a plan longer than this is cut with a "...and N more" line (Block Kit's 50 blocks)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(moment: dt.datetime, tz: str, lang: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return local.strftime("%m月%d日") if lang == "zh-CN" else local.strftime("%d %b")


def status_note(item: TrainingItem, lang: str, tz: str) -> str:
    """ "Due 12 Dec" / "Overdue since ..." / "Done ..." for one module (plain text, no emoji codes)."""
    if item.completed_at is not None:
        return t("training.done", lang, date=_date(item.completed_at, tz, lang))
    if item.overdue:
        return t("training.overdue", lang, date=_date(item.due_at, tz, lang))
    return t("training.due", lang, date=_date(item.due_at, tz, lang))


def home_done_buttons(items: list[TrainingItem], lang: str, limit: int = 5) -> list[dict]:
    """An actions block of "Mark as done: <title>" buttons for App Home's pending trainings."""
    pending = [i for i in items if i.completed_at is None][:limit]
    if not pending:
        return []
    return [
        {
            "type": "actions",
            "block_id": "home_training_done",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"{ids.TRAINING_DONE}:{item.assignment_id}",
                    "text": {
                        "type": "plain_text",
                        "text": f"✓ {t('training.mark_done', lang)}: {localized(item.title, lang)}"[:75],
                    },
                    "value": str(item.assignment_id),
                }
                for item in pending
            ],
        }
    ]


def item_blocks(item: TrainingItem, lang: str, tz: str, docs_base_url: str = "") -> list[dict]:
    """One module: title, due/overdue/done, manual section, and the buttons."""
    lines = [f"*{_escape(localized(item.title, lang))}*", status_note(item, lang, tz)]
    if item.source:
        heading = f" › {item.heading}" if item.heading else ""
        lines.append(
            t("training.manual_section", lang, source=_escape(item.source), heading=_escape(heading))
        )
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    buttons = []
    if item.completed_at is None:
        buttons.append(
            {
                "type": "button",
                "style": "primary",
                "action_id": f"{ids.TRAINING_DONE}:{item.assignment_id}",
                "text": {"type": "plain_text", "text": t("training.mark_done", lang)},
                "value": str(item.assignment_id),
            }
        )
    link = module_link(docs_base_url, item)
    if link:
        buttons.append(
            {
                "type": "button",
                "action_id": f"{ids.TRAINING_MANUAL}:{item.assignment_id}",
                "text": {"type": "plain_text", "text": t("training.open_manual", lang)},
                "url": link[:3000],
            }
        )
    if buttons:
        blocks.append({"type": "actions", "block_id": f"training:{item.assignment_id}", "elements": buttons})
    return blocks


def plan_blocks(items: list[TrainingItem], lang: str, tz: str, docs_base_url: str = "") -> list[dict]:
    """The person's training plan (for `/erp training`)."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": t("training.plan_header", lang)}}
    ]
    if not items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": t("training.empty", lang)}})
        return blocks
    if all(i.completed_at is not None for i in items):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": t("training.all_done", lang)}})
    for item in items[:MAX_ITEMS]:
        blocks.extend(item_blocks(item, lang, tz, docs_base_url))
    if len(items) > MAX_ITEMS:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": t("training.more", lang, count=len(items) - MAX_ITEMS)}
                ],
            }
        )
    return blocks


def reminder_blocks(
    kind: str, items: list[TrainingItem], lang: str, tz: str, docs_base_url: str = ""
) -> tuple[str, list[dict]]:
    intro = t("training.reminder_due_soon" if kind == "due_soon" else "training.reminder_overdue", lang)
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": intro}}]
    for item in items[:MAX_ITEMS]:
        blocks.extend(item_blocks(item, lang, tz, docs_base_url))
    return intro, blocks


def gap_button_value(gap: KnowledgeGap) -> str:
    """The digest's "Make it a training" button carries the gap itself (the report is not stored)."""
    value = {
        "role": gap.role,
        "source": gap.source,
        "heading": gap.heading,
        "count": gap.count,
        "ex": list(gap.examples[:1]),
    }
    text = json.dumps(value, ensure_ascii=False)
    while len(text) > 2000 and value["ex"]:
        value["ex"][0] = value["ex"][0][: len(value["ex"][0]) // 2]
        text = json.dumps(value, ensure_ascii=False)
    return text


def gap_from_button(value: str) -> KnowledgeGap:
    data = json.loads(value)
    return KnowledgeGap(
        data["role"],
        data.get("source"),
        data.get("heading"),
        int(data.get("count", 0)),
        tuple(data.get("ex", [])),
    )
