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
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from web.dashboard.charts import Chart, report_charts
from web.dashboard.report_texts import decimal, percent
from web.dashboard.templating import moment
from web.dashboard.texts import dt
from workflow.report import CompiledReport, ReportSection
from workflow.summaries import SummaryVersion, blocks
from workflow.synthesis import QuestionFigures

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


def _draw(value: str) -> str:
    """Text for a drawing's strings (no paragraph markup there, so nothing to escape)."""
    return printable(value)


#: The width of the text column on A4 with 18 mm margins, in points.
COLUMN = 595.2756 - 2 * 18 * 72 / 25.4
TEXT = "#0b0c0c"
BAR = "#1d70b8"
TRACK = "#e8e8e8"


def chart_drawing(c: Chart) -> Any:
    """The page's bar chart drawn with ReportLab's own shapes (text stays text)."""
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors

    d = Drawing(c.width, c.height)
    for b in c.bars:
        top = c.height - b.bar_y - c.bar_height  # ReportLab counts from the bottom
        d.add(
            String(
                4,
                c.height - b.label_y,
                _draw(b.label),
                fontName=FONT,
                fontSize=8.5,
                fillColor=colors.HexColor(TEXT),
            )
        )
        d.add(
            Rect(4, top, c.track, c.bar_height, fillColor=colors.HexColor(TRACK), strokeColor=None)
        )
        if b.length:
            d.add(
                Rect(
                    4, top, b.length, c.bar_height, fillColor=colors.HexColor(BAR), strokeColor=None
                )
            )
        d.add(
            String(
                b.value_x,
                top + 3.5,
                _draw(b.value),
                fontName=FONT_BOLD,
                fontSize=8.5,
                fillColor=colors.HexColor(TEXT),
            )
        )
    return d


class _Styles:
    def __init__(self) -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle

        self.body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
        self.small = ParagraphStyle(
            "small",
            parent=self.body,
            fontSize=8.5,
            leading=11,
            textColor=colors.HexColor("#484949"),
        )
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8.5, leading=11)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=FONT_BOLD)
        self.title = ParagraphStyle(
            "title", parent=self.body, fontName=FONT_BOLD, fontSize=18, leading=23
        )
        self.h2 = ParagraphStyle(
            "h2", parent=self.body, fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=10
        )
        self.h3 = ParagraphStyle(
            "h3", parent=self.body, fontName=FONT_BOLD, fontSize=11, leading=15, spaceBefore=6
        )
        self.party = ParagraphStyle("party", parent=self.body, fontName=FONT_BOLD, spaceBefore=4)
        self.item = ParagraphStyle("item", parent=self.body, leftIndent=12, bulletIndent=2)


def report_pdf(
    report: CompiledReport,
    made_at: datetime,
    *,
    attachments: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
) -> bytes:
    """The report as PDF bytes (A4, page numbers): the secretariat's summaries, the
    coverage, per question its chart and figures, in the page's language, and the files the
    parties attached (per party, each file's text and the address it downloads from)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    _register_fonts()
    st = _Styles()
    heading = f"{dt('report_title')}: {report.stage_name}"
    story: list[Any] = [
        Paragraph(_text(heading), st.title),
        Paragraph(_text(report.title), st.body),
        Paragraph(
            _text(
                f"{dt('report_answered', answered=report.answered, parties=report.parties)} "
                f"{dt('report_made', at=moment(made_at))}"
            ),
            st.small,
        ),
        Spacer(1, 4 * mm),
    ]
    if report.summary is not None:
        story.append(Paragraph(_text(dt("summary_overall")), st.h2))
        story += _summary(report.summary, st)
    story += _coverage(report, st)
    drawings = report_charts(report, width=COLUMN)
    for sec in report.sections:
        story += _section(sec, report, drawings, st)

    if attachments:
        story.append(Paragraph(_text(dt("report_attachments")), st.h2))
        for party_name, files in attachments:
            story.append(Paragraph(_text(party_name), st.party))
            for text, url in files:
                href = escape(url, {'"': "&quot;"})
                story.append(
                    Paragraph(f'<a href="{href}" color="#0b5394">{_text(text)}</a>', st.body)
                )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(
            A4[0] - 18 * mm,
            10 * mm,
            printable(f"{report.stage_name} · {canvas.getPageNumber()}"),
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
        title=heading,
        author="Aftaleflow",
        lang="da",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _summary(version: SummaryVersion, st: _Styles) -> list[Any]:
    from reportlab.platypus import Paragraph

    out: list[Any] = []
    for block in blocks(version.text):
        if block.kind == "item":
            out.append(Paragraph(_text(block.text), st.item, bulletText="•"))
        else:
            out.append(Paragraph(_text(block.text), st.body))
    by = dt(
        "summary_by", version=version.version, author=version.author, at=moment(version.saved_at)
    )
    out.append(Paragraph(_text(by), st.small))
    return out


def _table(header: list[str], rows: list[list[str]], widths: list[float], st: _Styles) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    data = [[Paragraph(_text(dt(h)), st.head) for h in header]]
    data += [[Paragraph(_text(v), st.cell) for v in r] for r in rows]
    table = Table(data, colWidths=[w * COLUMN for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor(TEXT)),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, colors.HexColor("#b1b4b6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _coverage(report: CompiledReport, st: _Styles) -> list[Any]:
    from reportlab.platypus import Paragraph

    cov = report.synthesis.coverage
    line = dt(
        "report_coverage_line",
        answered=cov.count("answered"),
        late=cov.count("late"),
        exempt=cov.count("exempt"),
        missing=cov.count("missing"),
    )
    version = dt(
        "report_version",
        title=report.synthesis.questionnaire_title,
        id=cov.questionnaire_id,
        version=cov.questionnaire_version,
        hash=cov.definition_hash,
    )
    return [
        Paragraph(_text(dt("report_coverage")), st.h2),
        Paragraph(_text(line), st.body),
        Paragraph(_text(version), st.small),
        _table(
            ["report_col_party", "report_col_status", "report_col_version", "report_col_submitted"],
            [
                [
                    x.name,
                    dt(f"report_status_{x.status}") + (f" ({dt('by_mail')})" if x.by_mail else ""),
                    "–" if x.version is None else str(x.version),
                    moment(x.submitted_at) or "–",
                ]
                for x in cov.lines
            ],
            [0.34, 0.22, 0.16, 0.28],
            st,
        ),
    ]


def _section(
    sec: ReportSection, report: CompiledReport, drawings: dict[str, Chart], st: _Styles
) -> list[Any]:
    from reportlab.platypus import KeepTogether, Paragraph

    heading = sec.title
    if sec.focus_area and sec.focus_area != sec.title:
        heading += f" ({sec.focus_area})"
    out: list[Any] = [Paragraph(_text(heading), st.h2)]
    if sec.summary is not None:
        out.append(Paragraph(_text(dt("summary_heading")), st.h3))
        out += _summary(sec.summary, st)
    for q in sec.questions:
        head = [Paragraph(_text(q.label), st.h3)]
        body = _question(q, report.answered, drawings.get(q.id), st)
        out.append(KeepTogether(head + body[:2]))
        out += body[2:]
    return out


def _question(q: QuestionFigures, of: int, c: Chart | None, st: _Styles) -> list[Any]:
    from reportlab.platypus import Paragraph

    if not q.answered:
        return [Paragraph(_text(dt("report_no_answers")), st.small)]
    out: list[Any] = [Paragraph(_text(dt("report_n", n=q.answered, of=of)), st.small)]
    if c is not None:
        out.append(chart_drawing(c))
    if q.is_choice:
        note = dt("report_ranking_note")
        if q.type == "multiple_choice":
            note += " " + dt("report_multiple_note")
        out.append(
            _table(
                [
                    "report_col_rank",
                    "report_col_option",
                    "report_col_count",
                    "report_col_share",
                    "report_col_parties",
                ],
                [
                    [str(o.rank), o.label, str(o.count), percent(o.share), ", ".join(o.parties)]
                    for o in q.ranking
                ],
                [0.1, 0.34, 0.09, 0.1, 0.37],
                st,
            )
        )
        out.append(Paragraph(_text(note), st.small))
    elif q.type == "scale":
        out.append(
            Paragraph(
                _text(
                    dt(
                        "report_mean_median",
                        mean=decimal(q.mean),
                        median=decimal(q.median),
                        min=q.counts[0].value,
                        max=q.counts[-1].value,
                    )
                ),
                st.party,
            )
        )
        out.append(
            _table(
                ["report_col_point", "report_col_parties"],
                [
                    [f"{p.value} {p.label}".strip(), ", ".join(p.parties)]
                    for p in q.counts
                    if p.count
                ],
                [0.3, 0.7],
                st,
            )
        )
    else:
        for t in q.texts:
            late = f" ({dt('report_status_late')})" if t.late else ""
            out.append(Paragraph(_text(t.party_name + late), st.party))
            out.append(Paragraph(_text(t.text), st.body))
    if q.unanswered:
        out.append(
            Paragraph(_text(dt("report_unanswered", names=", ".join(q.unanswered))), st.small)
        )
    return out
