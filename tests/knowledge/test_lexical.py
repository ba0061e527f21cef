"""Page coverage: how much of a question a page names across all its sections (ranking and abstention
both read it), checked against a plain count of the terms each page holds."""

from __future__ import annotations

import math
import random

import pytest

from knowledge.lexical import LexicalIndex, subwords, tokenize

PASSAGES = {
    "receipt-1": "Validate the receipt: open Inventory, pick the receipt and click Validate.",
    "receipt-2": "Create a backorder when the vendor ships the rest later.",
    "delivery-1": "Validate the delivery order once the goods leave the warehouse.",
    "credit-1": "Issue a credit note from the posted customer invoice.",
    "收货-1": "收货时核对实收数量，然后点击验证。",
    "收货-2": "数量不足时创建欠单，供应商补发后再收货。",
    "红冲-1": "红冲：在已过账的发票上点击冲销，系统生成贷项凭证。",
}


def _expected(index: LexicalIndex, question: str, group: list[str]) -> float:
    """The idf-weighted share of the question's distinct terms that some passage of the group holds
    (a term the index lacks weighs as the rarest one)."""
    held = {t for pid in group if pid in PASSAGES for t in tokenize(PASSAGES[pid])}
    rarest = float(index.idf.max())
    weights = {
        t: float(index.idf[index.vocab[t]]) if t in index.vocab else rarest for t in tokenize(question)
    }
    return sum(w for t, w in weights.items() if t in held) / sum(weights.values())


@pytest.fixture()
def index() -> LexicalIndex:
    idx = LexicalIndex()
    idx.add(list(PASSAGES), list(PASSAGES.values()))
    return idx


@pytest.mark.parametrize(
    "question",
    [
        "how do I validate a receipt and create a backorder?",
        "实收数量不足怎么创建欠单",
        "validate delivery 欠单 zzyzx",
    ],
)
def test_a_page_covers_the_terms_of_all_its_sections(index, question):
    groups = [
        ["receipt-1", "receipt-2"],  # one page, two sections
        ["receipt-2", "receipt-1", "delivery-1"],  # a page and a FAQ that cites it share rows
        ["收货-2", "收货-1"],
        ["delivery-1"],
        ["not-indexed"],
        [],
    ]
    got = index.coverage_of(question, groups)
    assert got == pytest.approx([_expected(index, question, g) for g in groups])
    assert got[4] == got[5] == 0.0


def test_a_page_covers_the_receipt_question_only_with_both_sections(index):
    whole, first, second = index.coverage_of(
        "validate receipt backorder", [["receipt-1", "receipt-2"], ["receipt-1"], ["receipt-2"]]
    )
    assert whole == pytest.approx(1.0)
    assert 0 < first < 1 and 0 < second < 1


def test_a_chinese_term_is_covered_where_the_page_names_its_english_words(index):
    [either, own] = index.coverage_many(
        [[("红冲", "credit note")], [("红冲", "")]], [["credit-1"], ["红冲-1"], ["delivery-1"]]
    )
    assert either == pytest.approx([1.0, 1.0, 0.0])
    assert own == pytest.approx([0.0, 1.0, 0.0])


def test_coverage_follows_passages_removed_and_added(index):
    index.remove(["receipt-1"])
    index.add(["receipt-3"], ["Validate the receipt after counting."])
    [whole] = index.coverage_of("validate receipt backorder", [["receipt-1", "receipt-2"]])
    [renewed] = index.coverage_of("validate receipt backorder", [["receipt-3", "receipt-2"]])
    assert whole < 1.0  # the removed section no longer counts for its page
    assert renewed == pytest.approx(1.0)


def _bm25(texts: list[str], question: str, k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 of each text for the question, from its definition."""
    docs = [tokenize(t) for t in texts]
    avg = sum(map(len, docs)) / len(docs)
    df = {t: sum(t in set(d) for d in docs) for t in {t for d in docs for t in d}}
    scores = []
    for d in docs:
        score = 0.0
        for term in tokenize(question):
            if term in df and d.count(term):
                tf, idf = d.count(term), math.log1p((len(docs) - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg))
        scores.append(score)
    return scores


@pytest.mark.parametrize(
    ("question", "k", "scoped"),
    [
        ("receipt backorder vendor", 10, False),  # one term's postings longer than k, one shorter
        ("收货 欠单 数量", 5, False),
        ("credit note invoice", 200, False),  # k above the matching rows
        ("receipt backorder vendor", 10, True),
    ],
)
def test_search_returns_the_k_best_passages_best_first_and_equal_scores_by_ingest_order(question, k, scoped):
    # Passages recombined from a small vocabulary, many of them identical: ties at and above the cut.
    rng = random.Random(7)
    words = [
        "receipt",
        "backorder",
        "vendor",
        "credit",
        "note",
        "invoice",
        "warehouse",
        "收货",
        "欠单",
        "数量",
    ]
    texts = [" ".join(rng.choices(words, k=rng.randint(1, 4))) for _ in range(400)]
    ids = [f"p{i}" for i in range(len(texts))]
    idx = LexicalIndex()
    idx.add(ids, texts)
    allowed = None
    expected_scores = _bm25(texts, question)
    if scoped:  # a scope keeps the best of its own passages
        inside = {pid for i, pid in enumerate(ids) if i % 3}
        allowed = idx.rows_where(inside)
        expected_scores = [s if ids[i] in inside else 0.0 for i, s in enumerate(expected_scores)]
    rows, scores, coverage = idx.search(question, k, allowed)
    expected = sorted(
        (i for i, s in enumerate(expected_scores) if s > 0), key=lambda i: (-expected_scores[i], i)
    )
    got = [ids.index(idx.ids[r]) for r in rows]
    assert got == expected[:k]
    assert scores == pytest.approx([expected_scores[i] for i in got], rel=1e-5)
    # Coverage: the idf-weighted share of the question's terms each passage holds.
    weight = {t: float(idx.idf[idx.vocab[t]]) for t in tokenize(question)}
    held = [sum(w for t, w in weight.items() if t in tokenize(texts[i])) / sum(weight.values()) for i in got]
    assert coverage == pytest.approx(held, rel=1e-5)
    assert 0 < min(coverage) < max(coverage) == pytest.approx(1.0)


def test_the_share_of_a_title_a_question_names_weighs_its_rare_words_more():
    index = LexicalIndex()
    index.add(
        [f"p{i}" for i in range(6)],
        [
            "Payment terms on invoices",
            "Invoices",
            "Invoices and credit notes",
            "Invoice layout",
            "付款条件",
            "发票",
        ],
    )
    payslips = set(tokenize("how do i generate payslips for this month"))
    assert index.named_share("Payment terms", payslips) == 0.0
    assert index.named_share("Payment terms", set(tokenize("set payment terms"))) == pytest.approx(1.0)
    # "invoice" is on four of six passages, "payment" on one: naming the rare word is most of the title.
    rare = index.named_share("Payment terms on invoices", set(tokenize("payment terms")))
    common = index.named_share("Payment terms on invoices", set(tokenize("invoices")))
    assert rare > 0.8 > 0.2 > common > 0.0
    assert index.named_share("付款条件", set(tokenize("客户的付款条件在哪里设置"))) == pytest.approx(1.0)
    assert index.named_share("unknown words only", payslips) == 0.0


def test_the_bigrams_inside_a_longer_chinese_word_weigh_less_in_the_score_than_the_questions_other_words():
    """报价单 is indexed as 报价单, 报价 and 价单 (so 入库单 meets 入库). Counted in full, a passage that says
    报价单 four times outranked the one with the question's other words; coverage still counts them."""
    passages = {
        "quote-tax": "创建报价单测试：新建报价单，把报价单上的价格表改成含税，报价单总价就是客户要付的金额。",
        "quote-sign": "在线签名：客户打开链接，在网上签名确认后，订单自动确认。",
        "receipt": "收货时核对实收数量，然后点击验证。",
        "backorder": "数量不足时创建欠单，供应商补发后再收货。",
        "credit": "红冲：在已过账的发票上点击冲销，系统生成贷项凭证。",
        "expense": "报销单提交后由经理审批，财务付款。",
    }
    index = LexicalIndex()
    index.add(list(passages), list(passages.values()))
    question = "报价单发给客户后能让他在网上签名确认吗"
    assert subwords(question) == {"报价", "价单"}
    assert subwords("入库单") == set()  # jieba splits it into 入库 | 单: no longer word to look inside

    def ranked(weight: float) -> tuple[list[str], list[float]]:
        rows, _scores, coverage = index.search(question, 2, subword_weight=weight)
        return [index.ids[r] for r in rows], list(coverage)

    assert ranked(1.0)[0] == ["quote-tax", "quote-sign"]
    order, coverage = ranked(0.1)
    assert order == ["quote-sign", "quote-tax"]
    assert coverage == ranked(1.0)[1][::-1]
    # The query's weight counts the bigrams as the score does, so the languages stay on one scale.
    assert index.mass(question, 0.1) < index.mass(question)
    assert index.mass("签名确认", 0.1) == index.mass("签名确认")
