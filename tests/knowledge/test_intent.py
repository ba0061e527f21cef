"""Which chat lines read as questions (a channel that answers every question must stay quiet on chatter)."""

from __future__ import annotations

import pytest

from knowledge.intent import looks_like_question, question_kinds, same_kind


@pytest.mark.parametrize(
    "text",
    [
        "怎么提交报销单？",
        "报销单被退回了怎么办",
        "请问月末盘点在哪里录入数量",
        "采购订单可以取消吗",
        "How do I validate a receipt?",
        "where can I find the vendor bills",
        "<@U0LI> 有人知道收货数量不对怎么处理吗？",
    ],
)
def test_questions(text):
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "大家好，今天下午三点开会",
        "收到，谢谢！",
        "好的？",
        "谁在？",
        "why?",
        "lunch at noon :tada:",
        "Thanks, that worked",
        "https://erp.example.com/web#id=42",
        "<https://erp.example.com/faq?x=1|怎么提交报销单>",
        "周报：" + "本周完成了库存盘点和供应商对账，" * 20 + "有问题吗？",
        "",
    ],
)
def test_not_questions(text):
    assert not looks_like_question(text)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("如何报销", {"how"}),
        ("报销款什么时候到账？", {"when"}),
        ("请假超过3天谁来审批？", {"who"}),
        ("出差住宿的报销标准是多少？", {"how much"}),
        ("为什么我在ERP里看不到某个菜单？", {"why"}),
        ("点创建账单弹了个User Error是咋回事", {"why"}),  # not a how, though 咋 is in it
        ("旧系统的历史订单以后去哪查", {"how"}),
        ("采购订单可以取消吗", {"yes/no"}),
        ("How long does approval take?", {"when"}),
        ("报销款多少天到账？", {"when"}),  # a time, not an amount
        ("How many days until the refund arrives?", {"when"}),
        ("报销限额是多少？", {"how much"}),
        ("physical count doesn't match system, how to fix it", {"how"}),
        ("what is 3 way matching and how do i turn it on", {"how"}),
        # Clause words, not question words: nothing is asked about a time or a person.
        ("pick the lots that expire soonest first when shipping", set()),
        ("How do I remove access for someone who has left?", {"how"}),
        ("Can serial numbers be created automatically when receiving?", {"yes/no"}),
        ("报销单提交以后还能撤回吗？", {"yes/no"}),
        ("汇率怎么手动录入，能不能每天自动更新", {"how", "yes/no"}),
        # "do" after "how", "can" after "who": no clause of their own, so no yes/no question.
        ("How do I validate a receipt?", {"how"}),
        ("Who can approve expense reports?", {"who"}),
        ("What does 3-way matching do?", set()),
    ],
)
def test_what_a_question_asks_for(text, kinds):
    assert question_kinds(text) == kinds


def test_a_when_question_is_not_answered_by_a_how_entry():
    assert not same_kind("如何报销", "报销款什么时候到账？")
    assert same_kind("收货数量不对怎么办", "收货时实收数量比采购订单少怎么办？")
    assert same_kind("who approves a purchase order over 50000", "Who approves a purchase order?")
    assert same_kind("can I edit a receipt after it was validated", "How do I fix a validated receipt?")


def test_a_yes_no_entry_answers_only_a_yes_no_question_and_steps_answer_can_i():
    assert not same_kind("how do I validate a receipt?", "Can I edit a receipt after validating it?")
    assert not same_kind("怎么提交报销单？", "报销单提交以后还能撤回吗？")
    assert same_kind("报销单提交了还能撤回吗", "报销单提交以后还能撤回吗？")
    assert same_kind("期初库存数据导错了能自己改吗", "上线后发现客户或库存的期初数据不对，可以自己改吗？")
    assert same_kind("汇率怎么手动录入，能不能每天自动更新", "外币汇率能自动更新吗？")
    # A bare topic or a what-is question fits any entry.
    assert same_kind("cancel a shipment already sent to the carrier", "Can I cancel a shipment request?")
