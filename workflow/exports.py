"""Exports of answers and approvals as tables, XLSX and CSV, and the compiled report data.

Everything here returns values or bytes; nothing is written to disk. Numbers stay numbers:
a scale answer, and a text answer that is just a number (``12``, ``-2``, ``3,5``), is an int or
a float in the table, a number cell in XLSX and a plain number in CSV. Only text can start a
formula: a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR is neutralised in
CSV (a leading ``'``), and XLSX text cells are always written as text, never as formulas.
Sheet names are cut at a word (with "…") and kept unique.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calendar import to_local
from workflow.definition import QuestionnaireStage
from workflow.definition_questions import Question, Questionnaire
from workflow.labels import label
from workflow.storage.models import AnswerRow, ProcessRow, TaskRow
from workflow.timeline import BoundProcess

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A text answer that is only a number: an optional minus, no leading zero (a postcode or a
#: phone number stays text), and a Danish decimal comma ("1.000" is ambiguous and stays text).
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:,[0-9]{1,10})?")
#: The longest sheet name Excel accepts.
SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class Table:
    """A titled table: header and rows of plain values (str, int, datetime or None)."""

    title: str
    header: list[str]
    rows: list[list[Any]]


def answer_text(question: Question, value: Any) -> str:
    """How an answer reads for a person: option labels, not values."""
    if value is None or value == "" or value == []:
        return ""
    labels = {o.value: o.label for o in question.options}
    if question.type == "single_choice":
        return labels.get(str(value), str(value))
    if question.type == "multiple_choice":
        items = value if isinstance(value, list) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in items)
    if question.type == "file":
        return str(value.get("filename", "")) if isinstance(value, dict) else str(value)
    return str(value)


def answer_cell(question: Question, value: Any) -> Any:
    """An answer as a table cell: a number for a scale answer and for a text answer that
    is a number, else the text of ``answer_text``."""
    text = answer_text(question, value)
    if question.type in ("scale", "text") and NUMBER.fullmatch(text.strip()):
        number = text.strip().replace(",", ".")
        return float(number) if "." in number else int(number)
    return text


def latest_answers(s: Session, process_id: int, stage_id: str) -> dict[str, AnswerRow]:
    """The newest submitted version per party."""
    out: dict[str, AnswerRow] = {}
    rows = s.scalars(
        select(AnswerRow)
        .where(
            AnswerRow.process_id == process_id,
            AnswerRow.stage_id == stage_id,
            AnswerRow.state == "submitted",
        )
        .order_by(AnswerRow.version)
    )
    for row in rows:
        out[row.party] = row
    return out


def _local(dt: datetime | None) -> datetime | None:
    """Naive Danish local time: openpyxl refuses aware datetimes (STACK.md pitfall 9)."""
    return to_local(dt).replace(tzinfo=None) if dt else None


def answer_tables(s: Session, row: ProcessRow, bound: BoundProcess) -> list[Table]:
    """One table per questionnaire stage, one row per party, Danish headers."""
    tables = []
    for st in bound.stages:
        d = st.definition
        if not isinstance(d, QuestionnaireStage):
            continue
        q: Questionnaire = bound.bundle.questionnaires[d.questionnaire]
        answers = latest_answers(s, row.id, st.id)
        header = ["Part", *[x.label for x in q.questions], "Indsendt", "Version", "For sent"]
        rows = []
        for slug in bound.bundle.participants:
            party = bound.bundle.parties.get(slug)
            a = answers.get(slug)
            data = a.data if a else {}
            rows.append(
                [
                    party.name,
                    *[answer_cell(x, data.get(x.id)) for x in q.questions],
                    _local(a.submitted_at) if a else None,
                    a.version if a else None,
                    ("ja" if a.late else "nej") if a else "",
                ]
            )
        tables.append(Table(d.name, header, rows))
    return tables


def approval_table(s: Session, row: ProcessRow, bound: BoundProcess) -> Table:
    header = [
        "Part",
        "Organ",
        "Status",
        "Mødedato",
        "Dagsordenspunkt",
        "Beslutning",
        "Referat",
        "Godkendt version (SHA-256)",
        "Registreret",
    ]
    names = {p.slug: p.name for p in bound.bundle.parties.parties}
    rows = []
    tasks = s.scalars(
        select(TaskRow)
        .where(TaskRow.process_id == row.id, TaskRow.kind == "approval")
        .order_by(TaskRow.stage_id, TaskRow.party, TaskRow.seq)
    )
    for t in tasks:
        d = t.decision or {}
        rows.append(
            [
                names.get(t.party, t.party),
                label(t.step),
                label(t.status),
                d.get("meeting_date", ""),
                d.get("agenda_item", ""),
                d.get("decision_text", ""),
                d.get("minutes", ""),
                d.get("document_hash", ""),
                _local(t.decided_at),
            ]
        )
    return Table("Godkendelser", header, rows)


# ---------------------------------------------------------------------- writers


def neutralise(value: Any) -> Any:
    """A CSV cell that cannot start a formula in Excel, LibreOffice or Google Sheets. Only
    text is touched: a number (``-2``) is a number, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")  # Danish Excel expects ';'
    w.writerow([neutralise(h) for h in table.header])
    for r in table.rows:
        w.writerow([neutralise(_csv_value(v)) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8


def _csv_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, float):
        return f"{v:g}".replace(".", ",")  # Danish Excel reads a decimal comma
    return "" if v is None else v


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut after a whole word and marked "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " " and " " in head.strip():  # the cut falls inside a word
        head = head[: head.rstrip().rindex(" ")]
    return head.rstrip(" -,.") + "…"


def sheet_title(title: str, used: set[str]) -> str:
    """An Excel sheet name for ``title``: no ``[]:*?/\\``, at most 31 characters cut at a
    word, and unique (case-insensitively) among ``used``, which it is added to."""
    base = " ".join(_SHEET_BAD.sub("-", title).split()).strip("'") or "Ark"
    name, n = _cut(base, SHEET_NAME_MAX), 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = _cut(base, SHEET_NAME_MAX - len(suffix)) + suffix
        n += 1
    used.add(name.lower())
    return name


def to_xlsx(tables: Iterable[Table]) -> bytes:
    """A workbook with one sheet per table; text cells are always text, never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    default = wb.active
    used: set[str] = set()
    for table in tables:
        ws = wb.create_sheet(sheet_title(table.title, used))
        ws.append(table.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, values in enumerate(table.rows, start=2):
            for c, value in enumerate(values, start=1):
                cell = ws.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                if isinstance(value, datetime):
                    cell.number_format = "dd.mm.yyyy hh:mm"  # a date value, shown the Danish way
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "B2"
        for col in ws.columns:
            ws.column_dimensions[col[0].column_letter].width = 28
    if default is not None and len(wb.sheetnames) > 1:
        wb.remove(default)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
