"""The search thesaurus: employees' words (FOB, MIGO, 红冲) find the page that uses the manual's words."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase, KnowledgeBaseError, KnowledgeConfig, with_tuning
from knowledge.synonyms import Thesaurus
from tests.knowledge.pages import write_pages

PAGES = {
    "accounting/incoterms.md": """\
        # Incoterms

        Incoterms are the trade terms printed on customer invoices. Set the default on the Accounting
        settings page, or pick one per invoice in the Other Info tab.
        """,
    "accounting/payment-terms.md": """\
        # Payment terms

        Payment terms define the due date of a customer invoice, for example 30 days after the invoice date.
        """,
    "inventory/receipts.md": """\
        # Receive goods

        1. Open Inventory and the Receipts operation.
        2. Check the quantities against the purchase order.
        3. Click Validate.
        """,
    "zh_CN/财务/贷项通知单.md": """\
        ---
        title: 贷项通知单
        lang: zh
        ---
        # 贷项通知单

        已过账的客户发票不能修改。在发票上点击“添加贷项通知单”，系统生成一张冲销原发票的单据。
        """,
    "zh_CN/仓库/收货.md": """\
        ---
        title: 收货
        lang: zh
        ---
        # 收货

        在库存应用中打开收货作业，核对数量后点击验证。
        """,
}


@pytest.fixture
def corpus(tmp_path):
    return write_pages(tmp_path / "kb", PAGES)


def _kb(tmp_path, embedder, corpus, synonyms_file=None):
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data", synonyms_file=synonyms_file), embedder)
    kb.ingest([corpus])
    return kb


def test_phrases_match_whole_words_longest_first_in_any_inflection():
    thesaurus = Thesaurus([("fob", "incoterms"), ("key fob", "badge"), ("bill of materials", "kit")])
    assert [(m.phrase, m.expansion) for m in thesaurus.matches("Can I clock in with my KEY FOB?")] == [
        ("KEY FOB", "badge")
    ]
    assert [m.phrase for m in thesaurus.matches("two bills of material for one product")] == [
        "bills of material"
    ]
    assert thesaurus.matches("our fobbing office") == []


def test_a_phrase_keeps_its_small_words():
    """ "make to order" is not every question that says "order", nor "clock in" every "clock"."""
    thesaurus = Thesaurus([("make to order", "replenish on order mto"), ("clock in", "attendances kiosk")])
    assert thesaurus.matches("the order was cancelled on amazon, what happens in odoo") == []
    assert thesaurus.matches("the clock is wrong") == []
    assert [m.phrase for m in thesaurus.matches("can we Make To Order this item?")] == ["Make To Order"]


def test_the_builtin_thesaurus_finds_the_page_in_the_manuals_words(tmp_path, embedder, corpus):
    kb = _kb(tmp_path, embedder, corpus)
    question = "which FOB or CIF do we use"
    result = kb.search(question)
    assert result.answered, result.reason
    assert result.best.page == "accounting/incoterms.md"
    # Without the thesaurus the same question has nothing that names FOB.
    assert not with_tuning(kb, synonyms=False).search(question).answered


def test_the_companys_own_phrases_in_english_and_chinese(tmp_path, embedder, corpus):
    own = tmp_path / "公司用语.tsv"
    # GBK, as a file saved by Excel on a Chinese Windows often is.
    own.write_bytes(
        "# 公司的叫法\tmanual words\nmigo\treceipts validate\n红冲\t贷项通知单 credit note\n".encode("gbk")
    )
    kb = _kb(tmp_path, embedder, corpus, synonyms_file=own)
    migo = kb.search("how do I do a MIGO")
    assert migo.answered, migo.reason
    assert migo.best.page == "inventory/receipts.md"
    red = kb.search("要红冲怎么操作")
    assert red.answered, red.reason
    assert red.best.page == "zh_CN/财务/贷项通知单.md"
    # Without the company's file nothing names 红冲: it abstains (and offers a ticket).
    assert not _kb(tmp_path / "plain", embedder, corpus).search("要红冲怎么操作").answered


def test_a_malformed_synonyms_file_is_named_with_its_line(tmp_path, embedder):
    bad = tmp_path / "synonyms.tsv"
    bad.write_text("migo\treceipt\nno tab on this line\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"synonyms.tsv:2: expected 'phrase<TAB>manual words'"):
        KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data", synonyms_file=bad), embedder)
    with pytest.raises(KnowledgeBaseError, match="cannot read the synonyms file"):
        KnowledgeBase(
            KnowledgeConfig(data_dir=tmp_path / "data", synonyms_file=tmp_path / "missing.tsv"), embedder
        )
