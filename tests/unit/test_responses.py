"""Answer and decision validation, answer texts and document sniffing: pure, no I/O."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from tests.browser.support import docx_bytes, odt_bytes, pdf_bytes
from workflow.definition_questions import Questionnaire
from workflow.file_types import file_kind
from workflow.validation import (
    answer_texts,
    clean_filename,
    clean_text,
    validate_answers,
    validate_decision,
)

Q = Questionnaire.model_validate(
    {
        "id": "q",
        "version": 1,
        "title": "Test",
        "sections": [
            {
                "id": "s",
                "title": "S",
                "questions": [
                    {
                        "id": "one",
                        "type": "single_choice",
                        "label": "One?",
                        "required": True,
                        "options": [
                            {"value": "ja", "label": "Ja"},
                            {"value": "nej", "label": "Nej"},
                        ],
                    },
                    {
                        "id": "many",
                        "type": "multiple_choice",
                        "label": "Many?",
                        "options": [
                            {"value": "a", "label": "A, with a comma"},
                            {"value": "b", "label": "B"},
                            {"value": "c", "label": "C"},
                        ],
                    },
                    {
                        "id": "scale",
                        "type": "scale",
                        "label": "How much?",
                        "required": True,
                        "min": 1,
                        "max": 5,
                        "min_label": "Lidt",
                        "max_label": "Meget",
                    },
                    {"id": "text", "type": "text", "label": "Why?", "max_length": 12},
                    {
                        "id": "file",
                        "type": "file",
                        "label": "Minutes",
                        "accept": ["pdf"],
                        "max_mb": 1,
                    },
                ],
            }
        ],
    }
)

STORED = {
    "filename": "referat.pdf",
    "stored_as": "0123456789abcdef0123456789abcdef.pdf",
    "sha256": "a" * 64,
    "size": 1000,
    "kind": "pdf",
}


def codes(issues: dict[str, object]) -> dict[str, str]:
    return {k: v.code for k, v in issues.items()}  # type: ignore[attr-defined]


def test_a_complete_valid_answer_is_cleaned() -> None:
    data, issues = validate_answers(
        Q,
        {
            "one": "ja",
            "many": ["c", "a", "a"],
            "scale": "4",
            "text": "hej\r\nmed dig",
            "file": STORED,
        },
        complete=True,
    )
    assert issues == {}
    assert data == {
        "one": "ja",
        "many": ["a", "c"],  # definition order, no duplicates
        "scale": 4,
        "text": "hej\nmed dig",
        "file": STORED,
    }


def test_required_only_when_complete() -> None:
    data, issues = validate_answers(Q, {"many": [], "text": "  "}, complete=False)
    assert (data, issues) == ({}, {})
    _, issues = validate_answers(Q, {}, complete=True)
    assert codes(issues) == {"one": "required_choice", "scale": "required_choice"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"one": "maybe"}, {"one": "invalid_option"}),
        ({"many": ["a", "zzz"]}, {"many": "invalid_option"}),
        ({"scale": "0"}, {"scale": "out_of_range"}),
        ({"scale": "6"}, {"scale": "out_of_range"}),
        ({"scale": "fire"}, {"scale": "not_a_number"}),
        ({"text": "x" * 13}, {"text": "too_long"}),
        ({"file": {**STORED, "kind": "docx"}}, {"file": "file_type"}),
        ({"file": {**STORED, "size": 2 * 1024 * 1024}}, {"file": "file_too_large"}),
        ({"file": {**STORED, "stored_as": "../../etc/passwd"}}, {"file": "invalid_file"}),
        ({"file": {"filename": "x"}}, {"file": "invalid_file"}),
        ({"file": "not a mapping"}, {"file": "invalid_file"}),
    ],
)
def test_invalid_values_are_refused_even_in_a_draft(
    raw: dict[str, object], expected: dict[str, str]
) -> None:
    _, issues = validate_answers(Q, raw, complete=False)
    assert codes(issues) == expected


def test_too_long_says_how_long() -> None:
    _, issues = validate_answers(Q, {"text": "x" * 14}, complete=False)
    assert dict(issues["text"].params) == {"max": 12, "length": 14}


def test_control_characters_are_dropped_but_lines_kept() -> None:
    assert clean_text("a\x00b\r\nc\td\x1b") == "ab\nc\td"


def test_filenames_are_for_showing_only() -> None:
    assert clean_filename("C:\\Users\\x\\referat.pdf") == "referat.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("") == "fil"


def test_answer_texts_use_labels_and_keep_every_question() -> None:
    texts = answer_texts(Q, {"one": "nej", "many": ["a", "b"], "scale": 2, "file": STORED})
    assert texts == [
        {"question": "One?", "answer": "Nej"},
        {"question": "Many?", "answer": "A, with a comma; B"},
        {"question": "How much?", "answer": "2 (1 = Lidt, 5 = Meget)"},
        {"question": "Why?", "answer": ""},
        {"question": "Minutes", "answer": "referat.pdf"},
    ]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (pdf_bytes(), "pdf"),
        (docx_bytes(), "docx"),
        (odt_bytes(), "odt"),
        (b"<html><script>alert(1)</script></html>", None),
        (b"MZ\x90\x00 an executable", None),
        (b"PK\x03\x04 not really a zip", None),
        (b"", None),
    ],
)
def test_file_kind_is_decided_by_content(content: bytes, kind: str | None) -> None:
    assert file_kind(io.BytesIO(content)) == kind


def test_a_zip_that_is_not_a_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert file_kind(io.BytesIO(out.getvalue())) is None


def test_decision_validation() -> None:
    today = date(2022, 11, 20)
    good = {
        "meeting_date": "2022-11-15",
        "agenda_item": " 7 ",
        "decision": "approved",
        "decision_text": "Godkendt",
        "minutes_url": "https://aalborg.example/referat",
    }
    decision, issues = validate_decision(good, None, today=today)
    assert issues == {}
    assert decision is not None
    assert (decision.meeting_date, decision.agenda_item) == (date(2022, 11, 15), "7")

    _, issues = validate_decision({}, None, today=today)
    assert codes(issues) == {
        "meeting_date": "required",
        "agenda_item": "required",
        "decision": "required_choice",
        "decision_text": "required",
    }
    bad = {
        **good,
        "meeting_date": "2022-11-21",
        "decision": "maybe",
        "minutes_url": "javascript:alert(1)",
        "agenda_item": "x" * 21,
    }
    _, issues = validate_decision(bad, None, today=today)
    assert codes(issues) == {
        "meeting_date": "date_in_future",
        "agenda_item": "too_long",
        "decision": "invalid_option",
        "minutes_url": "not_a_url",
    }
    _, issues = validate_decision({**good, "meeting_date": "15/11/2022"}, None, today=today)
    assert codes(issues) == {"meeting_date": "not_a_date"}
