"""The ERP glossary: Chinese questions get an English rendering, English questions the Chinese terms."""

from __future__ import annotations

from knowledge.crosslingual import (
    adjacent_pairs,
    chinese_matches,
    english_terms,
    glossary,
    glossary_matches,
    reverse_glossary,
)
from knowledge.lexical import tokenize


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


def test_english_words_read_back_to_the_chinese_terms_they_stand_for():
    reverse = reverse_glossary(glossary())
    found = [t.chinese for t in chinese_matches(tokenize("how do I request time off"), reverse)]
    assert "请假" in found and "休假" in found
    assert "供应商账单" in [t.chinese for t in chinese_matches(tokenize("pay a vendor bill"), reverse)]


def test_every_english_word_of_a_term_must_be_there():
    # "lead time" is not time off; "bill" alone is not a vendor bill.
    reverse = reverse_glossary(glossary())
    assert not {"请假", "休假"} & {
        t.chinese for t in chinese_matches(tokenize("what is the lead time"), reverse)
    }
    assert "供应商账单" not in [t.chinese for t in chinese_matches(tokenize("where is my bill"), reverse)]


def test_the_first_two_words_of_a_longer_term_are_enough():
    # 年假 is "annual leave time off": "annual leave" in the question finds it, "leave ... annual" does not;
    # "time off" is not the name of 病假 ("sick time off"), only a part of it.
    reverse = reverse_glossary(glossary())

    def found(question: str) -> set[str]:
        tokens = tokenize(question)
        return {t.chinese for t in chinese_matches(tokens, reverse, adjacent_pairs(tokens))}

    assert "年假" in found("how many days of annual leave do I get")
    assert "年假" not in found("can I leave the annual report unsigned")
    assert "请假" in found("request time off") and "病假" not in found("request time off")


def test_a_company_phrase_brings_its_chinese_manual_words_along():
    reverse = reverse_glossary(glossary([("红冲", "贷项通知单 credit note")]))
    [term] = [t for t in chinese_matches(tokenize("issue a credit note"), reverse) if "红冲" in t.chinese]
    assert term.chinese == "红冲 贷项通知单"
