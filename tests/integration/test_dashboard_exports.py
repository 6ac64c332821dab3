"""Exports and the compiled report through the dashboard: XLSX with one sheet per
questionnaire and one row per party, CSV with formulas neutralised, the report as a page and
as a PDF with Danish letters; and a ``<script>`` answer stays inert text everywhere."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.browser.support import AFTER_INVITATIONS, BEFORE_DEADLINE, KEY, QUESTIONNAIRE, SECRET
from web.dashboard.report_pdf import printable
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database

from .dashboard_support import PAYLOADS, PROCESS, Dash, answer_all, answer_for, dashboard

FREE_TEXT = (
    "Har udvalget andre ønsker, bemærkninger til visionen eller opmærksomhedspunkter til "
    "den nye Nordjyske Socialaftale?"
)
SCRIPT = "<script>window.__xss = 1</script>"
ESCAPED = "&lt;script&gt;window.__xss = 1&lt;/script&gt;"


@pytest.fixture
def answered(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        answer_all(db, socialaftale, BEFORE_DEADLINE)
        d.clock.set(BEFORE_DEADLINE)
        d.login()
        yield d


def download(d: Dash, url: str, mimetype: str) -> bytes:
    r = d.client.get(url)
    assert r.status_code == 200, url
    assert r.mimetype == mimetype
    assert r.headers["Content-Disposition"].startswith("attachment")
    return r.data


def test_answers_xlsx_has_a_sheet_per_questionnaire_and_a_row_per_party(answered: Dash) -> None:
    data = download(
        answered,
        f"{PROCESS}/eksport/svar.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Spørgsmål til de politiske…"]  # 31 characters at most
    ws = wb.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "Part" and header[-3:] == ("Indsendt", "Version", "For sent")
    assert FREE_TEXT in header
    names = [r[0] for r in rows[1:]]
    assert names == [answered.bundle.parties.get(p).name for p in answered.bundle.participants]
    column = header.index(FREE_TEXT)
    texts = [r[column] for r in rows[1:]]
    assert texts[0] == f"{PAYLOADS[0]} – ønske fra aalborg"
    assert any(SCRIPT in str(t) for t in texts)
    for row in ws.iter_rows(min_row=2):
        cell = row[column]
        assert cell.data_type == "s", "text, never a formula"
    wb.close()


def test_csv_exports_neutralise_formulas(answered: Dash) -> None:
    data = download(answered, f"{PROCESS}/eksport/svar-{QUESTIONNAIRE}.csv", "text/csv").decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(data), delimiter=";"))
    assert rows[0][0] == "Part" and len(rows) == 13
    scale = rows[0].index(
        answered.bundle.questionnaires["fagudvalg"].question("vision-egenmestring").label
    )
    assert {r[scale] for r in rows[1:]} == {"4"}, "a scale answer is a plain number"
    for url in (
        f"{PROCESS}/eksport/svar-{QUESTIONNAIRE}.csv",
        f"{PROCESS}/eksport/godkendelser.csv",
    ):
        assert answered.client.get(url).headers["Content-Type"] == "text/csv; charset=utf-8"
    free_text = [r[rows[0].index(FREE_TEXT)] for r in rows[1:]]
    for text in free_text:
        assert not text.startswith(("=", "+", "-", "@")), text
    assert f"'{PAYLOADS[0]}" in free_text[0]
    assert any(t.startswith("'+1+1") for t in free_text)
    assert any(t.startswith("'-2+3") for t in free_text)
    assert any(t.startswith("'@SUM(A1)") for t in free_text)
    assert any(t.startswith(SCRIPT) for t in free_text), "a script is plain text in a CSV"
    approvals = download(answered, f"{PROCESS}/eksport/godkendelser.csv", "text/csv")
    assert approvals.decode("utf-8-sig").startswith("Part;Organ;Status")
    xlsx = download(
        answered,
        f"{PROCESS}/eksport/godkendelser.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["Godkendelser"]
    wb.close()


def test_the_compiled_report_names_every_partys_answer(answered: Dash) -> None:
    r = answered.client.get(f"{PROCESS}/rapport/{QUESTIONNAIRE}")
    assert r.status_code == 200
    html = r.text
    assert "12 af 12 parter har svaret." in html
    question = html.split('data-question="oevrige-oensker"')[1].split("</section>")[0]
    for party in answered.bundle.participants:
        name = answered.bundle.parties.get(party).name
        assert f'data-party="{party}"><strong>{name}</strong>' in question
        assert f"ønske fra {party}" in question
    assert SCRIPT not in html and ESCAPED in html, "the script is shown, not run"
    assert "<b>fed</b>" not in html


def test_the_report_as_pdf_renders_danish_letters_and_the_script_as_text(answered: Dash) -> None:
    data = download(answered, f"{PROCESS}/rapport/{QUESTIONNAIRE}.pdf", "application/pdf")
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "Samlet rapport: Spørgsmål til de politiske udvalg" in text
    assert "Læsø Kommune" in text and "Brønderslev Kommune" in text
    assert "ønske fra aalborg" in text
    assert SCRIPT in text, "the script is printed as text"
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index,union-attr]
    }
    assert any("DejaVuSans" in f for f in fonts), "the shipped TrueType font, not a core font"


def test_the_pdf_prints_symbols_and_emoji_with_the_shipped_font(answered: Dash) -> None:
    """✓, ★ and Danish letters come through as themselves; an emoji (👍 with a skin tone,
    😀) is printed as its name, never as a black box, and the text extracts cleanly."""
    wish = "✓ Enig 😀 👍🏽 – Ærø, Ål og Øster Hurup → «godt» ★"
    Service(answered.db, link_secret=SECRET).submit_answer(
        KEY,
        QUESTIONNAIRE,
        "thisted",
        {**answer_for("thisted", 0), "oevrige-oensker": wish},
        at=BEFORE_DEADLINE,
        actor="thisted",
    )
    data = download(answered, f"{PROCESS}/rapport/{QUESTIONNAIRE}.pdf", "application/pdf")
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "✓ Enig [GRINNING FACE] [THUMBS UP SIGN] – Ærø, Ål og Øster Hurup → «godt» ★" in text
    assert "\u25a0" not in text and "\ufffd" not in text, "no black box, no replacement"
    assert printable("中") == "[CJK UNIFIED IDEOGRAPH-4E2D]"
    assert printable("❤\ufe0f\u200d🔥") == "❤[FIRE]"


def test_a_script_answer_is_inert_on_the_party_page(answered: Dash) -> None:
    # the fifth party (Jammerbugt) answered with the <script> payload
    page = answered.client.get(f"{PROCESS}/part/jammerbugt").text
    assert SCRIPT not in page and ESCAPED in page
    assert (
        "script-src 'none'"
        in answered.client.get(f"{PROCESS}/part/jammerbugt").headers["Content-Security-Policy"]
    )


def test_unknown_or_wrong_stages_are_404(answered: Dash) -> None:
    for url in (
        f"{PROCESS}/eksport/svar-ukendt.csv",
        f"{PROCESS}/eksport/svar-dialogforum.csv",
        f"{PROCESS}/rapport/dialogforum",
        f"{PROCESS}/rapport/ukendt.pdf",
        "/sekretariat/proces/ukendt/eksport/svar.xlsx",
    ):
        assert answered.client.get(url).status_code == 404, url
