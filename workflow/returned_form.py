"""A returned Word form of ours, read back into answers (python-docx).

``notifications.forms`` builds the form from the questionnaire: per question a table whose
description (``w:tblDescription``, alternative text Word keeps) is ``aftaleflow-question:<id>``
and whose first row also shows ``id: <id>``; the second row holds a box per choice
(``☐ <choice>``) or room to write after ``Svar:``. Here a filled-in copy is read question by
question: a box replaced by a tick (☒ ☑ ✓ ✔ X …) chooses that choice; text is taken as typed.
Anything that cannot be read for certain — a choice that is not one of ours, two ticks where
one is asked, a value the questionnaire refuses, a question we do not know — is skipped with a
note, never guessed. The answers are for a draft the secretariat confirms.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from workflow.definition_questions import Question, Questionnaire
from workflow.responses import validate_answers

#: How a question's table names its question (``w:tblDescription``).
TAG_PREFIX = "aftaleflow-question:"
BOX = "☐"
TICKS = frozenset("☒☑✓✔✗✘xX■●⊠")
_ID_LINE = re.compile(r"^id:\s*(\S+)\s*$")
_ANSWER_LEAD = re.compile(r"^(Svar|Answer)\s*:\s*", re.IGNORECASE)


def choice_texts(question: Question) -> list[str]:
    """The choices as the form prints them (after the box), in order."""
    if question.type in ("single_choice", "multiple_choice"):
        return [o.label for o in question.options]
    if question.type == "scale":
        ends = {question.min: question.min_label, question.max: question.max_label}
        return [
            f"{n}" + (f" – {ends[n]}" if ends.get(n) else "")
            for n in range(question.min, question.max + 1)
        ]
    return []


@dataclass
class ReadBack:
    """What a returned form gave: ``ours`` (it is our form of this questionnaire), the
    answers by question id (valid values only), and a note per thing skipped."""

    ours: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)

    def note(self, question: str, code: str, value: str = "") -> None:
        self.notes.append({"question": question, "note": code, "value": value[:200]})


def read_returned_form(content: bytes, questionnaire: Questionnaire) -> ReadBack:
    """The answers in a returned Word form of ``questionnaire`` (see the module's text)."""
    from docx import Document
    from docx.opc.exceptions import OpcError
    from lxml.etree import LxmlError

    out = ReadBack()
    try:
        doc = Document(io.BytesIO(content))
    except (ValueError, KeyError, zipfile.BadZipFile, OSError, OpcError, LxmlError) as e:
        out.note("", "unreadable", type(e).__name__)
        return out
    questions = {q.id: q for q in questionnaire.questions}
    raw: dict[str, Any] = {}
    for table in doc.tables:
        qid = _question_id(table)
        if qid is None:
            continue
        question = questions.get(qid)
        if question is None:
            out.note(qid, "unknown_question")
            continue
        out.ours = True
        if len(table.rows) < 2:
            out.note(qid, "unreadable")
            continue
        lines = [p.text for p in table.cell(1, 0).paragraphs]
        value = _value(question, lines, out)
        if value is not None:
            raw[qid] = value
    data, issues = validate_answers(questionnaire, raw, complete=False)
    for qid, issue in issues.items():
        out.note(qid, "invalid", f"{issue.code}: {raw.get(qid)!r}")
    out.answers = data
    return out


def _question_id(table: Any) -> str | None:
    """The question a table is for: its description tag, else its visible "id: …" line."""
    from docx.oxml.ns import qn

    props = table._tbl.tblPr
    if props is not None:
        for element in props.iterchildren(qn("w:tblDescription")):
            value = element.get(qn("w:val")) or ""
            if value.startswith(TAG_PREFIX):
                return value[len(TAG_PREFIX) :]
    if not table.rows:
        return None
    for paragraph in table.cell(0, 0).paragraphs:
        found = _ID_LINE.match(paragraph.text.strip())
        if found:
            return found.group(1)
    return None


def _value(question: Question, lines: list[str], out: ReadBack) -> Any:
    if question.type == "file":
        return None  # files come as the mail's attachments
    if question.type == "text":
        text = "\n".join(lines).strip()
        text = _ANSWER_LEAD.sub("", text, count=1).strip()
        return text or None
    choices = choice_texts(question)
    ticked: list[int] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        mark, rest = text[0], _normal(text[1:])
        position = next((i for i, c in enumerate(choices) if _normal(c) == rest), None)
        if mark == BOX and position is not None:
            continue  # not ticked
        if mark in TICKS and position is not None:
            ticked.append(position)
        else:
            out.note(question.id, "unknown_choice", text)
    if not ticked:
        return None
    if question.type in ("single_choice", "scale") and len(set(ticked)) > 1:
        out.note(question.id, "several_ticked", "; ".join(choices[i] for i in sorted(set(ticked))))
        return None
    if question.type == "scale":
        return str(question.min + ticked[0])
    values = [question.options[i].value for i in sorted(set(ticked))]
    return values[0] if question.type == "single_choice" else values


def _normal(text: str) -> str:
    return " ".join(text.replace("–", "-").split()).casefold()
