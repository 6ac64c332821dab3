"""Exports: XLSX that Excel opens, CSV safe against formula injection, the compiled report."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

from openpyxl import load_workbook
from sqlalchemy import select

from workflow.calendar import local_to_utc
from workflow.exports import (
    answer_tables,
    approval_table,
    neutralise,
    to_csv,
    to_xlsx,
)
from workflow.loader import Bundle
from workflow.report import compiled_report
from workflow.service import Service, bound_for
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import ProcessRow

Q = "fagudvalg-spoergsmaal"
PAYLOADS = [
    '=HYPERLINK("http://evil.example")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "<script>alert(1)</script>",
]


def at(d: str, hour: int = 12) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


def _answered(db: Database, bundle: Bundle) -> tuple[ProcessRow, Service]:
    svc = Service(db, link_secret="s")
    key = simulate(svc, bundle, 2022, until=at("2022-04-04", 10)).key
    for i, party in enumerate(bundle.participants):
        svc.submit_answer(
            key,
            Q,
            party,
            {
                "vision-egenmestring": 4,
                "vision-retningspile": ["mod-til-at-fejle", "tidlig-indsats"],
                "fokusomraader-prioritet": "socialpsykiatri",
                "oevrige-oensker": PAYLOADS[i % len(PAYLOADS)] + f" ({party})",
            },
            at=at("2022-04-05"),
            actor=party,
        )
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None
    return row, svc


def test_answers_as_xlsx_open_with_text_cells_and_danish_headers(
    db: Database, socialaftale: Bundle
) -> None:
    row, _ = _answered(db, socialaftale)
    with db.sessions() as s:
        tables = answer_tables(s, row, bound_for(row))
    wb = load_workbook(io.BytesIO(to_xlsx(tables)))
    assert wb.sheetnames == ["Spørgsmål til de politiske udva"]  # Excel: 31 characters
    ws = wb.active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header[0] == "Part" and header[-3:] == ["Indsendt", "Version", "For sent"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert len(rows) == 12
    laeso = rows["Læsø Kommune"]
    col = header.index(socialaftale.questionnaires["fagudvalg"].question("oevrige-oensker").label)
    assert str(laeso[col].value).endswith("(laeso)")
    for r in rows.values():
        assert r[col].data_type == "s"  # "=HYPERLINK…" stays text, never a formula
    assert str(rows["Aalborg Kommune"][col].value).startswith("=HYPERLINK")
    assert isinstance(laeso[header.index("Indsendt")].value, datetime)
    prio = header.index(
        socialaftale.questionnaires["fagudvalg"].question("fokusomraader-prioritet").label
    )
    assert laeso[prio].value == "Sammen om en stærk socialpsykiatri"


def test_csv_neutralises_formulas(db: Database, socialaftale: Bundle) -> None:
    row, _ = _answered(db, socialaftale)
    with db.sessions() as s:
        table = answer_tables(s, row, bound_for(row))[0]
    text = to_csv(table).decode("utf-8-sig")
    cells = [c for r in csv.reader(io.StringIO(text), delimiter=";") for c in r]
    for payload in PAYLOADS[:4]:
        assert not any(c.startswith(payload[0]) for c in cells if payload[1:4] in c), payload
        assert any(c.startswith("'" + payload) for c in cells), payload
    assert neutralise("Godkendt") == "Godkendt" and neutralise(3) == 3


def test_approval_record_and_compiled_report(db: Database, socialaftale: Bundle) -> None:
    row, _ = _answered(db, socialaftale)
    with db.sessions() as s:
        report = compiled_report(s, row, bound_for(row), Q)
        approvals = approval_table(s, row, bound_for(row))
    assert report.answered == 12 and report.parties == 12
    first = report.sections[0]
    assert first.questions[0].id == "vision-egenmestring"  # a report question comes first
    wishes = report.synthesis.question("oevrige-oensker")
    assert {a.party for a in wishes.texts} == set(socialaftale.participants)
    assert approvals.header[0] == "Part" and approvals.rows == []  # no approval stage yet
