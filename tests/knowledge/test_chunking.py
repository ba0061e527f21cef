"""Passages keep their heading path, fit the model, split Chinese on sentence ends, keep step lists whole."""

from __future__ import annotations

from knowledge.chunking import chunk_document
from knowledge.loaders import Document, Section


def _doc(text: str, path=("Inventory", "Receipts", "Two-step receipt"), lang="en") -> Document:
    return Document(source="inventory/receipts.md", title=path[0], lang=lang, sections=[Section(path, text)])


def test_heading_path_travels_with_every_passage(embedder):
    text = "\n\n".join(
        f"Paragraph {i} about receiving goods into the input location first." for i in range(60)
    )
    passages = chunk_document(_doc(text), embedder.count_tokens, embedder.passage_tokens)
    assert len(passages) > 1
    for p in passages:
        assert p.heading_path == ("Inventory", "Receipts", "Two-step receipt")
        assert p.embed_text.startswith("Inventory › Receipts › Two-step receipt\n")


def test_passages_fit_the_model_limit(embedder):
    long_sentence = " ".join(["warehouse"] * 900)  # one sentence far beyond the limit
    text = long_sentence + "\n\n" + "Short closing paragraph."
    passages = chunk_document(_doc(text), embedder.count_tokens, embedder.passage_tokens)
    sizes = embedder.count_tokens([p.embed_text for p in passages])
    assert max(sizes) <= embedder.passage_tokens
    assert sum(p.text.count("warehouse") for p in passages) == 900  # nothing lost when cutting


def test_chinese_is_split_on_sentence_punctuation(embedder):
    sentences = [f"第{i}步：在库存应用中打开收货单并确认数量。" for i in range(80)]
    sentences[10] = "如果数量不对怎么办？"
    sentences[20] = "请先检查供应商；再联系采购！"
    text = "".join(sentences)  # one paragraph, no newlines
    passages = chunk_document(_doc(text, ("库存", "收货"), "zh"), embedder.count_tokens, 120)
    assert len(passages) > 2
    for p in passages:
        assert p.text[-1] in "。！？；", p.text[-12:]
        assert embedder.count_tokens([p.text])[0] <= 120
    assert "".join(p.text for p in passages) == text


def test_numbered_steps_are_not_cut_when_they_fit(embedder):
    intro = " ".join(["Before you start, check that two-step reception is enabled in the settings."] * 8)
    steps = "\n".join(
        f"{i}. Open the receipt number {i} and click Validate to move the goods." for i in range(1, 9)
    )
    text = f"{intro}\n\n{steps}\n\nAfterwards the goods are in stock."
    passages = chunk_document(_doc(text), embedder.count_tokens, 200)
    holding = [p for p in passages if "1. Open the receipt" in p.text]
    assert len(holding) == 1
    assert steps in holding[0].text  # all eight steps, in one passage, in order


def test_a_list_longer_than_a_passage_is_split_between_items(embedder):
    steps = "\n".join(
        f"{i}. Scan the product barcode and confirm the quantity on the tablet." for i in range(1, 40)
    )
    passages = chunk_document(_doc(steps), embedder.count_tokens, 120)
    assert len(passages) > 1
    for p in passages:
        for line in p.text.splitlines():
            assert (
                line.split(". ", 1)[1] == "Scan the product barcode and confirm the quantity on the tablet."
            )


def test_faq_is_one_passage_of_question_and_answer(embedder):
    doc = Document(
        source="faq.csv#1",
        title="发票开错了？",
        lang="zh",
        kind="faq",
        question="发票开错了？",
        answer="开贷项凭单。",
    )
    [p] = chunk_document(doc, embedder.count_tokens, embedder.passage_tokens)
    assert p.text == "发票开错了？"
    assert p.embed_text == "发票开错了？\n开贷项凭单。"


SHOT = "![注意！收货界面](images/收货 界面.png)"


def test_a_screenshot_is_never_cut_and_search_reads_only_its_alt_text(embedder):
    """A screenshot's alt text may end a sentence (！) and its file name may hold spaces: neither is a
    place to cut. The model and the lexical index read the alt text, not the file name."""
    sentences = [f"第{i}步：在库存应用中打开收货单并确认数量。" for i in range(40)]
    sentences[15] = f"打开收货界面：{SHOT}然后点击验证。"
    long_en = (
        " ".join(["warehouse"] * 60) + " ![Receipt form](images/receipt form.png) " + " ".join(["stock"] * 60)
    )
    for text, lang, budget in (("".join(sentences), "zh", 60), (long_en, "en", 50)):
        passages = chunk_document(_doc(text, ("库存", "收货"), lang), embedder.count_tokens, budget)
        assert len(passages) > 2
        whole = SHOT if lang == "zh" else "![Receipt form](images/receipt form.png)"
        assert sum(whole in p.text for p in passages) == 1, [p.text for p in passages]
        assert not any("](images" in p.text and whole not in p.text for p in passages)
        assert not any("images" in p.embed_text or ".png" in p.embed_text for p in passages)
        alt = "注意！收货界面" if lang == "zh" else "Receipt form"
        assert any(alt in p.embed_text for p in passages)


def test_a_faq_answer_with_a_screenshot_is_searched_by_its_alt_text(embedder):
    doc = Document(
        source="faq.yaml",
        title="收货数量不对？",
        lang="zh",
        kind="faq",
        question="收货数量不对？",
        answer="在收货单上改数量：![收货界面](images/收货 界面.png)",
    )
    [p] = chunk_document(doc, embedder.count_tokens, embedder.passage_tokens)
    assert p.embed_text == "收货数量不对？\n在收货单上改数量：收货界面"
