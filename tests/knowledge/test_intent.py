"""Which chat lines read as questions (a channel that answers every question must stay quiet on chatter)."""

from __future__ import annotations

import pytest

from knowledge.intent import looks_like_question


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
