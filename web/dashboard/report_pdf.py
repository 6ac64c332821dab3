"""The compiled dialogue-forum report as a PDF (ReportLab, pure Python).

The text is set in DejaVu Sans, shipped in ``fonts/`` beside this module (copied from
Debian's fonts-dejavu-core; the Bitstream Vera licence in ``fonts/LICENSE.txt`` allows it) and
embedded as a subset: Danish letters, dashes and quotes, Greek, Cyrillic, arrows and the
symbols of the Basic Multilingual Plane (✓ ✗ ★ ☺ ❤ ☎) render, and the PDF carries a ToUnicode
map, so its text can be searched and copied. Nothing is downloaded at run time.

Any other character is printed as its Unicode name in brackets, ``[THUMBS UP SIGN]``, never as
a black box or an empty square; invisible joiners, variation selectors and skin tones are
dropped. That covers the characters the font lacks (most emoji, CJK) and every character above
U+FFFF (the emoji planes), even the few DejaVu draws (😀): ReportLab 5 writes such a code point
into the ToUnicode map as five hex digits instead of a UTF-16 pair, so a reader that copies or
searches the PDF would get garbage. The alternative, a monochrome emoji font, is packaged
neither by Debian nor by PyPI (Debian's Noto emoji is a colour bitmap font ReportLab cannot
embed), and a name says what was meant where a missing glyph says nothing.

Every piece of text is XML-escaped before ReportLab's paragraph markup sees it, so an answer
such as ``<script>`` is printed as those characters and never read as markup.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from workflow.dates import format_short
from workflow.exports import CompiledReport

FONT = "AftaleflowDejaVuSans"
FONT_BOLD = "AftaleflowDejaVuSans-Bold"
FONTS = Path(__file__).parent / "fonts"
FONT_FILES = {FONT: FONTS / "DejaVuSans.ttf", FONT_BOLD: FONTS / "DejaVuSans-Bold.ttf"}
#: Invisible characters that shape an emoji (zero-width joiner, variation selectors, skin
#: tones): always dropped, as the emoji they shape is printed as a name.
SILENT = {0x200D, *range(0xFE00, 0xFE10), *range(0x1F3FB, 0x1F400)}


@cache
def _covered() -> frozenset[int]:
    """The code points up to U+FFFF that both the regular and the bold font have a glyph for."""
    from reportlab.pdfbase import pdfmetrics

    _register_fonts()
    faces = [pdfmetrics.getFont(name).face for name in FONT_FILES]
    both = set(faces[0].charToGlyph) & set(faces[1].charToGlyph)
    return frozenset(code for code in both if code <= 0xFFFF)


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, path in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def printable(value: str) -> str:
    """``value`` with every character the fonts lack replaced by its Unicode name in
    brackets (``[THUMBS UP SIGN]``); invisible emoji joiners and selectors dropped."""
    covered = _covered()
    out = []
    for ch in value:
        code = ord(ch)
        if code in SILENT:
            continue
        if code in covered or ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        else:
            out.append(f"[{unicodedata.name(ch, f'U+{code:04X}')}]")
    return "".join(out)


def _text(value: str) -> str:
    """Plain text as paragraph markup: printable, escaped, line breaks kept."""
    return escape(printable(value)).replace("\n", "<br/>")


def report_pdf(report: CompiledReport, made_at: datetime) -> bytes:
    """The report as PDF bytes (A4, page numbers, the parties' names with their answers)."""
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
                f"Dannet {format_short(made_at)}."
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

    def footer(canvas: object, doc: object) -> None:
        from reportlab.pdfgen.canvas import Canvas

        assert isinstance(canvas, Canvas)
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(
            A4[0] - 18 * mm,
            10 * mm,
            printable(f"{report.stage_name} · side {canvas.getPageNumber()}"),
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
