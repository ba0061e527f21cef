"""The zh→en ERP glossary that gives Chinese questions an English rendering."""

from __future__ import annotations

from knowledge.crosslingual import english_terms, glossary_matches


def test_longest_term_wins_and_order_follows_the_question():
    assert glossary_matches("供应商账单怎么付款")[0] == ("供应商账单", "vendor bill")
    assert english_terms("库位也要贴条码吗").split()[0] == "location"


def test_a_term_straddling_two_words_is_not_matched():
    # 固定金额 is 固定 | 金额: the 定金 (deposit) across them is not in the question.
    assert "定金" not in [zh for zh, _ in glossary_matches("按每公里固定金额报销")]
    assert ("报销", "expense reimburse") in glossary_matches("按每公里固定金额报销")


def test_a_term_inside_a_longer_word_is_still_matched():
    assert glossary_matches("收货单怎么打印")[0][0] == "收货"


def test_a_question_with_no_erp_term_has_no_rendering():
    assert glossary_matches("食堂今天中午吃什么") == []
    assert english_terms("食堂今天中午吃什么") == ""
