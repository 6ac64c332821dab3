"""The compiled dialogue-forum report as a PDF (ReportLab, pure Python).

The text is set in Bitstream Vera, the TrueType font that ships inside ReportLab's own
package, embedded as a subset: Danish letters (æ, ø, å), dashes and quotes render, and
the PDF carries a ToUnicode map, so its text can be searched and copied. Every piece of
text is XML-escaped before ReportLab's paragraph markup sees it, so an answer such as
``<script>`` is printed as those characters and never read as markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from workflow.calendar import to_local
from workflow.exports import CompiledReport

FONT = "AftaleflowVera"
FONT_BOLD = "AftaleflowVera-Bold"


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    import reportlab

    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def _text(value: str) -> str:
    """Plain text as paragraph markup: escaped, line breaks kept."""
    return escape(value).replace("\n", "<br/>")


def report_pdf(
    report: CompiledReport,
    made_at: datetime,
    *,
    attachments: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
) -> bytes:
    """The report as PDF bytes (A4, page numbers, the parties' names with their answers, and
    the files they attached: per party, each file's text and the address it downloads from)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, textColor=colors.HexColor("#484949"))
    title = ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=18, leading=23)
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=10
    )
    h3 = ParagraphStyle("h3", parent=body, fontName=FONT_BOLD, fontSize=11, leading=15)
    party = ParagraphStyle("party", parent=body, fontName=FONT_BOLD, leftIndent=8, spaceBefore=4)
    answer = ParagraphStyle("answer", parent=body, leftIndent=8)

    story: list[object] = [
        Paragraph(_text(f"Samlet rapport: {report.stage_name}"), title),
        Paragraph(_text(report.title), body),
        Paragraph(
            _text(
                f"{report.answered} af {report.parties} parter har svaret. "
                f"Dannet {to_local(made_at):%d.%m.%Y kl. %H.%M}."
            ),
            small,
        ),
        Spacer(1, 4 * mm),
    ]
    for section in report.sections:
        heading = section.title
        if section.focus_area and section.focus_area != section.title:
            heading += f" ({section.focus_area})"
        story.append(Paragraph(_text(heading), h2))
        for q in section.questions:
            block: list[object] = [Paragraph(_text(q.label), h3)]
            if not q.answers:
                block.append(Paragraph(_text("Ingen svar."), small))
            for a in q.answers:
                late = " – indsendt for sent" if a.late else ""
                block.append(Paragraph(_text(a.party_name + late), party))
                block.append(Paragraph(_text(a.text), answer))
            block.append(Spacer(1, 3 * mm))
            story.append(KeepTogether(block[:3]))
            story.extend(block[3:])

    if attachments:
        story.append(Paragraph(_text("Bilag til svarene"), h2))
        for party_name, files in attachments:
            story.append(Paragraph(_text(party_name), party))
            for text, url in files:
                href = escape(url, {'"': "&quot;"})
                link = f'<a href="{href}" color="#0b5394">{_text(text)}</a>'
                story.append(Paragraph(link, answer))

    def footer(canvas: object, doc: object) -> None:
        from reportlab.pdfgen.canvas import Canvas

        assert isinstance(canvas, Canvas)
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(
            A4[0] - 18 * mm, 10 * mm, f"{report.stage_name} · side {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Samlet rapport: {report.stage_name}",
        author="Aftaleflow",
        lang="da",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
