"""Ingest a small real corpus into real Chroma + BM25 in tmp_path and search it as users would."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import loaders
from knowledge.answers import compose
from knowledge.base import KnowledgeBase, KnowledgeConfig, with_tuning
from tests.knowledge.pages import pdf_manual, write_pages

PAGES = {
    "manuals/warehouse/two-step-receipt.md": """\
        ---
        title: Two-step receipt
        roles: [warehouse]
        lang: en
        zh_version: zh_CN/warehouse/two-step-receipt.md
        ---
        # Two-step receipt

        Goods are first received in the input location, then stored on the shelves.

        ## Configure

        1. Open Inventory ‣ Configuration ‣ Warehouses.
        2. Select the warehouse.
        3. Set Incoming Shipments to "Receive goods in input and then stock".
        """,
    "manuals/zh_CN/warehouse/two-step-receipt.md": """\
        ---
        title: 两步收货
        roles: [warehouse]
        lang: zh
        en_version: warehouse/two-step-receipt.md
        ---
        # 两步收货

        货物先收到进货库位，再上架到库存。

        ## 配置

        1. 打开 库存 ‣ 配置 ‣ 仓库。
        2. 选择仓库。
        3. 把入库设置为“先收到进货库位再入库”。
        """,
    "manuals/finance/credit-notes.md": """\
        ---
        title: Credit notes
        roles: [finance]
        ---
        # Credit notes

        A posted customer invoice cannot be edited. Issue a credit note from the invoice with Add Credit Note.
        """,
    "manuals/warehouse/returns.md": """\
        ---
        title: Customer returns at the warehouse
        roles: [warehouse]
        ---
        # Customer returns at the warehouse

        To process a customer return, open the delivery order, click Return, and validate the return transfer.
        """,
    "manuals/finance/returns.md": """\
        ---
        title: Customer returns in accounting
        roles: [finance]
        ---
        # Customer returns in accounting

        To process a customer return, open the customer invoice, click Credit Note, and validate the refund.
        """,
    "manuals/general/password.md": """\
        # Reset your password

        On the login page click Reset Password and follow the link sent by email.
        """,
}
FAQ = (
    "question,answer,roles,lang,source\n"
    "How do I undo a posted invoice?,Create a credit note from the invoice (Add Credit Note).,finance,en,"
    "finance/credit-notes.md\n"
)


@pytest.fixture
def corpus(tmp_path):
    root = write_pages(tmp_path / "kb", PAGES)
    (root / "faq.csv").write_text(FAQ, encoding="utf-8")
    # A GBK text file with a Chinese name, a broken PDF and a page with malformed front matter.
    (root / "manuals" / "仓库").mkdir()
    (root / "manuals" / "仓库" / "盘点.txt").write_bytes(
        "库存盘点\n\n每月最后一天盘点货架，差异用库存调整入账。".encode("gbk")
    )
    (root / "manuals" / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a pdf at all")
    (root / "manuals" / "bad.md").write_text("---\ntitle: [oops\n---\n# Bad\n\ntext", encoding="utf-8")
    return root


@pytest.fixture
def kb(tmp_path, embedder):
    base = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data"), embedder)
    yield base
    base.close()


def _reasons(report) -> dict[str, str]:
    """Skipped path -> its reason in English, as logs say it."""
    return {path: str(reason) for path, reason in report.skipped}


def test_ingest_reports_files_passages_and_skipped_reasons(kb, corpus):
    report = kb.ingest([corpus])
    assert report.files_seen == 10
    assert report.files_indexed == 8
    assert report.chunks >= 9
    skipped = _reasons(report)
    assert "malformed YAML front matter" in skipped["manuals/bad.md"]
    assert "PDF" in skipped["manuals/broken.pdf"]
    codes = {path: reason.code for path, reason in report.skipped}
    assert codes["manuals/bad.md"] == "malformed_front_matter" and codes["manuals/broken.pdf"] == "broken_pdf"
    assert "manuals/仓库/盘点.txt" in kb.sources
    result = kb.search("每月什么时候盘点货架？")
    assert result.best.source == "manuals/仓库/盘点.txt"
    assert "差异用库存调整入账" in result.best.text


def test_reingest_unchanged_does_no_embedding_work_and_survives_restart(
    kb, corpus, embedder, tmp_path, open_kb
):
    kb.ingest([corpus])
    before = embedder.texts_encoded
    again = kb.ingest([corpus])
    assert (again.files_unchanged, again.files_indexed, again.chunks) == (8, 0, 0)
    assert embedder.texts_encoded == before
    reopened = open_kb(tmp_path / "data")
    assert reopened.ingest([corpus]).chunks == 0
    assert embedder.texts_encoded == before
    assert (
        reopened.search("how do I issue a credit note", role="finance").best.page
        == "manuals/finance/credit-notes.md"
    )


def test_files_of_a_format_read_better_since_are_read_again_without_a_reset(kb, tmp_path, monkeypatch):
    """An index an earlier release made, when a PDF was read page by page: after the upgrade the next ingest
    reads the PDF again, now by its bookmarks, and leaves the unchanged Markdown page alone."""
    root = write_pages(tmp_path / "kb", {"仓库/盘点.md": "# 库存盘点\n\n每月最后一天盘点货架。\n"})
    pages = [["第二章 退货", "退货前先联系采购员，确认退货原因和数量。"]]
    (root / "仓库" / "退货.pdf").write_bytes(pdf_manual(pages, [(0, "第二章 退货", 0)], title="仓库手册"))
    monkeypatch.setitem(loaders.READER_VERSIONS, ".pdf", 1)  # the release before PDF bookmarks were read
    kb.ingest([root])
    monkeypatch.undo()
    report = kb.ingest([root])
    assert (report.files_indexed, report.files_reread, report.files_unchanged) == (1, 1, 1)
    assert kb.ingest([root]).files_unchanged == 2  # read once, then unchanged again
    (root / "仓库" / "退货.pdf").write_bytes(
        pdf_manual(pages + [["另一页"]], [(0, "第二章 退货", 0)], title="仓库手册")
    )
    changed = kb.ingest([root])
    assert (changed.files_indexed, changed.files_reread) == (1, 0)  # a changed file is just changed
    best = kb.search("退货前要联系谁？").best
    assert (best.source, best.heading_path) == ("仓库/退货.pdf", ("仓库手册", "第二章 退货"))


def test_changed_file_is_replaced(kb, corpus, embedder):
    kb.ingest([corpus])
    page = corpus / "manuals/general/password.md"
    page.write_text(
        "# Reset your password\n\nAsk IT at extension 8000 to unlock the account.\n", encoding="utf-8"
    )
    before = embedder.texts_encoded
    report = kb.ingest([corpus])
    assert (report.files_indexed, report.files_unchanged) == (1, 7)
    assert embedder.texts_encoded - before == report.chunks == 1
    best = kb.search("who unlocks my account? extension 8000").best
    assert best.source == "manuals/general/password.md" and "extension 8000" in best.text
    assert not any(
        "email" in h.text for h in kb.search("reset password link email").hits if h.source == best.source
    )


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_deleted_file_leaves_both_indexes(kb, corpus, mode):
    kb.ingest([corpus])
    (corpus / "manuals/general/password.md").unlink()
    report = kb.ingest([corpus])
    assert report.files_removed == 1
    with_tuning(kb, mode=mode)
    sources = [h.source for h in kb.search("reset password login page email link").hits]
    assert "manuals/general/password.md" not in sources
    assert kb.search("process a customer return").hits  # the other pages are still there


REIMBURSEMENT = "# 报销流程\n\n## 提交报销\n\n1. 打开费用模块，点击新建报销单。\n2. 上传发票并填写金额。\n3. 点击“提交给经理”。\n"
RECEIPT = "# 收货\n\n## 验证收货单\n\n1. 打开 库存 ‣ 收货。\n2. 核对数量后点击“验证”。\n"


def _served(kb, question, source):
    """Whether either side of the search (dense or lexical) still returns a passage of `source`."""
    try:
        return any(
            source in [h.source for h in with_tuning(kb, mode=mode).search(question).hits]
            for mode in ("dense", "lexical")
        )
    finally:
        with_tuning(kb, mode="hybrid")


def _write_finance(root):
    (root / "财务").mkdir(parents=True)
    (root / "财务" / "报销流程.md").write_text(REIMBURSEMENT, encoding="utf-8")
    (root / "仓库").mkdir()
    (root / "仓库" / "收货.md").write_text(RECEIPT, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("broken", "reason"),
    [("", "the file is empty"), ("---\ntitle: [报销\n---\n# 报销流程\n", "malformed YAML front matter")],
)
def test_a_file_that_no_longer_loads_stops_being_quoted(kb, tmp_path, embedder, broken, reason, open_kb):
    root = _write_finance(tmp_path / "kb")
    kb.ingest([root])
    assert "打开费用模块" in kb.search("如何报销").best.text

    (root / "财务" / "报销流程.md").write_text(broken, encoding="utf-8")
    report = kb.ingest([root])
    assert (report.files_indexed, report.files_unchanged, report.files_removed) == (0, 1, 1)
    skipped = _reasons(report)
    assert skipped["财务/报销流程.md"].startswith(reason)
    assert skipped["财务/报销流程.md"].endswith("its earlier version was removed from the index")
    assert not _served(kb, "如何报销 打开费用模块 新建报销单", "财务/报销流程.md")
    assert not any("打开费用模块" in h.text for h in kb.search("如何报销").hits)
    # Gone from the manifest too: a fresh process does not know it, and the next run has nothing to withdraw.
    reopened = open_kb(tmp_path / "data")
    assert reopened.sources == ["仓库/收货.md"]
    again = reopened.ingest([root])
    assert again.files_removed == 0 and _reasons(again)["财务/报销流程.md"].startswith(reason)
    assert "earlier version" not in _reasons(again)["财务/报销流程.md"]

    (root / "财务" / "报销流程.md").write_text(REIMBURSEMENT, encoding="utf-8")
    assert reopened.ingest([root]).files_indexed == 1
    assert "打开费用模块" in reopened.search("如何报销").best.text


def test_a_file_that_cannot_be_read_for_now_keeps_its_earlier_version(kb, tmp_path, monkeypatch):
    root = _write_finance(tmp_path / "kb")
    kb.ingest([root])
    page = root / "财务" / "报销流程.md"
    real_read = Path.read_bytes

    def denied(self):  # the OS refusing (tests run as root, so chmod cannot show it)
        if self == page:
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    report = kb.ingest([root])
    assert report.files_removed == 0
    assert _reasons(report)["财务/报销流程.md"] == (
        "cannot read the file: Permission denied; its earlier version stays in the index until it can be read"
    )
    assert "打开费用模块" in kb.search("如何报销").best.text  # still answered from what was indexed


def test_a_moved_knowledge_folder_leaves_nothing_behind(kb, tmp_path, embedder, open_kb):
    old = _write_finance(tmp_path / "知识库")
    kb.ingest([old])
    new = old.rename(tmp_path / "知识库-2025")

    report = kb.ingest([new])
    assert (report.files_indexed, report.files_removed) == (2, 2)  # the old paths' entries
    assert sorted(kb.sources) == ["仓库/收货.md", "财务/报销流程.md"]
    hits = kb.search("如何报销").hits
    assert [h.source for h in hits].count("财务/报销流程.md") == 1

    (new / "财务" / "报销流程.md").unlink()
    assert kb.ingest([new]).files_removed == 1
    assert not _served(kb, "如何报销 打开费用模块 新建报销单", "财务/报销流程.md")
    reopened = open_kb(tmp_path / "data")
    assert reopened.sources == ["仓库/收货.md"]
    assert reopened.ingest([new]).chunks == 0  # unchanged files still cost nothing


def test_ingesting_one_folder_keeps_other_folders_and_faqs_that_still_exist(kb, tmp_path, embedder):
    finance = tmp_path / "财务手册"
    finance.mkdir()
    (finance / "报销流程.md").write_text(REIMBURSEMENT, encoding="utf-8")
    warehouse = tmp_path / "仓库手册"
    warehouse.mkdir()
    (warehouse / "收货.md").write_text(RECEIPT, encoding="utf-8")
    (warehouse / "盘点.md").write_text("# 盘点\n\n每月最后一天盘点货架。\n", encoding="utf-8")
    kb.ingest([finance])
    kb.ingest([warehouse])
    kb.add_faq("T-20", "扫码枪没反应怎么办？", "重新插拔USB接口。", roles=["warehouse"], lang="zh")

    (warehouse / "盘点.md").unlink()
    before = embedder.texts_encoded
    report = kb.ingest([finance])
    assert (report.files_unchanged, report.files_removed) == (1, 1)  # only the deleted page
    assert embedder.texts_encoded == before
    assert sorted(kb.sources) == ["faq:T-20", "报销流程.md", "收货.md"]
    assert kb.search("扫码枪没有反应").faq.source == "faq:T-20"
    assert "打开 库存 ‣ 收货" in kb.search("怎么验证收货单").best.text


def test_role_boost_ranks_own_pages_first_without_hiding_general_ones(kb, corpus):
    kb.ingest([corpus])
    question = "how do I process a customer return?"
    warehouse = kb.search(question, role="warehouse")
    finance = kb.search(question, role="finance")
    assert warehouse.best.source == "manuals/warehouse/returns.md"
    assert finance.best.source == "manuals/finance/returns.md"
    # Pages tagged for other roles and untagged pages stay findable.
    assert (
        "manuals/general/password.md"
        in [h.source for h in kb.search("reset password", role="warehouse").hits][:2]
    )


def test_question_language_picks_the_page_in_that_language(kb, corpus):
    kb.ingest([corpus])
    zh = kb.search("怎么配置两步收货？")
    en = kb.search("How do I configure two-step receipt?")
    assert zh.best.source == "manuals/zh_CN/warehouse/two-step-receipt.md"
    assert en.best.source == "manuals/warehouse/two-step-receipt.md"
    # The translation follows close behind, so either language version is one click away.
    assert "manuals/warehouse/two-step-receipt.md" in [h.source for h in zh.hits[:3]]
    # Steps are quoted intact.
    assert "1. 打开 库存 ‣ 配置 ‣ 仓库。\n2. 选择仓库。\n3." in zh.best.text


def test_faq_is_preferred_and_cites_its_page(kb, corpus):
    kb.ingest([corpus])
    result = kb.search("how can I undo an invoice that is already posted?", role="finance")
    assert result.answered
    assert result.faq is not None and "credit note" in result.faq.answer
    assert result.faq.page == "manuals/finance/credit-notes.md"
    answer = compose(result)
    assert answer.kind == "faq" and answer.reference.source == "manuals/finance/credit-notes.md"
    # Related sections point elsewhere than the page the FAQ already cites.
    assert "manuals/finance/credit-notes.md" not in [h.page for h in result.related()]
    assert result.related() and all(r.source != answer.reference.source for r in answer.related)


def test_off_topic_question_is_abstained(kb, corpus):
    kb.ingest([corpus])
    for question in ("What is on the canteen lunch menu today?", "公司年会是哪一天？"):
        result = kb.search(question)
        assert not result.answered, (question, result.reason)
        assert result.reason.startswith("abstained")
        assert compose(result).kind == "abstain"
    assert kb.search("How do I configure two-step receipt?").answered


def test_add_and_remove_faq_take_effect_at_once(kb, corpus, tmp_path, embedder):
    kb.ingest([corpus])
    kb.add_faq(
        "T-17",
        "扫码枪没反应怎么办？",
        "重新插拔USB，并在设置里选择美式键盘布局。",
        roles=["warehouse"],
        lang="zh",
    )
    result = kb.search("扫码枪没有反应", role="warehouse")
    assert result.answered and result.faq is not None
    assert result.faq.source == "faq:T-17" and "美式键盘" in result.faq.answer
    # Persisted: a fresh process sees it too.
    assert (
        KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data"), embedder)
        .search("扫码枪没有反应")
        .best.source
        == "faq:T-17"
    )
    assert kb.remove_faq("T-17") is True
    assert kb.remove_faq("T-17") is False
    assert "faq:T-17" not in [h.source for h in kb.search("扫码枪没有反应").hits]
    # Re-ingesting the folder leaves run-time FAQs alone.
    kb.add_faq("T-18", "Where is the returns form?", "Inventory ‣ Returns.", roles=[])
    kb.ingest([corpus])
    assert "faq:T-18" in kb.sources


def test_a_running_bot_sees_an_ingest_made_by_another_process(kb, corpus, tmp_path, embedder, open_kb):
    kb.ingest([corpus])
    other = open_kb(tmp_path / "data")  # e.g. `erp-coach ingest`
    (corpus / "manuals/general/vpn.md").write_text(
        "# Connect to the VPN\n\nInstall the client from the intranet and sign in with your ERP account.\n",
        encoding="utf-8",
    )
    other.ingest([corpus])
    result = kb.search("how do I connect to the VPN from home?")
    assert result.best.source == "manuals/general/vpn.md"


def test_a_running_bot_keeps_answering_after_another_process_rebuilds_the_index(
    kb, corpus, tmp_path, embedder, open_kb
):
    # `erp-coach ingest --reset` deletes and re-creates the Chroma collection: the bot's handle pointed at
    # the deleted one and every search failed with "Collection does not exist" until a restart.
    kb.ingest([corpus])
    before = kb.search("每月什么时候盘点货架？").best.source
    other = open_kb(tmp_path / "data")
    other.ingest([corpus], reset=True)
    result = kb.search("每月什么时候盘点货架？")
    assert result.answered and result.best.source == before, result.reason
    kb.add_faq(
        "T-19", "退货单在哪里打印？", "库存 ‣ 退货 ‣ 打印。", roles=[]
    )  # a write after the rebuild too
    assert other.search("退货单在哪里打印").best.source == "faq:T-19"


def test_services_build_the_knowledge_base_from_settings(settings, embedder):
    from bot.services import Services

    services = Services(settings)
    services.__dict__["embedder"] = embedder  # the session's model instead of loading another copy
    kb = services.knowledge
    assert kb is services.knowledge
    assert len(kb) == 0
    assert (settings.data_dir / "chroma").is_dir()


EXPENSES = """\
---
title: 费用报销
roles: [hr, finance]
lang: zh
---
# 费用报销

员工因公垫付的费用在新ERP的“费用”应用里报销，不再使用纸质报销单。

## 报销标准（摘要）

- 市内交通：实报实销，需要打车软件的行程单。
- 所有费用须在发生后60天内提交，逾期不予报销。

## 提交报销

1. 打开 费用 ‣ 我的费用，点击“新建”。
2. 选择费用类别（如“差旅-住宿”），填写日期、金额和说明。
3. 上传发票照片或PDF。
4. 同一次出差的多笔费用，勾选后点击“创建报告”，合并成一张报销单。
5. 在报销单上点击“提交给经理”。

## 报销被退回了

在报销单的沟通记录里可以看到退回原因。按要求修改或补充发票后，重新点击“提交给经理”。
"""


@pytest.fixture
def expenses_kb(tmp_path, embedder, open_kb):
    root = tmp_path / "kb"
    (root / "hr").mkdir(parents=True)
    (root / "hr" / "费用报销.md").write_text(EXPENSES, encoding="utf-8")
    (root / "hr" / "请假.md").write_text(
        "# 请假\n\n## 申请年假\n\n1. 打开 休假 ‣ 我的休假。\n2. 点击“新建”，选择假期类型和日期后提交。\n",
        encoding="utf-8",
    )
    (root / "warehouse").mkdir()
    (root / "warehouse" / "收货.md").write_text(
        "# 收货\n\n## 验证收货单\n\n1. 打开 库存 ‣ 收货。\n2. 核对数量后点击“验证”。\n", encoding="utf-8"
    )
    (root / "warehouse" / "盘点.md").write_text(
        "# 盘点\n\n## 月末盘点\n\n1. 打开 库存 ‣ 盘点。\n2. 录入实盘数量，点击“应用”。\n", encoding="utf-8"
    )
    kb = open_kb(tmp_path / "data")
    kb.ingest([root])
    return kb


def test_how_to_question_quotes_the_section_with_the_steps(expenses_kb):
    # The short "returned" section mentions 提交 and 报销单 too, but the section titled 提交报销 holds the steps.
    answer = compose(expenses_kb.search("如何提交报销单？", role="hr"))
    assert answer.kind == "passage"
    assert answer.reference.citation == "费用报销 › 提交报销"
    assert "1. 打开 费用 ‣ 我的费用" in answer.text and "提交给经理" in answer.text


def test_question_about_another_section_of_the_same_page_quotes_that_section(expenses_kb):
    answer = compose(expenses_kb.search("报销被退回了怎么办？"))
    assert answer.kind == "passage"
    assert answer.reference.citation == "费用报销 › 报销被退回了"


def test_progress_counts_the_passages_still_to_embed(kb, tmp_path):
    root = _write_finance(tmp_path / "kb")
    kb.ingest([root])
    (root / "a-new-page.md").write_text("# New page\n\nSomething new to embed.\n", encoding="utf-8")
    calls = []
    report = kb.ingest([root], progress=lambda done, total, chunks: calls.append((done, total, chunks)))
    assert report.files_indexed == 1 and report.chunks >= 1
    # the new page comes first; the unchanged pages after it must not show 0 passages again
    assert calls[-1] == (report.files_seen, report.files_seen, report.chunks)


def test_a_folder_that_cannot_be_read_for_now_keeps_its_pages(kb, tmp_path, monkeypatch):
    import os

    root = _write_finance(tmp_path / "kb")
    kb.ingest([root])
    folder = str(root / "财务")
    real_scandir = os.scandir

    def denied(path="."):  # a share not answering, or permissions (tests run as root: chmod cannot show it)
        if os.fspath(path) == folder:
            raise PermissionError(13, "Permission denied", folder)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    report = kb.ingest([root])
    assert report.files_removed == 0
    assert _reasons(report)["财务"] == (
        "cannot read the folder: Permission denied; its files' earlier versions stay in the index"
    )
    assert "打开费用模块" in kb.search("如何报销").best.text  # still answered from what was indexed
    monkeypatch.undo()
    (root / "财务" / "报销流程.md").unlink()
    assert kb.ingest([root]).files_removed == 1  # readable again: a deleted page does leave


def test_a_linked_manual_folder_is_indexed_and_a_link_back_up_does_not_loop(kb, tmp_path):
    share = _write_finance(tmp_path / "share")  # say a mounted share of the finance team's manuals
    root = tmp_path / "kb"
    root.mkdir()
    (root / "财务手册").symlink_to(share / "财务", target_is_directory=True)
    (root / "财务手册" / "回到上层").symlink_to(root, target_is_directory=True)  # a link loop
    report = kb.ingest([root])
    assert report.files_indexed == 1 and not report.skipped, report.skipped
    assert kb.sources == ["财务手册/报销流程.md"]
    assert "打开费用模块" in kb.search("如何报销").best.text


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc (Linux)")
def test_a_closed_knowledge_base_lets_go_of_its_files(tmp_path, embedder):
    """Each command (and each test) that opens a knowledge base and closes it leaves no open files behind:
    without close, Chroma kept every store's SQLite and segment files open until the process ended."""

    def open_files() -> int:
        return len(list(Path("/proc/self/fd").iterdir()))

    root = write_pages(
        tmp_path / "知识库", {"仓库/收货.md": "# 收货\n\n## 验收\n\n1. 打开“收货”。\n2. 点击“验证”。\n"}
    )
    with KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "warm"), embedder) as warm:
        warm.ingest([root])  # the first store loads what stays loaded in any case
    before = open_files()
    for i in range(8):
        with KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / f"data{i}"), embedder) as base:
            base.ingest([root])
            assert base.search("怎么验收收货单", role=None).answered
    assert open_files() <= before + 2  # 8 stores: about 90 files if they stayed open
    with KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data0"), embedder) as again:
        assert again.search("怎么验收收货单", role=None).answered  # closing kept the index on disk
