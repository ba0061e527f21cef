"""A search restricted to some folders of the knowledge base (a channel that searches only 财务): it finds the
in-scope page even when out-of-scope pages fill the candidate lists, never answers from outside the scope,
and abstains when nothing inside matches."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase, KnowledgeConfig, with_tuning
from knowledge.scope import in_scope, parse_scope

IN_SCOPE = "财务/差旅报销.md"
IN_SCOPE_EN = "财务/travel-costs.md"
# The 财务 page answers the question, among other things; a dozen pages elsewhere repeat its words more
# often (an archive of old notices), so they would fill both candidate lists of an unscoped search.
PAGES = {
    IN_SCOPE: (
        "---\ntitle: 差旅费用\nlang: zh\n---\n# 差旅费用\n\n## 提交差旅报销单\n\n"
        "出差回来后在 ERP 的“费用”应用中新建报销单，填写出差日期、目的地和金额，上传发票，"
        "然后点击“提交审批”。直属经理审批后，财务在五个工作日内付款。\n\n"
        "## 出差补贴标准\n\n国内出差每天补贴一百元，住宿按城市等级报销。\n"
    ),
    IN_SCOPE_EN: (
        "---\ntitle: Travel costs\nlang: en\n---\n# Travel costs\n\n## Paying back a trip\n\n"
        "Back from a trip, the expense claim is entered in the Expenses app with its receipts, and you "
        "submit it for approval; finance pays travel claims within five days.\n"
    ),
    "仓库/盘点.md": (
        "---\ntitle: 库存盘点\nlang: zh\n---\n# 库存盘点\n\n## 月末盘点\n\n"
        "每月最后一个工作日在“库存”应用中录入清点数量，然后点击“应用”。\n"
    ),
    **{
        f"旧通知/差旅报销通知{n}.md": (
            f"---\ntitle: 差旅报销单提交通知 {n}\nlang: zh\n---\n# 差旅报销单提交通知 {n}\n\n"
            "差旅报销单 提交差旅报销单 差旅报销单提交 报销单 差旅 提交 报销单提交。\n"
            f"\n## How do I submit a travel expense claim? ({n})\n\nHow do I submit a travel expense "
            "claim? Submit the travel expense claim.\n"
        )
        for n in range(12)
    },
}
FAQ = (
    "question,answer,lang,source\n"
    "差旅报销多久到账？,审批通过后五个工作日内付款。,zh,财务/差旅报销.md\n"
    "盘点差异怎么处理？,差异超过 5% 需要仓库主管确认。,zh,仓库/盘点.md\n"
)


@pytest.fixture(scope="module")
def kb(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("scope")
    for rel, text in PAGES.items():
        path = root / "kb" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "kb" / "faq.csv").write_text(FAQ, encoding="utf-8")
    base = KnowledgeBase(KnowledgeConfig(data_dir=root / "data"), embedder)
    assert not base.ingest([root / "kb"]).skipped
    return base


@pytest.fixture
def few_candidates(kb):
    """Candidate lists so short that the twelve notices fill them."""
    saved = kb.tuning
    with_tuning(kb, candidates=5)
    yield kb
    kb.tuning = saved


@pytest.mark.parametrize(
    ("question", "page"),
    [("怎么提交差旅报销单？", IN_SCOPE), ("How do I submit a travel expense claim?", IN_SCOPE_EN)],
)
@pytest.mark.parametrize("exact", [True, False], ids=["scope-vectors", "widened-query"])
def test_scoped_search_finds_the_in_scope_page_the_others_crowd_out(few_candidates, question, page, exact):
    kb = few_candidates
    if not exact:
        with_tuning(kb, scope_exact_limit=0)  # a scope too big to rank exactly: widened query instead
    unscoped = kb.search(question)
    assert page not in [h.source for h in unscoped.hits]  # crowded out: what the scope must prevent
    scoped = kb.search(question, scope=("财务",))
    assert scoped.answered, scoped.reason
    assert scoped.best.source == page
    assert all(in_scope(h.page, ("财务",)) for h in scoped.hits)


def test_nothing_in_scope_matches_so_it_abstains_rather_than_answer_from_outside(kb):
    everywhere = kb.search("怎么提交差旅报销单？")
    assert everywhere.answered  # the notices and the 财务 page would answer it
    result = kb.search("怎么提交差旅报销单？", scope=("仓库",))
    assert not result.answered
    assert all(h.page.startswith("仓库/") for h in result.hits)


def test_a_faq_is_in_the_scope_of_the_page_it_cites(kb):
    result = kb.search("差旅报销多久到账？", scope=("财务",))
    assert result.faq is not None and "五个工作日" in result.faq.answer
    other = kb.search("差旅报销多久到账？", scope=("仓库",))
    assert other.faq is None or "五个工作日" not in (other.faq.answer or "")


def test_no_scope_or_an_empty_one_searches_everything(kb):
    for scope in (None, (), "", " , "):
        assert kb.search("月末盘点怎么做？", scope=scope).best.page == "仓库/盘点.md"


def test_a_scope_of_unindexed_folders_abstains_and_is_reported(kb):
    result = kb.search("月末盘点怎么做？", scope=("人事",))
    assert not result.answered and result.hits == [] and "人事" in result.reason
    assert kb.empty_scopes("财务，人事、仓库/盘点.md") == ["人事"]
    assert kb.folders() == ["仓库", "旧通知", "财务"]


def test_scope_parsing_and_matching():
    assert parse_scope("财务, ./仓库/ ，财务、 Inventory") == ("财务", "仓库", "Inventory")
    assert in_scope("inventory/receipts.md", ("Inventory",))
    assert in_scope("财务/费用报销.md", ("财务",)) and not in_scope("财务2/费用报销.md", ("财务",))
    assert in_scope("faq.yaml#pw", ("faq.yaml",)) and in_scope("x.md", ())


def test_a_faq_entry_added_from_a_ticket_answers_in_every_scope(kb):
    """Support's answers (resolve -> Add to FAQ) cite no page: they belong to no folder, so a channel
    that searches only 财务 gets them as much as an unscoped one."""
    kb.add_faq(
        "db-7",
        "打印机连不上ERP怎么办？",
        "在 设置 ‣ 打印机 里重新选择默认打印机，然后重新登录。",
        roles=[],
        source="faq/db/7",
    )
    try:
        for scope in (None, ("财务",), ("仓库",)):
            result = kb.search("打印机连不上ERP怎么办", scope=scope)
            assert result.answered and result.faq is not None, (scope, result.reason)
            assert "重新选择默认打印机" in result.faq.answer
    finally:
        kb.remove_faq("db-7")
