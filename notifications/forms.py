"""The questionnaire as files to go with the invitation: a printable PDF (ReportLab) and a Word
form (python-docx), both made from the questionnaire definition — the same sections,
questions, choices and help texts the personal-link form shows.

Pure and cached: the same questionnaire, language and deadline give the same bytes, made once
per process (an invitation round of twelve mails builds each file once). In the Word form every
question is a table — its text above, an answer cell below — whose first row carries the
question's id in small grey text, so a returned form can be read back question by question.
"""

from __future__ import annotations

import io
from datetime import date
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from notifications.outgoing import Attachment
from workflow.dates import format_date
from workflow.definition_questions import Question, Questionnaire
from workflow.returned_form import TAG_PREFIX, choice_texts

FONT = "AftaleflowVera"
FONT_BOLD = "AftaleflowVera-Bold"
BOX = "☐"

TEXTS = {
    "da": {
        "deadline": "Frist for svar: {date}",
        "how": (
            "Det er nemmest at svare via det personlige link i mailen. Vil udvalget hellere "
            "svare skriftligt, så udfyld Word-udgaven og send den som svar på mailen."
        ),
        "single": "Sæt ét kryds.",
        "multiple": "Sæt gerne flere krydser.",
        "scale": "Sæt ét kryds fra {min} til {max}.",
        "file": "Vedhæft filen, når I svarer på mailen (PDF, Word eller ODT).",
        "text": "Skriv svaret her:",
        "required": "(skal besvares)",
        "question": "Spørgsmål",
        "answer": "Svar",
        "name": "spoergeskema",
    },
    "en": {
        "deadline": "Deadline: {date}",
        "how": (
            "Answering through the personal link in the mail is easiest. If the committee "
            "prefers to answer in writing, fill in the Word version and send it as a reply."
        ),
        "single": "Tick one box.",
        "multiple": "Tick as many boxes as apply.",
        "scale": "Tick one box from {min} to {max}.",
        "file": "Attach the file when you reply to the mail (PDF, Word or ODT).",
        "text": "Write the answer here:",
        "required": "(required)",
        "question": "Question",
        "answer": "Answer",
        "name": "questionnaire",
    },
}
DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def form_attachments(q: Questionnaire, *, lang: str, deadline: str) -> tuple[Attachment, ...]:
    """The PDF and the Word form, named ``spoergeskema-<id>.pdf|docx`` (``questionnaire-`` in
    English)."""
    return _cached(q.model_dump_json(), lang if lang in TEXTS else "da", deadline)


@lru_cache(maxsize=16)
def _cached(definition: str, lang: str, deadline: str) -> tuple[Attachment, ...]:
    q = Questionnaire.model_validate_json(definition)
    name = f"{TEXTS[lang]['name']}-{q.id}"
    return (
        Attachment(
            f"{name}.pdf", questionnaire_pdf(q, lang=lang, deadline=deadline), "application", "pdf"
        ),
        Attachment(f"{name}.docx", questionnaire_docx(q, lang=lang, deadline=deadline), *DOCX_TYPE),
    )


def _deadline(deadline: str, lang: str) -> str:
    try:
        return TEXTS[lang]["deadline"].format(date=format_date(date.fromisoformat(deadline), lang))
    except ValueError:
        return ""


def _hint(question: Question, lang: str) -> str:
    t = TEXTS[lang]
    if question.type == "single_choice":
        return t["single"]
    if question.type == "multiple_choice":
        return t["multiple"]
    if question.type == "scale":
        return t["scale"].format(min=question.min, max=question.max)
    if question.type == "file":
        return t["file"]
    return t["text"]


# ---------------------------------------------------------------------- PDF


def _register_fonts() -> None:
    """Bitstream Vera from inside ReportLab: Danish letters render (the boxes are drawn)."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def _ticked(text: object) -> object:
    """A box to tick (drawn, so it needs no glyph from the font) and its text beside it."""
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    box = Drawing(10, 10)
    box.add(Rect(0.5, 0.5, 9, 9, fillColor=None, strokeWidth=0.8))
    row = Table([[box, text]], colWidths=[8 * mm, 150 * mm])
    row.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 4 * mm),
                  ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])  # fmt: skip
    return row


def questionnaire_pdf(q: Questionnaire, *, lang: str = "da", deadline: str = "") -> bytes:
    """A4, one block per question: its text, help, and boxes to tick or lines to write on."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

    _register_fonts()
    t = TEXTS[lang]
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, textColor=colors.HexColor("#484949"))
    title = ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=17, leading=22)
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=FONT_BOLD, fontSize=13, leading=17, spaceBefore=10
    )
    label = ParagraphStyle("label", parent=body, fontName=FONT_BOLD, spaceBefore=8)
    choice = ParagraphStyle("choice", parent=body)
    story: list[object] = [Paragraph(escape(q.title), title), Spacer(1, 3 * mm)]
    if deadline and (when := _deadline(deadline, lang)):
        story.append(Paragraph(escape(when), label))
    if q.intro:
        story.append(Paragraph(escape(q.intro), body))
    story += [Spacer(1, 2 * mm), Paragraph(escape(t["how"]), small)]
    number = 0
    for section in q.sections:
        story.append(Paragraph(escape(section.title), h2))
        if section.intro:
            story.append(Paragraph(escape(section.intro), body))
        for question in section.questions:
            number += 1
            need = f" {t['required']}" if question.required else ""
            block: list[object] = [
                Paragraph(f"{number}. {escape(question.label)}{escape(need)}", label)
            ]
            if question.help:
                block.append(Paragraph(escape(question.help), small))
            block.append(Paragraph(escape(_hint(question, lang)), small))
            block += [_ticked(Paragraph(escape(c), choice)) for c in choice_texts(question)]
            if question.type == "text":
                lines = Table([[""]] * 4, colWidths=[165 * mm], rowHeights=[8 * mm] * 4)
                lines.setStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6"))])
                block.append(lines)
            story.append(KeepTogether(block))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=q.title, leftMargin=20 * mm, rightMargin=20 * mm,
        topMargin=18 * mm, bottomMargin=18 * mm, lang=lang,
    )  # fmt: skip
    doc.build(story)
    return out.getvalue()


# ---------------------------------------------------------------------- Word


def questionnaire_docx(q: Questionnaire, *, lang: str = "da", deadline: str = "") -> bytes:
    """A Word form: headings per section; per question a table with the question (and its
    id) in the first row and the answer in the second (boxes to tick, or room to write)."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    t = TEXTS[lang]
    doc = Document()
    doc.core_properties.title = q.title
    doc.core_properties.subject = f"{q.id} v{q.version}"
    doc.core_properties.language = lang
    doc.add_heading(q.title, level=1)
    if deadline and (when := _deadline(deadline, lang)):
        doc.add_paragraph().add_run(when).bold = True
    if q.intro:
        doc.add_paragraph(q.intro)
    doc.add_paragraph(t["how"]).runs[0].italic = True
    number = 0
    for section in q.sections:
        doc.add_heading(section.title, level=2)
        if section.intro:
            doc.add_paragraph(section.intro)
        for question in section.questions:
            number += 1
            table = doc.add_table(rows=2, cols=1)
            table.style = "Table Grid"
            _tag(table, question.id)
            top = table.cell(0, 0)
            head = top.paragraphs[0]
            need = f" {t['required']}" if question.required else ""
            head.add_run(f"{number}. {question.label}{need}").bold = True
            if question.help:
                top.add_paragraph(question.help).runs[0].italic = True
            hint = top.add_paragraph(_hint(question, lang))
            hint.runs[0].font.size = Pt(9)
            ident = top.add_paragraph().add_run(f"id: {question.id}")
            ident.font.size = Pt(7)
            ident.font.color.rgb = RGBColor(0x6F, 0x72, 0x73)
            answer = table.cell(1, 0)
            choices = choice_texts(question)
            if choices:
                answer.paragraphs[0].add_run(f"{BOX} {choices[0]}")
                for c in choices[1:]:
                    answer.add_paragraph(f"{BOX} {c}")
            else:
                answer.paragraphs[0].add_run(f"{t['answer']}: ")
                for _ in range(3):
                    answer.add_paragraph("")
            doc.add_paragraph("")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _tag(table: object, question_id: str) -> None:
    """The question's id as the table's alternative-text description (``w:tblDescription``,
    kept by Word when the form is filled in, never printed): how a returned form is read back
    (``workflow.returned_form``), beside the visible "id: …" line."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    description = OxmlElement("w:tblDescription")
    description.set(qn("w:val"), f"{TAG_PREFIX}{question_id}")
    table._tbl.tblPr.append(description)  # type: ignore[attr-defined]  # last in CT_TblPr
