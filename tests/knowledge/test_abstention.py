"""When a search answers and when it says "I don't know", and that the reason says why."""

from __future__ import annotations

from knowledge.ranking import Evidence, SearchTuning, decide

TUNING = SearchTuning()


def chinese(coverage: float, similarity: float, rendered: bool = True) -> Evidence:
    return Evidence("zh", similarity, coverage, 1.0, page_coverage=coverage, rendered=rendered)


def test_a_chinese_question_the_pages_cover_well_is_answered():
    why = decide(chinese(0.8, 0.0, rendered=False), TUNING)
    assert why.answered and str(why).startswith("answered")


def test_a_chinese_question_naming_no_erp_term_needs_more_coverage():
    # The similarity of a question with no glossary term is the raw Chinese one: it must not count.
    why = decide(chinese(0.3, 0.7, rendered=False), TUNING)
    assert not why.answered
    assert "names no ERP term" in str(why)


def test_english_erp_terms_that_match_the_manuals_lift_a_partly_covered_question():
    weak = decide(chinese(0.3, 0.1), TUNING)
    strong = decide(chinese(0.3, 0.6), TUNING)
    assert not weak.answered and strong.answered
    assert "similarity of its ERP terms in English 0.60" in str(strong)


def test_english_needs_similarity_and_coverage_together():
    assert not decide(Evidence("en", 0.45, 0.4, 1.0, page_coverage=0.4, title_coverage=0.5), TUNING).answered
    why = decide(Evidence("en", 0.6, 0.5, 1.0, page_coverage=0.5, title_coverage=0.5), TUNING)
    assert why.answered and "term coverage 50%" in str(why)


def test_an_english_question_that_names_nothing_of_the_answers_title_needs_more_evidence():
    # "how do i generate payslips" landing on Payment terms by its generic words.
    names_it = decide(Evidence("en", 0.55, 0.5, 1.0, page_coverage=0.5, title_coverage=0.6), TUNING)
    names_none = decide(Evidence("en", 0.55, 0.5, 1.0, page_coverage=0.5, title_coverage=0.0), TUNING)
    assert names_it.answered and not names_none.answered
    assert "share of the answer's title named 0%" in str(names_none)


def test_the_bm25_baseline_decides_chinese_by_coverage_alone():
    lexical = SearchTuning(mode="lexical")
    assert decide(chinese(0.3, 0.0, rendered=False), lexical).answered
    assert not decide(chinese(0.2, 0.9), lexical).answered
