"""What a respondent typed, checked against the definition (pure: no database, no I/O).

Answers are validated here, against the questionnaire definition, so the web and any other
caller enforce the same rules (required, known option values, scale range, text length, the
accepted file types); an approval form's decision likewise. ``answer_texts`` gives the
answers back as plain text for the receipt mail and the confirmation page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow.definition_questions import Question, Questionnaire
from workflow.errors import AftaleflowError
from workflow.file_types import SHA256, STORED_NAME

DECISIONS = ("approved", "rejected", "postponed")
#: Longest agenda item number and minutes address kept from the approval form.
AGENDA_ITEM_MAX = 20
URL_MAX = 500
DECISION_TEXT_MAX = 4000
#: Longest original file name kept (it is shown, never used as a path).
FILENAME_MAX = 200


class AnswerInvalid(AftaleflowError):
    """Some answers are not valid; ``issues`` names each question and what is wrong."""

    def __init__(self, issues: Mapping[str, Issue]) -> None:
        self.issues = dict(issues)
        super().__init__(
            "invalid answers: " + ", ".join(f"{k}: {v.code}" for k, v in issues.items())
        )


@dataclass(frozen=True)
class Issue:
    """One problem with one field: a message code the web translates, and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """A council's decision as typed into the approval form, validated."""

    meeting_date: date
    agenda_item: str
    decision: str
    decision_text: str
    minutes_url: str = ""
    minutes_file: Mapping[str, Any] | None = None


def clean_text(value: object) -> str:
    """Typed text as stored: CRLF → LF, and no control characters but LF and TAB
    (PostgreSQL's JSON refuses NUL; the rest only hides things from a reader)."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


def clean_filename(name: str) -> str:
    """The original file name, for showing only: no folders, no control characters."""
    base = re.split(r"[\\/]", clean_text(name).replace("\n", " ").replace("\t", " "))[-1]
    return base.strip()[:FILENAME_MAX] or "fil"


def validate_answers(
    questionnaire: Questionnaire, raw: Mapping[str, Any], *, complete: bool
) -> tuple[dict[str, Any], dict[str, Issue]]:
    """The answers to store and the problems found, per question id.

    ``raw`` holds what a form gave: a string (single choice, text, scale), a list of strings
    (multiple choice) or a stored-file mapping (file), keyed by question id. ``complete``
    also checks required questions (a submission); a draft is checked for everything else,
    so no value that a submission would refuse is ever stored.
    """
    data: dict[str, Any] = {}
    issues: dict[str, Issue] = {}
    for q in questionnaire.questions:
        value, issue = _validate_one(q, raw.get(q.id))
        if issue is not None:
            issues[q.id] = issue
        elif value is None:
            if complete and q.required:
                issues[q.id] = Issue(
                    "required_choice" if q.options or q.type == "scale" else "required"
                )
        else:
            data[q.id] = value
    return data, issues


def _validate_one(q: Question, value: Any) -> tuple[Any, Issue | None]:
    """(the clean value or None when unanswered, a problem or None)."""
    if q.type == "single_choice":
        text = str(value or "").strip()
        if not text:
            return None, None
        if text not in {o.value for o in q.options}:
            return None, Issue("invalid_option")
        return text, None
    if q.type == "multiple_choice":
        chosen = [str(v).strip() for v in (value or []) if str(v).strip()]
        if not chosen:
            return None, None
        allowed = [o.value for o in q.options]
        if any(v not in allowed for v in chosen):
            return None, Issue("invalid_option")
        return [v for v in allowed if v in chosen], None  # definition order, no duplicates
    if q.type == "text":
        text = clean_text(value)
        if not text.strip():
            return None, None
        if len(text) > q.max_length:
            return None, Issue("too_long", {"max": q.max_length, "length": len(text)})
        return text, None
    if q.type == "scale":
        text = str(value if value is not None else "").strip()
        if not text:
            return None, None
        try:
            number = int(text)
        except ValueError:
            return None, Issue("not_a_number", {"min": q.min, "max": q.max})
        if not q.min <= number <= q.max:
            return None, Issue("out_of_range", {"min": q.min, "max": q.max})
        return number, None
    return _validate_file(q, value)


def _validate_file(q: Question, value: Any) -> tuple[Any, Issue | None]:
    """A file answer: a mapping made by the upload store; never trust more than its shape."""
    if not value:
        return None, None
    if not isinstance(value, Mapping):
        return None, Issue("invalid_file")
    try:
        size = int(value["size"])
        kind = str(value["kind"])
        stored_as = str(value["stored_as"])
        sha256 = str(value["sha256"])
        stored = {
            "filename": clean_filename(str(value["filename"])),
            "stored_as": stored_as,
            "sha256": sha256,
            "size": size,
            "kind": kind,
        }
    except (KeyError, TypeError, ValueError):
        return None, Issue("invalid_file")
    if not STORED_NAME.fullmatch(stored_as) or not SHA256.fullmatch(sha256):
        return None, Issue("invalid_file")
    if kind not in q.accept:
        return None, Issue("file_type", {"accept": list(q.accept)})
    if size > q.max_mb * 1024 * 1024:
        return None, Issue("file_too_large", {"max_mb": q.max_mb})
    return stored, None


def validate_decision(
    raw: Mapping[str, Any], minutes_file: Mapping[str, Any] | None, *, today: date
) -> tuple[Decision | None, dict[str, Issue]]:
    """The approval form: meeting date (not in the future), agenda item, decision, decision
    text, and the minutes as an uploaded file and/or a web address (both optional)."""
    issues: dict[str, Issue] = {}
    meeting: date | None = None
    text = str(raw.get("meeting_date") or "").strip()
    if not text:
        issues["meeting_date"] = Issue("required")
    else:
        try:
            meeting = date.fromisoformat(text)
        except ValueError:
            issues["meeting_date"] = Issue("not_a_date")
        else:
            if meeting > today:
                issues["meeting_date"] = Issue("date_in_future")
    agenda = clean_text(raw.get("agenda_item")).strip()
    if not agenda:
        issues["agenda_item"] = Issue("required")
    elif len(agenda) > AGENDA_ITEM_MAX:
        issues["agenda_item"] = Issue("too_long", {"max": AGENDA_ITEM_MAX, "length": len(agenda)})
    decision = str(raw.get("decision") or "").strip()
    if not decision:
        issues["decision"] = Issue("required_choice")
    elif decision not in DECISIONS:
        issues["decision"] = Issue("invalid_option")
    decision_text = clean_text(raw.get("decision_text")).strip()
    if not decision_text:
        issues["decision_text"] = Issue("required")
    elif len(decision_text) > DECISION_TEXT_MAX:
        issues["decision_text"] = Issue(
            "too_long", {"max": DECISION_TEXT_MAX, "length": len(decision_text)}
        )
    url = clean_text(raw.get("minutes_url")).strip()
    if url and (
        not re.fullmatch(r"https?://[^\s<>\"']+", url, flags=re.IGNORECASE) or len(url) > URL_MAX
    ):
        issues["minutes_url"] = Issue("not_a_url")
    if issues or meeting is None:
        return None, issues
    return Decision(meeting, agenda, decision, decision_text, url, minutes_file), issues


def answer_texts(questionnaire: Questionnaire, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every question with its answer as plain text (option labels, not values): for the
    receipt mail and the confirmation page. Unanswered questions have an empty answer."""
    out: list[dict[str, str]] = []
    for q in questionnaire.questions:
        out.append({"question": q.label, "answer": answer_text(q, data.get(q.id))})
    return out


def answer_text(q: Question, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    labels = {o.value: o.label for o in q.options}
    if q.type == "single_choice":
        return labels.get(str(value), str(value))
    if q.type == "multiple_choice":
        return "; ".join(labels.get(str(v), str(v)) for v in value)
    if q.type == "scale":
        ends = [
            f"{q.min} = {q.min_label}" if q.min_label else "",
            f"{q.max} = {q.max_label}" if q.max_label else "",
        ]
        ends = [e for e in ends if e]
        return f"{value}" + (f" ({', '.join(ends)})" if ends else f" ({q.min}–{q.max})")
    if q.type == "file" and isinstance(value, Mapping):
        return str(value.get("filename") or "")
    return str(value)
