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
    sheet_title,
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
    assert wb.sheetnames == ["Spørgsmål til de politiske…"]  # ≤ 31 characters, whole words
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
    scale = header.index(
        socialaftale.questionnaires["fagudvalg"].question("vision-egenmestring").label
    )
    assert laeso[scale].value == 4 and laeso[scale].data_type == "n", "a scale answer is a number"


def test_numbers_stay_numbers_and_only_text_is_neutralised(
    db: Database, socialaftale: Bundle
) -> None:
    row, svc = _answered(db, socialaftale)
    answers = {"aalborg": "-2", "thisted": "3,5", "rebild": "-2+3", "hjorring": "0800"}
    for party, text in answers.items():
        svc.submit_answer(
            row.key,
            Q,
            party,
            {"vision-egenmestring": 2, "oevrige-oensker": text},
            at=at("2022-04-06"),
            actor=party,
        )
    with db.sessions() as s:
        table = answer_tables(s, row, bound_for(row))[0]
    wish = socialaftale.questionnaires["fagudvalg"].question("oevrige-oensker").label
    scale = socialaftale.questionnaires["fagudvalg"].question("vision-egenmestring").label
    col, scol = table.header.index(wish), table.header.index(scale)
    names = {socialaftale.parties.get(p).name: p for p in socialaftale.participants}
    cells = {names[r[0]]: r[col] for r in table.rows}
    assert cells["aalborg"] == -2 and cells["thisted"] == 3.5
    assert cells["rebild"] == "-2+3" and cells["hjorring"] == "0800", "text stays text"
    assert all(isinstance(r[scol], int) for r in table.rows)
    ws = load_workbook(io.BytesIO(to_xlsx([table]))).active
    assert ws is not None
    xlsx = {names[r[0].value]: r[col + 0] for r in ws.iter_rows(min_row=2)}
    assert xlsx["aalborg"].value == -2 and xlsx["aalborg"].data_type == "n"
    assert xlsx["thisted"].value == 3.5 and xlsx["thisted"].data_type == "n"
    assert xlsx["rebild"].value == "-2+3" and xlsx["rebild"].data_type == "s"
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig")), delimiter=";"))
    by_party = {names[r[0]]: r for r in rows[1:]}
    assert by_party["aalborg"][col] == "-2", "a negative number is not neutralised"
    assert by_party["thisted"][col] == "3,5"
    assert by_party["rebild"][col] == "'-2+3", "text that starts a formula is"
    assert by_party["hjorring"][col] == "0800"
    assert all(by_party[p][scol] == "2" for p in answers)
    assert neutralise(-2) == -2 and neutralise("-2+3") == "'-2+3"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"


def test_sheet_names_are_cut_at_a_word_and_unique() -> None:
    used: set[str] = set()
    long = "Spørgsmål til de politiske udvalg"
    names = [sheet_title(t, used) for t in (long, long, long.upper(), "A/B: [x]?", "")]
    assert names == [
        "Spørgsmål til de politiske…",
        "Spørgsmål til de politiske… (2)",
        "SPØRGSMÅL TIL DE POLITISKE… (3)",
        "A-B- -x--",
        "Ark",
    ]
    assert all(len(n) <= 31 for n in names)
    assert sheet_title("Kort navn", used) == "Kort navn"
    assert sheet_title("x" * 40, used) == "x" * 30 + "…"


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
