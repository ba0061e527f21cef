"""Write a small knowledge folder for a test: {relative path: dedented text}; and files made to be refused."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping
from pathlib import Path


def write_pages(root: Path, pages: Mapping[str, str]) -> Path:
    for rel, body in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root


def encrypted_pdf() -> bytes:
    """A one-page PDF with a password: ingest refuses it (encrypted_pdf)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def word_list(document, num_id: int, levels: str) -> None:
    """Add a list definition to a python-docx document's numbering.xml: `levels` is its `<w:lvl>`
    elements, and `num_id` both its abstractNumId and the numId paragraphs name."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = document.part.numbering_part.element
    numbering.insert(
        0, parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{num_id}">{levels}</w:abstractNum>')
    )
    numbering.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{num_id}"/></w:num>')
    )


def word_numbered(paragraph, num_id: int, ilvl: int = 0):
    """Put a paragraph on list `num_id` at level `ilvl`, as Word's numbering button does."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )
    return paragraph


def word_manual() -> bytes:
    """A warehouse manual as Word writes one: a Title, a table of contents, headings (Word's, a Chinese
    `标题 2` style of its own, an outline level), steps numbered with Word's numbering button on "List
    Paragraph" with a screenshot in its own paragraph between two of them, a sub-step, a table of fields
    under the section it explains, and pictures with their own, Office's automatic and a linked alt text."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn
    from docx.shared import Inches
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, "PNG")

    def picture(document, alt: str, link: str | None = None):
        paragraph = document.add_paragraph()
        paragraph.add_run().add_picture(io.BytesIO(png.getvalue()), width=Inches(1))
        paragraph._p.xpath(".//wp:docPr")[0].set("descr", alt)
        if link:
            blip = paragraph._p.xpath(".//a:blip")[0]
            del blip.attrib[qn("r:embed")]
            blip.set(qn("r:link"), document.part.relate_to(link, RELATIONSHIP_TYPE.IMAGE, is_external=True))
        return paragraph

    # numId 9 and 4 are the template's decimal lists (9 for the steps, 4 for the sub-steps).
    document = docx.Document()
    document.add_paragraph("仓库操作手册", style="Title")
    document.add_paragraph("收货\t1", style=document.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH))
    document.add_heading("收货", level=1)
    document.add_paragraph("到货后按以下步骤验证收货单。")
    steps = ["打开库存应用，点击“收货”。", "填写实收数量。", "点击“验证”。"]
    word_numbered(document.add_paragraph(steps[0], style="List Paragraph"), 9)
    picture(document, "收货界面")
    word_numbered(document.add_paragraph(steps[1], style="List Paragraph"), 9)
    picture(document, "A screenshot of a computer\n\nDescription automatically generated")
    word_numbered(document.add_paragraph(steps[2], style="List Paragraph"), 9)
    word_numbered(document.add_paragraph("有批次的货物先检查批次号。", style="List Paragraph"), 4, ilvl=1)
    document.add_paragraph("字段说明", style=document.styles.add_style("标题 2", WD_STYLE_TYPE.PARAGRAPH))
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {
        (0, 0): "字段",
        (0, 1): "说明",
        (1, 0): "实收数量",
        (1, 1): "仓库实际点到的数量",
    }.items():
        table.cell(row, col).text = text
    outline = document.add_paragraph("退货")
    outline._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="0"/>'))
    document.add_paragraph("退货前先联系采购员。")
    picture(document, "退货单", link="https://docs.example.com/img/退货单.png")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def word_text_box(paragraph, *lines: str):
    """Anchor a floating text box with these lines to a paragraph, as Word writes one: a drawing for
    Word 2010 on, and the same box again in VML for Word 2007."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    body = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)
    wps = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
    paragraph._p.append(
        parse_xml(
            f'<w:r {nsdecls("w", "wp", "a")} xmlns:wps="{wps}" xmlns:v="urn:schemas-microsoft-com:vml"'
            ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
            '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor>'
            '<wp:docPr id="90" name="Text Box 1"/>'
            f'<a:graphic><a:graphicData uri="{wps}"><wps:wsp><wps:cNvSpPr txBox="1"/>'
            f"<wps:txbx><w:txbxContent>{body}</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp>"
            "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
            '<mc:Fallback><w:pict><v:shape id="Text Box 1"><v:textbox>'
            f"<w:txbxContent>{body}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
            "</mc:AlternateContent></w:r>"
        )
    )
    return paragraph


def pdf_manual(pages: list[list[str]], bookmarks: list[tuple[int, str, int]] = (), title: str = "") -> bytes:
    """A PDF with these lines on its pages in a Chinese font, as Word or WPS exports one (each line its own
    run of text), and bookmarks (depth, heading, 0-based page)."""
    import matplotlib

    matplotlib.use("Agg")
    import pylopdf_fonts_zh_cn
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from pypdf import PdfReader, PdfWriter

    font = pylopdf_fonts_zh_cn.sans_path()
    font_manager.fontManager.addfont(font)
    family = font_manager.FontProperties(fname=font).get_name()
    drawn = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(drawn, metadata={"Title": title}) as pdf:
        for lines in pages:
            figure = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                figure.text(0.08, 0.95 - i * 0.035, line, fontfamily=family, fontsize=10)
            pdf.savefig(figure)
            plt.close(figure)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(drawn.getvalue())))
    parents: dict[int, object] = {}
    for depth, heading, page in bookmarks:
        parents[depth] = writer.add_outline_item(
            title=heading, page_number=page, parent=parents.get(depth - 1)
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def word_footnote(document, paragraph, text: str) -> None:
    """End `paragraph` with a footnote reference to a new footnote saying `text`, as Word's 插入脚注 does
    (python-docx's template has no footnotes part: the first call adds one)."""
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import XmlPart
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    part = next(
        (r.target_part for r in document.part.rels.values() if r.reltype == RELATIONSHIP_TYPE.FOOTNOTES), None
    )
    if part is None:
        separator = (
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        )
        element = parse_xml(f"<w:footnotes {nsdecls('w')}>{separator}</w:footnotes>")
        part = XmlPart(
            PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, element, document.part.package
        )
        document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    note_id = len(part.element.findall(f"{{{part.element.nsmap['w']}}}footnote"))
    part.element.append(
        parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{note_id}"><w:p><w:r><w:footnoteRef/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:footnote>'
        )
    )
    paragraph._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:footnoteReference w:id="{note_id}"/></w:r>'))
