"""Every supported file type and encoding reads right; broken files are refused with a reason."""

from __future__ import annotations

import io

import pytest

from knowledge.loaders import LoadError, decode_bytes, load_file, roles_for_path
from tests.knowledge.pages import (
    encrypted_pdf,
    pdf_manual,
    word_footnote,
    word_list,
    word_manual,
    word_numbered,
    word_text_box,
)


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one line of text, written by hand (pypdf cannot author text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_gbk_file_with_chinese_name_reads_right(tmp_path):
    path = tmp_path / "仓库" / "两步收货.md"
    path.parent.mkdir()
    path.write_bytes("# 两步收货\n\n先收到输入库位，再上架到库存。\n".encode("gbk"))
    [doc] = load_file(path, tmp_path)
    assert doc.source == "仓库/两步收货.md"
    assert doc.title == "两步收货"
    assert doc.lang == "zh"
    assert "先收到输入库位" in doc.sections[0].text


def test_utf8_bom_and_gb18030_decode():
    assert decode_bytes("\ufeff标题".encode()) == "标题"
    assert decode_bytes("库存调整 €".encode("gb18030")) == "库存调整 €"
    assert decode_bytes("Invoice".encode("utf-16")) == "Invoice"


def test_bom_markdown_front_matter_is_parsed(tmp_path):
    path = tmp_path / "receipts.md"
    path.write_bytes(
        "---\ntitle: Receipts\nroles: [warehouse, purchasing]\nlang: en\n---\n# Receipts\n\n## Two-step receipt\n\n"
        "1. Receive\n2. Store\n".encode("utf-8-sig")
    )
    [doc] = load_file(path, tmp_path)
    assert doc.title == "Receipts"
    assert doc.roles == ("warehouse", "purchasing")
    assert doc.sections[0].heading_path == ("Receipts", "Two-step receipt")


def test_malformed_front_matter_is_refused_with_the_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\nroles: warehouse\n---\n# Body\n\ntext\n", encoding="utf-8")
    with pytest.raises(LoadError, match="malformed YAML front matter"):
        load_file(path, tmp_path)


def test_broken_pdf_is_refused(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(LoadError, match="PDF"):
        load_file(path, tmp_path)


def test_markdown_headings_underlined_with_equals_or_dashes_start_sections(tmp_path):
    page = "仓库手册\n========\n\n总述。\n\n收货\n----\n\n1. 打开库存应用\n2. 点击验证\n\n- 批次\n---\n\n长段落的第一行\n最后一行\n---\n"
    path = tmp_path / "仓库手册.md"
    path.write_text(page, encoding="utf-8")
    [doc] = load_file(path, tmp_path)
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (("仓库手册",), "总述。"),
        # a list item above --- is no heading, nor is the last line of a longer paragraph
        (
            ("仓库手册", "收货"),
            "1. 打开库存应用\n2. 点击验证\n\n- 批次\n---\n\n长段落的第一行\n最后一行\n---",
        ),
    ]


def test_a_plain_text_manual_is_cited_by_its_numbered_headings(tmp_path):
    """第一章, 一、, （一）, 1.1: how Chinese documents number their outline. A step (1.) is no heading, nor
    is a numbered sentence (一、到货后先验收，再入库。)."""
    text = (
        "仓库操作手册\n\n本手册适用于仓库管理员。\n\n第一章 收货\n一、验证收货\n1. 打开库存应用\n2. 点击验证\n"
        "二、退货\n退货前先联系采购员。\n（一）部分退货\n只退部分数量时修改数量。\n第二章 盘点\n1.1 月末盘点\n"
        "一、到货后先验收，再入库。\n"
    )
    path = tmp_path / "仓库操作手册.txt"
    path.write_bytes(text.encode("gbk"))
    [doc] = load_file(path, tmp_path)
    assert [(s.heading_path[1:], s.text) for s in doc.sections] == [
        ((), "本手册适用于仓库管理员。"),
        (("第一章 收货", "一、验证收货"), "1. 打开库存应用\n2. 点击验证"),
        (("第一章 收货", "二、退货"), "退货前先联系采购员。"),
        (("第一章 收货", "二、退货", "（一）部分退货"), "只退部分数量时修改数量。"),
        (("第二章 盘点", "1.1 月末盘点"), "一、到货后先验收，再入库。"),
    ]


def test_html_a_markdown_editor_writes_is_read_as_it_shows(tmp_path):
    """Typora resizes a screenshot as an <img> tag; writers break lines with <br>, colour warnings with
    <font> and hide drafts in comments. A button name in angle brackets is not a tag; code keeps its HTML."""
    page = (
        "# 收货\n\n<!-- 草稿：\n这段还没审核 -->\n1. 打开库存应用，点击<确定>。\n"
        '   <img src="images/收货 界面.png" alt="收货界面" style="zoom:50%;" />\n'
        "2. 填写<font color=red>实收数量</font>。<br>注意核对批次。\n\n"
        "| 字段 | 说明 |\n|---|---|\n| 实收数量 | 仓库实际<br/>点到的数量 |\n\n"
        "```html\n<b>加粗</b> <!-- 注释 -->\n```\n"
    )
    path = tmp_path / "仓库" / "收货.md"
    path.parent.mkdir()
    path.write_text(page, encoding="utf-8")
    [doc] = load_file(path, tmp_path)
    assert doc.sections[0].text == (
        "1. 打开库存应用，点击<确定>。\n   ![收货界面](<images/收货 界面.png>)\n2. 填写实收数量。\n   注意核对批次。\n\n"
        "| 字段 | 说明 |\n|---|---|\n| 实收数量 | 仓库实际 点到的数量 |\n\n```html\n<b>加粗</b> <!-- 注释 -->\n```"
    )
    assert "草稿" not in doc.sections[0].text


def test_an_obsidian_page_reads_as_obsidian_shows_it(tmp_path):
    page = (
        "# 收货\n\n> [!warning] 注意\n> 过账后不能修改，见 [[财务/过账规则|过账规则]]、[[盘点]] 和 [[#批次]]。\n\n"
        "1. 打开库存应用\n   ![[收货 界面.png]]\n"
    )
    path = tmp_path / "收货.md"
    path.write_text(page, encoding="utf-8")
    [doc] = load_file(path, tmp_path)
    assert doc.sections[0].text == (
        "> 注意\n> 过账后不能修改，见 过账规则、盘点 和 批次。\n\n1. 打开库存应用\n   ![收货 界面]()"
    )


def test_pdf_text_is_extracted(tmp_path):
    path = tmp_path / "guide.pdf"
    path.write_bytes(_minimal_pdf("Post the vendor bill before paying it"))
    [doc] = load_file(path, tmp_path)
    assert "vendor bill" in doc.sections[0].text


# A warehouse manual exported from Word: a running header and footer on every page, a table of contents,
# and a step the page wrapped ("…填写实收" / "数量。").
_PDF_PAGES = [
    ["仓库操作手册 V2.0", "目录", "第一章 收货 ........................ 2", "1.1 验证收货 ................ 2",
     "第二章 退货 ........................ 3", "第 1 页 共 3 页"],
    ["仓库操作手册 V2.0", "第一章 收货", "到货后按以下步骤验证收货单。", "1.1 验证收货",
     "1. 打开库存应用，点击“收货”按钮，在弹出的窗口中找到对应的采购订单并填写实收", "数量。",
     "2. 点击“验证”。", "第 2 页 共 3 页"],
    ["仓库操作手册 V2.0", "第二章 退货", "退货前先联系采购员，确认退货原因和数量后，在库存应用中打开原收货单并点",
     "击“退货”。", "第 3 页 共 3 页"],
]  # fmt: skip


def test_a_pdf_manual_is_cited_by_its_bookmarks_with_its_wrapped_steps_whole(tmp_path):
    bookmarks = [(0, "第一章 收货", 1), (1, "1.1 验证收货", 1), (0, "第二章 退货", 2)]
    path = tmp_path / "仓库" / "仓库操作手册.pdf"
    path.parent.mkdir()
    path.write_bytes(pdf_manual(_PDF_PAGES, bookmarks, title="仓库操作手册"))
    [doc] = load_file(path, tmp_path)
    assert (doc.title, doc.lang) == ("仓库操作手册", "zh")
    # No header, footer or table of contents in any quote: the bookmarks give the sections.
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (("仓库操作手册", "第一章 收货"), "到货后按以下步骤验证收货单。"),
        (
            ("仓库操作手册", "第一章 收货", "1.1 验证收货"),
            "1. 打开库存应用，点击“收货”按钮，在弹出的窗口中找到对应的采购订单并填写实收数量。\n2. 点击“验证”。",
        ),
        (
            ("仓库操作手册", "第二章 退货"),
            "退货前先联系采购员，确认退货原因和数量后，在库存应用中打开原收货单并点击“退货”。",
        ),
    ]


def test_a_pdf_without_bookmarks_is_cited_by_its_numbered_headings_or_else_by_page(tmp_path):
    bookmarked = tmp_path / "仓库操作手册.pdf"
    bookmarked.write_bytes(
        pdf_manual(_PDF_PAGES, [(0, "第一章 收货", 1), (1, "1.1 验证收货", 1), (0, "第二章 退货", 2)])
    )
    plain = tmp_path / "收货.pdf"
    plain.write_bytes(pdf_manual(_PDF_PAGES))
    [with_bookmarks], [without] = load_file(bookmarked, tmp_path), load_file(plain, tmp_path)
    # 第一章 and 1.1 number the headings as the bookmarks would have
    assert [s.heading_path[1:] for s in without.sections] == [
        s.heading_path[1:] for s in with_bookmarks.sections
    ]
    assert [s.text for s in without.sections] == [s.text for s in with_bookmarks.sections]

    notes = tmp_path / "收货须知.pdf"
    notes.write_bytes(pdf_manual([["收货前先核对送货单。", "第 1 页"], ["有破损当场拍照。", "第 2 页"]]))
    [doc] = load_file(notes, tmp_path)
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (("收货须知", "p. 1"), "收货前先核对送货单。"),
        (("收货须知", "p. 2"), "有破损当场拍照。"),
    ]


def test_chinese_pdf_text_drawn_one_character_at_a_time_is_searched_as_words(tmp_path):
    path = tmp_path / "报销.pdf"
    path.write_bytes(pdf_manual([["报 销 单 需 在 30 天 内 提 交 ， 附 上 发 票 。"]]))
    [doc] = load_file(path, tmp_path)
    assert doc.sections[0].text == "报销单需在 30 天内提交，附上发票。"


def test_an_english_line_the_pdf_page_wrapped_is_joined_with_a_space(tmp_path):
    path = tmp_path / "purchase.pdf"
    lines = [
        "Open the Purchase app, select the request for quotation and click Confirm",
        "Order to turn it into a purchase order.",
        "Then send it to the vendor.",
    ]
    path.write_bytes(pdf_manual([lines]))
    [doc] = load_file(path, tmp_path)
    assert doc.lang == "en"
    assert doc.sections[0].text == (
        "Open the Purchase app, select the request for quotation and click Confirm Order to turn it into a"
        " purchase order.\nThen send it to the vendor."
    )


def test_docx_headings_and_numbered_steps(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Expense claims", level=1)
    document.add_paragraph("Submit receipts within 30 days.")
    document.add_paragraph("Open Expenses", style="List Number")
    document.add_paragraph("Attach the receipt", style="List Number")
    path = tmp_path / "报销.docx"
    document.save(path)
    [doc] = load_file(path, tmp_path)
    section = next(s for s in doc.sections if "Open Expenses" in s.text)
    assert section.heading_path[-1] == "Expense claims"
    assert "1. Open Expenses\n2. Attach the receipt" in section.text


def test_a_word_manual_reads_as_word_shows_it(tmp_path):
    path = tmp_path / "仓库" / "仓库操作手册.docx"
    path.parent.mkdir()
    path.write_bytes(word_manual())
    [doc] = load_file(path, tmp_path)
    assert (doc.title, doc.lang) == ("仓库操作手册", "zh")
    # The table of contents is left out; each heading, whichever way Word made it, starts a section.
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (
            ("仓库操作手册", "收货"),
            # Word's numbering, counted through the screenshot that sits between steps 1 and 2 and kept
            # with step 1; Office's own "Description automatically generated" is no alt text.
            "到货后按以下步骤验证收货单。\n\n1. 打开库存应用，点击“收货”。\n   ![收货界面]()\n"
            "2. 填写实收数量。\n3. 点击“验证”。\n   1. 有批次的货物先检查批次号。",
        ),
        (
            ("仓库操作手册", "收货", "字段说明"),
            "字段 | 说明\n实收数量 | 仓库实际点到的数量",
        ),  # where it stands
        (
            ("仓库操作手册", "退货"),
            "退货前先联系采购员。\n\n![退货单](https://docs.example.com/img/退货单.png)",
        ),
    ]


def test_html_sections_and_ordered_list(tmp_path):
    html = (
        "<html lang='zh-CN'><head><title>采购退货</title><script>x()</script></head><body>"
        "<h2>退货步骤</h2><ol><li>打开采购订单</li><li>点击退货</li></ol></body></html>"
    )
    path = tmp_path / "退货.html"
    path.write_bytes(html.encode("gbk"))
    [doc] = load_file(path, tmp_path)
    assert doc.title == "采购退货" and doc.lang == "zh"
    [section] = doc.sections
    assert section.heading_path == ("采购退货", "退货步骤")
    assert section.text == "1. 打开采购订单\n2. 点击退货"


def test_an_exported_html_page_loses_no_text_outside_paragraphs(tmp_path):
    """As Confluence and CHM exports write pages: a note in a <div>, a tip in a <blockquote>, steps as lines
    with <br>, a nested list, a table of fields, a definition list, and no <body> tag at all."""
    html = (
        "<html><head><title>收货</title><meta charset='gbk'></head>"
        "<h2>验证收货</h2><div class='confluence-information-macro'>注意：过账后不能修改。</div>"
        "<p>按以下步骤操作：<br>1. 打开库存应用<br>2. 点击<b>验证</b></p>"
        "<ol start='3'><li>检查批次<ul><li>批次号在标签上</li></ul></li><li><p>打印收货单</p></li></ol>"
        "<table><caption>字段说明</caption><tr><th>字段</th><th>说明</th></tr>"
        "<tr><td><p>实收数量</p></td><td>仓库实际点到的数量</td></tr></table>"
        "<blockquote>收货有误时联系采购员。</blockquote><!-- 草稿：不要发布 -->"
        "<dl><dt>批次</dt><dd>同一批生产的货物</dd></dl>直接写在页面里的一句话"
    )
    path = tmp_path / "仓库" / "收货.htm"
    path.parent.mkdir()
    path.write_bytes(html.encode("gbk"))
    [doc] = load_file(path, tmp_path)
    [section] = doc.sections
    assert section.heading_path == ("收货", "验证收货")
    assert [line for line in section.text.splitlines() if line] == [
        "注意：过账后不能修改。",
        "按以下步骤操作：",
        "1. 打开库存应用",
        "2. 点击验证",
        "3. 检查批次",
        "   - 批次号在标签上",
        "4. 打印收货单",
        "字段说明",
        "字段 | 说明",
        "实收数量 | 仓库实际点到的数量",
        "收货有误时联系采购员。",
        "批次",
        "同一批生产的货物",
        "直接写在页面里的一句话",
    ]


def test_a_table_that_lays_out_an_html_page_is_read_as_the_page(tmp_path):
    html = (
        "<html><body><table><tr><td><h1>Purchase returns</h1><ol><li>Open the purchase order</li>"
        "<li>Click Return</li></ol></td><td><h2>Refunds</h2><p>Finance refunds within 5 days.</p></td></tr>"
        "</table></body></html>"
    )
    path = tmp_path / "returns.html"
    path.write_text(html, encoding="utf-8")
    [doc] = load_file(path, tmp_path)
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (("Purchase returns",), "1. Open the purchase order\n2. Click Return"),
        (("Purchase returns", "Refunds"), "Finance refunds within 5 days."),
    ]


def test_html_screenshots_become_markdown_screenshots_in_the_steps(tmp_path):
    html = (
        "<html><head><title>收货</title></head><body><h2>验证收货单</h2><ol>"
        "<li>打开收货单 <img src='images/收货 界面.png' alt='收货界面'></li>"
        "<li>点击验证<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt='验证按钮'></li></ol>"
        "<figure><img src='https://cdn.example.com/a.png' alt='[完成]'><figcaption>完成后</figcaption></figure>"
        "<p><img src='done.png'></p></body></html>"
    )
    path = tmp_path / "仓库" / "收货.html"
    path.parent.mkdir()
    path.write_bytes(html.encode("gbk"))
    [doc] = load_file(path, tmp_path)
    [section] = doc.sections
    lines = [line for line in section.text.splitlines() if line]
    assert lines == [
        "1. 打开收货单 ![收货界面](<images/收货 界面.png>)",
        "2. 点击验证 ![验证按钮]()",  # an inline data: image: its name only, nothing to fetch
        "![(完成)](https://cdn.example.com/a.png) 完成后",
        "![](done.png)",
    ]


def test_faq_csv_and_yaml(tmp_path):
    (tmp_path / "faq.csv").write_bytes(
        "question,answer,roles,lang,source\n发票开错了怎么办？,开贷项凭单。,finance,zh,accounting/credit-notes.md\n".encode(
            "gbk"
        )
    )
    (tmp_path / "faq.yaml").write_text(
        "- question: How do I reset my password?\n  answer: Use Forgot password.\n  roles: [hr, sales]\n",
        encoding="utf-8",
    )
    [zh] = load_file(tmp_path / "faq.csv", tmp_path)
    assert (zh.kind, zh.question, zh.roles, zh.lang, zh.cites) == (
        "faq",
        "发票开错了怎么办？",
        ("finance",),
        "zh",
        "accounting/credit-notes.md",
    )
    [en] = load_file(tmp_path / "faq.yaml", tmp_path)
    assert en.roles == ("hr", "sales") and en.lang == "en"


def test_yaml_faq_entries_each_keep_their_own_optional_fields(tmp_path):
    # Only the second entry names a source and roles; they used to be read off the first entry's keys.
    (tmp_path / "常见问题.yaml").write_text(
        "- question: 忘记密码怎么办？\n  answer: 点击“忘记密码”。\n"
        "- question: 报销单能撤回吗？\n  answer: 审批前可以撤回。\n  roles: [finance]\n  source: 财务/费用报销.md\n",
        encoding="utf-8",
    )
    first, second = load_file(tmp_path / "常见问题.yaml", tmp_path)
    assert (first.cites, first.roles) == (None, ())
    assert (second.cites, second.roles) == ("财务/费用报销.md", ("finance",))


def test_csv_without_question_column_is_refused(tmp_path):
    (tmp_path / "pages.csv").write_text("path,title\na.md,A\n", encoding="utf-8")
    with pytest.raises(LoadError, match="'question' and 'answer'"):
        load_file(tmp_path / "pages.csv", tmp_path)


def test_folder_roles_apply_when_the_file_has_none(tmp_path):
    assert roles_for_path("仓库/收货.md", {"仓库": "warehouse"}) == ("warehouse",)
    assert roles_for_path("manuals/finance/ap/bills.md", {"finance/ap": "finance;purchasing"}) == (
        "finance",
        "purchasing",
    )
    assert roles_for_path("general/login.md", {"finance": "finance"}) == ()
    path = tmp_path / "仓库" / "收货.txt"
    path.parent.mkdir()
    path.write_text("收货\n\n扫描条码后确认。", encoding="utf-8")
    [doc] = load_file(path, tmp_path, {"仓库": "warehouse"})
    assert doc.roles == ("warehouse",)


def test_malformed_faq_yaml_is_refused_with_the_line(tmp_path):
    (tmp_path / "常见问题.yaml").write_text(
        "- question: 怎么打印发票？\n  answer: 点击打印。\n- question: 怎么打印?\n  answer: [未闭合\n  roles: finance\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadError, match=r"malformed YAML at line 5: expected ',' or ']'"):
        load_file(tmp_path / "常见问题.yaml", tmp_path)


def test_a_faq_csv_missing_its_answer_column_says_so_and_what_it_may_be_called(tmp_path):
    (tmp_path / "缺列.csv").write_bytes("问题,角色\n盘点怎么做,warehouse\n".encode("gbk"))
    with pytest.raises(LoadError) as caught:
        load_file(tmp_path / "缺列.csv", tmp_path)
    message = str(caught.value)
    assert "no answer column (answer, a, 答案, 回答)" in message and "'问题', '角色'" in message
    assert "no question column" not in message  # 问题 was found: only the answer is missing


def test_faq_entries_without_an_answer_are_named_not_dropped_silently(tmp_path):
    (tmp_path / "常见问题.csv").write_bytes(
        "question,answer\n盘点差异怎么处理？,差异超过5%由仓库主管复核。\n发票丢了怎么办？\n,没有问题的答案\n".encode(
            "gbk"
        )
    )
    problems = []
    [entry] = load_file(tmp_path / "常见问题.csv", tmp_path, warn=problems.append)
    assert entry.question == "盘点差异怎么处理？"
    assert [p.code for p in problems] == ["faq_entry_no_answer", "faq_entry_no_question"]
    assert [str(p) for p in problems] == [
        "entry 2 (发票丢了怎么办？) has no answer; left out",
        "entry 3 (没有问题的答案) has no question; left out",
    ]


@pytest.mark.parametrize(
    ("name", "data", "code", "params"),
    [
        ("空白.md", b"  \n", "empty", {}),
        ("笔记.xyz", b"text", "unsupported_type", {"suffix": ".xyz"}),
        ("旧手册.DOC", b"\xd0\xcf\x11\xe0", "save_as_first", {"suffix": ".doc", "target": ".docx"}),
        (
            "常见问题.xlsx",
            b"\xd0\xcf\x11\xe0",
            "broken_xlsx",
            None,
        ),  # what a password-protected one looks like
        ("加密.pdf", encrypted_pdf(), "encrypted_pdf", {}),
        ("损坏.pdf", b"%PDF-1.4 nope", "broken_pdf", None),
        ("草稿.md", "---\ntitle: [报销\n---\n# 报销\n".encode("gbk"), "malformed_front_matter", None),
        ("乱码.txt", b"abc \xff", "bad_encoding", {"byte": 4}),
    ],
)
def test_a_refused_file_says_why_with_a_code_and_plain_params(tmp_path, name, data, code, params):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(LoadError) as caught:
        load_file(tmp_path / name, tmp_path)
    assert caught.value.code == code
    if params is not None:
        assert dict(caught.value.params) == params
    assert all(isinstance(v, str | int) for v in caught.value.params.values())
    assert str(caught.value) == str(caught.value.reason)  # English, for logs
    if code == "malformed_front_matter":
        assert caught.value.params["line"] == 2 and str(caught.value).startswith(
            "malformed YAML front matter at line 2: "
        )


def test_word_heading_numbers_are_cited_as_word_shows_them(tmp_path):
    """Chapters 第一章, sections 1.1 (a multi-level list on the headings, Arabic from level 2 on)."""
    import docx

    document = docx.Document()
    word_list(
        document,
        50,
        '<w:lvl w:ilvl="0"><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1章"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/><w:isLgl/></w:lvl>',
    )
    for chapter in ("采购", "仓库"):
        for level, text in ((1, chapter), (2, "下单"), (2, "收货")):
            word_numbered(document.add_heading(text, level), 50, level - 1)
            if level == 2:
                document.add_paragraph(f"{chapter}{text}的说明。")
    path = tmp_path / "手册.docx"
    document.save(path)
    [doc] = load_file(path, tmp_path)
    assert [s.heading_path[1:] for s in doc.sections] == [
        ("第一章 采购", "1.1 下单"),
        ("第一章 采购", "1.2 收货"),
        ("第二章 仓库", "2.1 下单"),
        ("第二章 仓库", "2.2 收货"),
    ]


def test_a_paragraph_on_a_blank_bullet_inside_steps_stays_with_its_step(tmp_path):
    """How pandoc (and Word's "no bullet") writes a paragraph indented under a step: a bullet list whose
    bullet is a blank. The steps go on counting and nobody sees a bullet there."""
    import docx

    document = docx.Document()
    word_list(document, 60, '<w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val=" "/></w:lvl>')
    document.add_heading("创建销售订单", 1)
    for text, num_id in (("打开销售应用。", 9), ("客户没有时先新建客户。", 60), ("添加产品并确认。", 9)):
        word_numbered(document.add_paragraph(text), num_id)
    path = tmp_path / "销售.docx"
    document.save(path)
    [doc] = load_file(path, tmp_path)
    assert doc.sections[-1].text == "1. 打开销售应用。\n   客户没有时先新建客户。\n2. 添加产品并确认。"


def test_a_word_text_box_is_read_once_after_the_paragraph_it_is_anchored_to(tmp_path):
    """Callouts ("注意…") sit in floating text boxes anchored to a heading or a step; Word writes each twice
    (a drawing and its VML fallback). Their lines follow the paragraph, so a heading stays a heading."""
    import docx

    document = docx.Document()
    word_text_box(document.add_heading("过账", 1), "注意", "过账后凭证不能修改。")
    word_numbered(document.add_paragraph("打开凭证。"), 9)
    word_text_box(word_numbered(document.add_paragraph("点击“过账”。"), 9), "提示：可批量过账。")
    word_numbered(document.add_paragraph("核对余额。"), 9)
    word_text_box(document.add_paragraph(), "过账有误时联系财务主管。")  # a box anchored to an empty line
    cell = document.add_table(rows=1, cols=2).rows[0].cells
    cell[0].text = "凭证号"
    word_text_box(cell[1].paragraphs[0], "系统自动生成")
    path = tmp_path / "总账.docx"
    document.save(path)
    [doc] = load_file(path, tmp_path)
    [section] = doc.sections
    assert section.heading_path[-1] == "过账"
    assert section.text == (
        "注意\n\n过账后凭证不能修改。\n\n1. 打开凭证。\n2. 点击“过账”。\n   提示：可批量过账。\n3. 核对余额。"
        "\n\n过账有误时联系财务主管。\n\n凭证号 | 系统自动生成"
    )


def test_a_word_manual_written_without_heading_styles_is_cited_by_its_typed_numbers(tmp_path):
    """一、 and （一） typed in body text, as many write Word documents, are its headings; a typed step (1.)
    and a numbered sentence are not."""
    import docx

    document = docx.Document()
    for text in (
        "一、收货",
        "到货后按以下步骤操作。",
        "（一）验证收货",
        "1. 打开库存应用。",
        "2. 点击“验证”。",
        "二、退货",
        "一、退货前先联系采购员，确认数量。",
    ):
        document.add_paragraph(text)
    path = tmp_path / "仓库手册.docx"
    document.save(path)
    [doc] = load_file(path, tmp_path)
    assert [(s.heading_path[1:], s.text) for s in doc.sections] == [
        (("一、收货",), "到货后按以下步骤操作。"),
        (("一、收货", "（一）验证收货"), "1. 打开库存应用。\n\n2. 点击“验证”。"),
        (("二、退货",), "一、退货前先联系采购员，确认数量。"),
    ]
    # A document with heading styles keeps them: a typed 一、 there is body text.
    document.add_heading("三、盘点", 1)
    document.add_paragraph("每月最后一天盘点。")
    document.save(path)
    assert [s.heading_path[1:] for s in load_file(path, tmp_path)[0].sections] == [(), ("三、盘点",)]


def test_word_footnotes_are_marked_where_they_stand_and_follow_their_paragraph(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("月末结账", 1)
    word_footnote(document, document.add_paragraph("每月5日前完成结账。"), "遇节假日顺延。")
    step = word_numbered(document.add_paragraph("锁定会计期间。"), 9)
    word_footnote(document, step, "锁定后只有财务经理能解锁。")
    word_numbered(document.add_paragraph("生成报表。"), 9)
    path = tmp_path / "结账.docx"
    document.save(path)
    [doc] = load_file(path, tmp_path)
    assert doc.sections[-1].text == (
        "每月5日前完成结账。[1]\n\n[1] 遇节假日顺延。\n\n1. 锁定会计期间。[2]\n   [2] 锁定后只有财务经理能解锁。\n2. 生成报表。"
    )


def test_an_excel_faq_is_read_from_every_sheet_that_has_question_and_answer_columns(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    finance = book.active
    finance.title = "财务"
    finance.append(["常见问题（2026 版）"])  # a title row above the header is not the header
    finance.delete_rows(1)
    finance.append([" 问题 ", "答案", "角色"])
    finance.append(["报销要在几天内提交？", 30, "finance"])  # a number as Excel shows it, not 30.0
    finance.append(["发票抬头写什么？", None, "finance"])  # half an entry: left out and reported
    finance.append([None, None, None])
    warehouse = book.create_sheet("仓库")
    warehouse.append(["问题", "答案", "角色", "来源"])
    warehouse.append(["收货数量不对怎么办？", "按实收数量验证并创建欠单。", "warehouse", "仓库/收货.md"])
    notes = book.create_sheet("填写说明")
    notes.append(["说明"])
    notes.append(["每行一个问题"])
    hidden = book.create_sheet("草稿")
    hidden.append(["问题", "答案"])
    hidden.append(["还没审核的问题？", "草稿答案"])
    hidden.sheet_state = "hidden"
    path = tmp_path / "常见问题.xlsx"
    book.save(path)
    warnings = []
    docs = load_file(path, tmp_path, warn=warnings.append)
    assert [(d.question, d.answer, d.roles, d.cites) for d in docs] == [
        ("报销要在几天内提交？", "30", ("finance",), None),
        ("收货数量不对怎么办？", "按实收数量验证并创建欠单。", ("warehouse",), "仓库/收货.md"),
    ]
    assert all(d.kind == "faq" and d.lang == "zh" for d in docs)
    assert [w.code for w in warnings] == ["faq_entry_no_answer"]


def test_an_excel_file_without_faq_columns_names_the_columns_it_has(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["字段", "说明"])
    book.active.append(["实收数量", "仓库实际点到的数量"])
    path = tmp_path / "字段表.xlsx"
    book.save(path)
    with pytest.raises(LoadError) as caught:
        load_file(path, tmp_path)
    assert caught.value.code == "faq_no_question_or_answer_column"
    assert "'字段', '说明'" in caught.value.params["found"]
