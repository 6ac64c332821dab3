"""The questionnaire as a printable PDF and a Word form, made from the definition, and
attached to the invitation (only)."""

from __future__ import annotations

import io
from dataclasses import replace

from docx import Document
from pypdf import PdfReader

from notifications.forms import form_attachments, questionnaire_docx, questionnaire_pdf
from notifications.render import render
from tests.unit.test_notifications_render import DA, EN, mail
from workflow.definition_questions import Questionnaire
from workflow.loader import Bundle


def fagudvalg(bundle: Bundle) -> Questionnaire:
    return bundle.questionnaires["fagudvalg"]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_pdf_holds_every_question_and_choice(socialaftale: Bundle) -> None:
    q = fagudvalg(socialaftale)
    pdf = PdfReader(io.BytesIO(questionnaire_pdf(q, deadline="2022-05-20")))
    text = _flat(" ".join(page.extract_text() for page in pdf.pages))
    assert pdf.metadata is not None and pdf.metadata.title == q.title
    assert "Frist for svar: fredag den 20. maj 2022" in text
    questions = [x for s in q.sections for x in s.questions]
    assert len(questions) > 5
    for n, question in enumerate(questions, 1):
        assert _flat(f"{n}. {question.label}")[:60] in text, question.id
        for option in question.options:
            assert _flat(option.label)[:40] in text, (question.id, option.value)
    assert "Sæt gerne flere krydser." in text and "\x00" not in text, "no missing glyph"


def test_the_word_form_has_one_table_per_question_with_its_id(socialaftale: Bundle) -> None:
    q = fagudvalg(socialaftale)
    doc = Document(io.BytesIO(questionnaire_docx(q, lang="en", deadline="2022-05-20")))
    questions = [x for s in q.sections for x in s.questions]
    assert len(doc.tables) == len(questions)
    for table, question in zip(doc.tables, questions, strict=True):
        top, answer = table.cell(0, 0).text, table.cell(1, 0).text
        assert question.label in top and f"id: {question.id}" in top
        if question.options:
            assert [line for line in answer.split("\n")] == [
                f"☐ {o.label}" for o in question.options
            ]
        if question.type == "scale":
            assert answer.count("☐") == question.max - question.min + 1
    assert doc.core_properties.title == q.title
    assert "Deadline: Friday 20 May 2022" in "\n".join(p.text for p in doc.paragraphs)


def test_the_invitation_carries_both_and_a_reminder_neither(socialaftale: Bundle) -> None:
    q = fagudvalg(socialaftale)
    invitation = replace(mail("invitation"), questionnaire=q)
    out = render(invitation, DA)
    pdf, docx = out.attachments
    assert (pdf.filename, pdf.maintype, pdf.subtype) == (
        "spoergeskema-fagudvalg.pdf",
        "application",
        "pdf",
    )
    assert docx.filename == "spoergeskema-fagudvalg.docx" and docx.subtype.endswith(
        "wordprocessingml.document"
    )
    assert pdf.content.startswith(b"%PDF-") and docx.content[:2] == b"PK"
    assert "vedhæftet som PDF til udskrift" in out.text and "vedhæftet som PDF" in out.html
    assert render(replace(mail("invitation"), questionnaire=q), EN).attachments[0].filename == (
        "questionnaire-fagudvalg.pdf"
    )
    # made once for the round: the next invitation gets the same bytes without building them
    assert render(invitation, DA).attachments[0] is pdf
    without = render(mail("invitation"), DA)
    assert without.attachments == () and "vedhæftet som PDF" not in without.text
    assert render(mail("reminder"), DA).attachments == ()
    assert form_attachments(q, lang="xx", deadline="")[0].filename.startswith("spoergeskema")
