"""The shipped sample knowledge base answers its own questions, and Chinese questions in Chinese.

The company KB mixes Chinese pages with shorter English summaries of some of them. A Chinese question
must be answered from the Chinese page when there is one: its English glossary rendering used to pull the
English summary (or an English FAQ entry) to the top.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import evaluation
from knowledge.answers import compose
from knowledge.base import KnowledgeBase, KnowledgeConfig

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "benchmarks" / "questions" / "sample_kb.jsonl"
# English questions, most about pages written only in Chinese (written from the pages alone, 2026-12-07).
QUESTIONS_EN = REPO / "benchmarks" / "questions" / "sample_kb_en.jsonl"


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory, embedder):
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path_factory.mktemp("sample")), embedder)
    report = kb.ingest([REPO / "sample_kb"])
    assert not report.skipped
    return kb


@pytest.fixture(scope="module")
def outcomes(sample_kb):
    return evaluation.run(sample_kb, evaluation.load_questions(QUESTIONS))


def test_chinese_questions_lead_with_the_chinese_page(outcomes):
    metrics = evaluation.score(outcomes)
    # Measured 22/22 Chinese and 6/6 English at rank 1 (before language-fair scoring: 15/22 Chinese, six
    # of the misses English pages); one miss is tolerated, not an English-page habit. One answerable
    # question abstains (我还剩几天年假在哪里看: the page says 剩余假期): 1/28.
    assert metrics.per_lang["zh"]["hit@1"] >= 0.95, metrics.per_lang
    assert metrics.per_lang["en"]["hit@1"] >= 0.95, metrics.per_lang
    assert metrics.abstained_answerable <= 0.05 and metrics.abstained_unanswerable >= 0.75, metrics


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("收货数量不对怎么办", "warehouse/收货与数量差异处理.md"),
        ("采购订单要谁审批", "purchasing/创建采购订单与审批.md"),
        ("收货已经验证了，数量填错了还能改吗", "warehouse/收货与数量差异处理.md"),
    ],
)
def test_a_chinese_question_cites_the_chinese_page_over_its_english_summary(sample_kb, question, page):
    result = sample_kb.search(question, role=None)
    assert result.answered, result.reason
    assert result.hits[0].page == page, [h.source for h in result.hits[:3]]
    assert result.hits[0].lang == "zh"


def test_english_questions_reach_the_pages_written_only_in_chinese(sample_kb):
    metrics = evaluation.score(evaluation.run(sample_kb, evaluation.load_questions(QUESTIONS_EN)))
    # Measured hit@5 0.83 (hit@1 0.375): their English words read back through the glossary search the
    # Chinese pages. Before, 0.50 (0.125): the English quick start and a wrong English page came first.
    assert metrics.per_lang["en"]["hit@5"] >= 0.79, metrics.per_lang
    assert metrics.abstained_unanswerable >= 0.85, metrics


def test_an_english_question_about_leave_is_not_answered_with_purchase_approval(sample_kb):
    # It used to quote the purchase order approval steps: "approve" and "request" are all it shares.
    result = sample_kb.search("How do I approve leave requests?", role=None)
    assert result.hits[0].page == "hr/请假申请.md", [h.source for h in result.hits[:3]]


def test_an_english_question_still_gets_the_english_summary(sample_kb):
    result = sample_kb.search("who approves a purchase order?", role="purchasing")
    assert result.answered, result.reason
    assert result.hits[0].page == "purchasing/purchase-approval-rules-en.md"


def test_a_how_question_quotes_the_steps_not_a_faq_entry_about_when_the_money_arrives(sample_kb):
    # The FAQ entry 报销款什么时候到账？ shares every word of 如何报销 and used to be its answer.
    how = sample_kb.search("如何报销", role=None)
    assert how.answered, how.reason
    assert how.faq is None, how.hits[0].title
    assert how.hits[0].page == "hr/费用报销.md" and how.hits[0].heading_path[-1] == "提交报销"
    assert "提交给经理" in how.hits[0].text

    when = sample_kb.search("报销款什么时候到账", role=None)
    assert when.faq is not None and when.faq.title == "报销款什么时候到账？", when.hits[0].title
    assert "每周二、周五" in when.faq.answer


def test_a_yes_no_entry_does_not_answer_a_how_question_but_is_one_click_away(sample_kb):
    # "Can I edit a receipt after validating it?" shares every word of the question and used to be its answer.
    how = sample_kb.search("how do I validate a receipt?", role="warehouse")
    assert how.answered, how.reason
    assert how.faq is None, how.hits[0].title
    related = [h.text for h in how.related()]
    assert "Can I edit a receipt after validating it?" in related, related
    can = sample_kb.search("can I still edit a receipt after it was validated?", role="warehouse")
    assert can.faq is not None and can.faq.title == "Can I edit a receipt after validating it?"


def test_related_lists_the_faq_entries_about_the_quoted_page_and_the_faq_cites_its_page_by_title(sample_kb):
    how = sample_kb.search("如何报销", role=None)
    assert "报销款什么时候到账？" in [h.text for h in how.related()]
    answer = compose(sample_kb.search("报销款什么时候到账", role=None))
    assert answer.kind == "faq"
    assert (answer.reference.source, answer.reference.citation) == ("hr/费用报销.md", "费用报销")


def test_a_company_phrase_lets_english_questions_find_the_chinese_page(tmp_path, embedder):
    # 调休 (a day off in lieu) is the company's word; no built-in glossary term names it. A knowledge admin
    # adds one line to SYNONYMS_FILE, and an English question finds the Chinese leave policy by it.
    question = "I worked last Saturday, how long do I have to take the day off in lieu?"
    synonyms = tmp_path / "synonyms.tsv"
    synonyms.write_text("调休\tday off in lieu\n", encoding="gbk")
    tops = []
    for synonyms_file in (None, synonyms):
        kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data", synonyms_file=synonyms_file), embedder)
        try:
            if synonyms_file is None:
                kb.ingest([REPO / "sample_kb"])
            tops.append(kb.search(question, role="hr").hits[0].page)
        finally:
            kb.close()
    assert tops[0] != "hr/休假制度说明.txt"
    assert tops[1] == "hr/休假制度说明.txt"


def test_a_weak_third_related_section_is_left_out_and_two_are_always_offered(sample_kb):
    # The third page after the 期初库存 FAQ scored under a third of it (a sales page): filler, not a lead.
    weak = sample_kb.search("期初库存数据导错了能自己改吗", role=None)
    assert weak.answered, weak.reason
    assert len(weak.related()) == 2, [(h.source, h.score / weak.best.score) for h in weak.hits[:4]]
    assert len(compose(weak).related) == 2
    # Three sections that each score well against the answer are all offered.
    strong = sample_kb.search("如何报销", role=None)
    assert len(strong.related()) == 3, [(h.source, h.score / strong.best.score) for h in strong.hits[:4]]
