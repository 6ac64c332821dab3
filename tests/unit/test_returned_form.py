"""A returned Word form of ours read back (``workflow.returned_form``): the form is built by
our own builder and filled in with python-docx; what is not certain is skipped with a note."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from docx import Document
from docx.oxml.ns import qn

from notifications.forms import questionnaire_docx
from tests import mail_samples as samples
from workflow.loader import Bundle
from workflow.returned_form import TAG_PREFIX, read_returned_form


def form(bundle: Bundle) -> Any:
    return Document(io.BytesIO(questionnaire_docx(bundle.questionnaires["fagudvalg"])))


def tables(doc: Any) -> dict[str, Any]:
    out = {}
    for table in doc.tables:
        for d in table._tbl.tblPr.iterchildren(qn("w:tblDescription")):
            out[d.get(qn("w:val"))[len(TAG_PREFIX) :]] = table
    return out


def mark(table: Any, starts: str, tick: str) -> None:
    for p in table.cell(1, 0).paragraphs:
        if p.text.startswith(f"☐ {starts}"):
            text = p.text
            for run in p.runs[1:]:
                run.text = ""
            p.runs[0].text = tick + text[1:]
            return
    raise AssertionError(starts)


def saved(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_an_empty_form_is_ours_and_answers_nothing(socialaftale: Bundle) -> None:
    got = read_returned_form(saved(form(socialaftale)), socialaftale.questionnaires["fagudvalg"])
    assert (got.ours, got.answers, got.notes) == (True, {}, [])


def test_ticks_of_every_kind_text_and_the_visible_id_when_the_tag_is_gone(
    socialaftale: Bundle,
) -> None:
    doc = form(socialaftale)
    t = tables(doc)
    mark(t["vision-egenmestring"], "5", "X")
    mark(t["vision-retningspile"], "Vi skal have mere mod", "✔")
    mark(t["vision-retningspile"], "Borgeren skal sidde", "☑")
    mark(t["fokusomraader-prioritet"], "Sammen om", "☒")
    t["oevrige-oensker"].cell(1, 0).paragraphs[0].add_run("Første linje")
    t["oevrige-oensker"].cell(1, 0).paragraphs[1].add_run("Anden linje")
    # Word lost the table's description: the visible "id: …" line still names the question
    props = t["fokusomraader-prioritet"]._tbl.tblPr
    for d in list(props.iterchildren(qn("w:tblDescription"))):
        props.remove(d)
    got = read_returned_form(saved(doc), socialaftale.questionnaires["fagudvalg"])
    assert got.notes == []
    assert got.answers == {
        "vision-egenmestring": 5,
        "vision-retningspile": ["mod-til-at-fejle", "borgeren-for-bordenden"],
        "fokusomraader-prioritet": "socialpsykiatri",
        "oevrige-oensker": "Første linje\nAnden linje",
    }


def test_what_is_not_certain_is_skipped_with_a_note(socialaftale: Bundle) -> None:
    doc = form(socialaftale)
    t = tables(doc)
    mark(t["vision-egenmestring"], "1", "☒")
    mark(t["vision-egenmestring"], "2", "☒")
    t["temaer-oenskede"].cell(1, 0).add_paragraph("☒ Noget helt tredje")
    t["temaer-oenskede"].cell(1, 0).add_paragraph("? Velfærdsteknologi")  # not a tick
    long = "x" * 6001
    t["oevrige-oensker"].cell(1, 0).paragraphs[0].add_run(long)
    desc = next(t["referat"]._tbl.tblPr.iterchildren(qn("w:tblDescription")))
    desc.set(qn("w:val"), TAG_PREFIX + "et-spoergsmaal-vi-ikke-har")
    got = read_returned_form(saved(doc), socialaftale.questionnaires["fagudvalg"])
    assert got.answers == {}
    notes = {(n["question"], n["note"]) for n in got.notes}
    assert notes == {
        ("vision-egenmestring", "several_ticked"),
        ("temaer-oenskede", "unknown_choice"),
        ("oevrige-oensker", "invalid"),
        ("et-spoergsmaal-vi-ikke-har", "unknown_question"),
    }
    assert len([n for n in got.notes if n["note"] == "unknown_choice"]) == 2


def test_other_documents_are_not_ours(socialaftale: Bundle) -> None:
    q = socialaftale.questionnaires["fagudvalg"]
    other = read_returned_form(samples.docx_bytes(), q)
    assert (other.ours, other.answers, other.notes) == (False, {}, [])
    broken = read_returned_form(b"PK\x03\x04 not really a zip", q)
    assert broken.ours is False and broken.notes[0]["note"] == "unreadable"
    garbled = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(samples.docx_bytes())) as src,
        zipfile.ZipFile(garbled, "w") as z,
    ):
        for item in src.infolist():
            data = src.read(item)
            z.writestr(
                item, b"<w:document><unclosed" if item.filename == "word/document.xml" else data
            )
    got = read_returned_form(garbled.getvalue(), q)
    assert got.ours is False and got.notes[0]["note"] == "unreadable"
