"""Survey, training and digest views: valid Block Kit within Slack's limits, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.views.surveys import answers_from_state, invitation_blocks, survey_modal
from bot.views.training import (
    gap_button_value,
    gap_from_button,
    home_done_buttons,
    plan_blocks,
    reminder_blocks,
)
from feedback.surveys import parse_survey
from feedback.training import KnowledgeGap, TrainingItem

SURVEY = parse_survey(
    {
        "id": "pulse",
        "title": {"zh-CN": "ERP <满意度> & 调查", "en": "ERP pulse"},
        "schedule": "0 10 * * fri",
        "questions": [
            {"id": "overall", "type": "satisfaction", "text": "总体满意度？"},
            {"id": "nps", "type": "nps", "text": "推荐意愿？"},
            {"id": "m", "type": "module_rating", "text": "模块", "modules": [f"模块{i}" for i in range(30)]},
            {"id": "c", "type": "text", "text": "意见"},
        ],
    }
)
CLOSES = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


def _valid(blocks):
    for block in blocks:
        Block.parse(block).validate_json()
    ids_ = [e["action_id"] for b in blocks for e in b.get("elements", []) if "action_id" in e]
    ids_ += [b["element"]["action_id"] for b in blocks if b.get("type") == "input"]
    assert len(ids_) == len(set(ids_)), "action ids must be unique"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("kind", ["survey", "reminder"])
def test_invitation_escapes_titles_and_has_one_button(kind, lang):
    text, blocks = invitation_blocks(kind, 7, SURVEY.title, True, CLOSES, "Asia/Shanghai", lang)
    _valid(blocks)
    assert (
        blocks[-1]["elements"][0]["action_id"] == ids.SURVEY_OPEN
        and blocks[-1]["elements"][0]["value"] == "7"
    )
    if lang == "zh-CN":
        assert (
            "&lt;满意度&gt; &amp;" in blocks[0]["text"]["text"]
            and "11月30日 10:00" in blocks[1]["elements"][0]["text"]
        )
    # Each reader sees the deadline in their own time zone (Slack's date token), the company's as fallback.
    assert f"<!date^{int(CLOSES.timestamp())}^" in blocks[1]["elements"][0]["text"]


@pytest.mark.parametrize(
    ("left", "last", "zh", "en"),
    [
        (dt.timedelta(days=4, hours=-1), False, "温馨提醒", "closes in 4 days"),
        (dt.timedelta(days=2, minutes=-3), True, "最后一次提醒", "Last reminder"),
        (dt.timedelta(hours=25), False, "还剩 1 天", "closes in 1 day"),
        (dt.timedelta(hours=5, minutes=10), False, "还剩 5 小时", "closes in 5 hours"),
        (dt.timedelta(minutes=20), True, "还剩 不足 1 小时", "closes in less than an hour"),
    ],
)
def test_a_reminder_says_how_long_is_left_and_whether_it_is_the_last(left, last, zh, en):
    now = CLOSES - left
    texts = {}
    for lang in ("zh-CN", "en"):
        text, blocks = invitation_blocks(
            "reminder", 7, SURVEY.title, True, CLOSES, "Asia/Shanghai", lang, now=now, last=last
        )
        _valid(blocks)
        texts[lang] = blocks[0]["text"]["text"]
        assert text == texts[lang].replace("*", "")  # the notification text says the same
    assert zh in texts["zh-CN"] and "11月30日 10:00" in texts["zh-CN"]
    assert en in texts["en"] and "Mon 30 Nov 10:00" in texts["en"]
    assert ("之后不再提醒" in texts["zh-CN"]) is last and ("won't remind you again" in texts["en"]) is last


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_modal_fits_slack_and_reads_back(lang):
    modal = survey_modal(7, SURVEY.title, list(SURVEY.questions), lang, {"channel": "D1", "ts": "1.2"})
    View(**modal).validate_json()
    assert len(modal["blocks"]) <= 100 and len(modal["title"]["text"]) <= 24
    _valid(modal["blocks"])
    state = {
        "q:overall": {"answer:overall": {"type": "static_select", "selected_option": {"value": "4"}}},
        "q:nps": {"answer:nps": {"type": "static_select", "selected_option": {"value": "0"}}},
        "q:m:模块3": {"answer:m:模块3": {"type": "static_select", "selected_option": {"value": "2"}}},
        "q:m:模块4": {"answer:m:模块4": {"type": "static_select", "selected_option": None}},
        "q:c": {"answer:c": {"type": "plain_text_input", "value": "好用"}},
    }
    assert answers_from_state(state, list(SURVEY.questions)) == {
        "overall": 4,
        "nps": 0,
        "m": {"模块3": 2},
        "c": "好用",
    }


def _item(i, overdue=False, done=False):
    due = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    return TrainingItem(
        i,
        f"m{i}",
        {"zh-CN": f"培训{i}", "en": f"Training {i}"},
        "sales/报价.md",
        "报价单",
        due,
        due if done else None,
        overdue,
    )


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_training_blocks_are_valid_and_capped(lang):
    items = [_item(i, overdue=i % 2 == 0, done=i == 3) for i in range(40)]
    blocks = plan_blocks(items, lang, "Asia/Shanghai", "https://docs.example.com/erp")
    _valid(blocks)
    assert len(blocks) <= 50
    links = [e["url"] for b in blocks for e in b.get("elements", []) if "url" in e]
    assert links[0] == "https://docs.example.com/erp/sales/报价.md#报价单"
    _, reminder = reminder_blocks("overdue", items[:3], lang, "Asia/Shanghai")
    _valid(reminder)
    _valid(home_done_buttons(items, lang))
    assert len(home_done_buttons(items, lang)[0]["elements"]) == 5


def test_gap_button_round_trips_within_slacks_value_limit():
    gap = KnowledgeGap("warehouse", "inventory/批次.md", "批次号", 7, ("怎么设置批次号？" * 200,))
    value = gap_button_value(gap)
    assert len(value) <= 2000
    back = gap_from_button(value)
    assert (back.role, back.source, back.heading, back.count, back.key) == (
        "warehouse",
        "inventory/批次.md",
        "批次号",
        7,
        gap.key,
    )
