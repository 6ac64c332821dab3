"""The compiled report from the 2022 scenario with varied answers from all twelve parties
(tests/report_answers.py; Region Nordjylland late): the page's figures and SVG charts, the
secretariat's summary (admins write versions, viewers read), the PDF with its charts, the
DOCX with Word headings and tables, and the figures as XLSX with numbers as numbers."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.browser.support import AFTER_DEADLINE, AFTER_INVITATIONS
from tests.browser.support import QUESTIONNAIRE as Q
from tests.integration.dashboard_support import (
    PROCESS,
    VIEWER,
    VIEWER_PASSWORD,
    Dash,
    csrf_token,
    dashboard,
)
from tests.report_answers import CHOICES, LATE, PARTIES, SCALES, TEXTS, submit_varied
from workflow.loader import Bundle
from workflow.storage.db import Database

REPORT = f"{PROCESS}/rapport/{Q}"
SUMMARY = "Udvalgene bakker bredt op om egenmestring.\n\n- tidlig indsats\n- borgeren for bordenden"


@pytest.fixture
def varied(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        submit_varied(db)
        d.clock.set(AFTER_DEADLINE)
        d.login()
        yield d


def _table(html: str, qid: str) -> str:
    return html.split(f'data-figures="{qid}"')[1].split("</table>")[0]


def save(d: Dash, section: str, text: str, based_on: int) -> int:
    token = csrf_token(d.client.get(REPORT).text)
    r = d.client.post(
        f"{REPORT}/opsamling",
        data={"csrf_token": token, "section": section, "based_on": str(based_on), "text": text},
    )
    return r.status_code


def test_the_page_shows_the_figures_and_charts_of_the_twelve_parties(varied: Dash) -> None:
    html = varied.client.get(REPORT).text
    assert "12 af 12 parter har svaret." in html
    for qid, expected in CHOICES.items():
        rows = re.findall(r'data-option="([^"]+)">.*?data-count="(\d+)"', _table(html, qid))
        assert {v: int(n) for v, n in rows} == {v: c for v, (c, _) in expected.items()}, qid
        ranks = re.findall(r'data-option="[^"]+"><td>(\d+)</td>', _table(html, qid))
        assert [int(r) for r in ranks] == sorted(r for _, r in expected.values()), qid
    for qid, (_, distribution, _mean, _median) in SCALES.items():
        points = re.findall(r'data-count="(\d+)"', _table(html, qid))
        assert [int(n) for n in points] == distribution, qid
    assert 'data-mean="3.75" data-median="3.5"' in html
    assert "Gennemsnit 3,75, median 3,5 (skala 1–5)." in html
    coverage = dict(re.findall(r'data-party="([a-z-]+)" data-status="([a-z]+)"', html))
    assert coverage == {p: "late" if p == LATE else "answered" for p in PARTIES}
    assert "11 har svaret til tiden, 1 for sent, 0 er fritaget, og 0 har ikke svaret." in html
    assert (
        "»Spørgsmål til de politiske udvalg om den nye Nordjyske Socialaftale« (fagudvalg), version 1"
        in html
    )
    wishes = html.split('data-question="oevrige-oensker"')[1].split("</section>")[0]
    assert re.findall(r'<li data-party="([a-z-]+)">', wishes) == list(TEXTS)
    assert "&lt;script&gt;" in wishes and "<script>" not in html
    # a chart per answered choice or scale question, with its numbers as text and a desc
    assert html.count('<svg class="chart__svg"') == 6  # two multiple choices nobody answered
    prio = html.split('data-question="fokusomraader-prioritet"')[1].split("</section>")[0]
    assert re.search(
        r"<desc id=\"[^\"]+\">Søjlediagram over 12 parters svar\. Den gode alderdom: 5 \(41,7 %\)",
        prio,
    )
    assert ">5 (41,7 %)</text>" in prio and ">2 (16,7 %)</text>" in prio
    assert (
        "Hjørring Kommune, Læsø Kommune, Morsø Kommune, Thisted Kommune, Vesthimmerlands Kommune"
        in prio
    )


def test_the_page_in_english_is_complete(varied: Dash) -> None:
    html = varied.client.get(f"{REPORT}?lang=en").text
    assert "Who answered" in html and "5 (41.7%)" in html and "Mean 3.75, median 3.5" in html
    assert (
        "Write the secretariat&#39;s summary" in html or "Write the secretariat's summary" in html
    )


def test_an_admin_saves_versions_above_the_figures_and_a_viewer_only_reads(varied: Dash) -> None:
    assert save(varied, "vision", "Første udkast.", 0) == 303
    assert save(varied, "vision", SUMMARY, 1) == 303
    html = varied.client.get(REPORT).text
    vision = html.split('data-section="vision"')[1].split('data-section="den-gode-alderdom"')[0]
    text = vision.index("Udvalgene bakker bredt op om egenmestring.")
    assert vision.index("Sekretariatets opsamling") < text < vision.index("data-question=")
    assert "<li>tidlig indsats</li>" in vision
    assert "Version 2, gemt af anne" in vision
    assert "Tidligere versioner (1)" in vision and "Første udkast." in vision
    events = varied.events("report_summary_saved")
    assert [(e.actor, e.data["section"], e.data["version"]) for e in events] == [
        ("user:anne", "vision", 1),
        ("user:anne", "vision", 2),
    ]
    # a stale edit: refused with who saved in between, and the typed text is kept
    token = csrf_token(html)
    r = varied.client.post(
        f"{REPORT}/opsamling",
        data={"csrf_token": token, "section": "vision", "based_on": "1", "text": "Mit bud"},
    )
    assert r.status_code == 409
    assert "anne har gemt version 2 af opsamlingen" in r.text and ">Mit bud</textarea>" in r.text
    too_long = varied.client.post(
        f"{REPORT}/opsamling",
        data={"csrf_token": token, "section": "", "based_on": "0", "text": "x" * 20_001},
    )
    assert too_long.status_code == 400 and 'aria-invalid="true"' in too_long.text
    no_token = varied.client.post(
        f"{REPORT}/opsamling", data={"section": "", "based_on": "0", "text": "x"}
    )
    assert no_token.status_code == 400
    assert (
        varied.client.post(
            f"{REPORT}/opsamling",
            data={"csrf_token": token, "section": "ukendt", "based_on": "0", "text": "x"},
        ).status_code
        == 404
    )
    assert len(varied.events("report_summary_saved")) == 2

    varied.client.post("/sekretariat/logout", data={"csrf_token": token})
    varied.login(VIEWER, VIEWER_PASSWORD)
    page = varied.client.get(REPORT).text
    assert "Udvalgene bakker bredt op om egenmestring." in page
    assert "<textarea" not in page and "/opsamling" not in page
    r = varied.client.post(
        f"{REPORT}/opsamling",
        data={"csrf_token": csrf_token(page), "section": "", "based_on": "0", "text": "x"},
    )
    assert r.status_code == 403


def test_the_pdf_has_the_charts_and_the_summary(varied: Dash) -> None:
    assert save(varied, "", "Samlet set ønsker parterne en tidlig indsats.", 0) == 303
    r = varied.client.get(f"{REPORT}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(r.data))
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "Sekretariatets samlede opsamling Samlet set ønsker parterne en tidlig indsats." in text
    # the charts' numbers: drawn as "count (share)" beside each bar, in ranking order
    for value in ["5 (41,7 %)", "2 (16,7 %)", "8 (66,7 %)", "4 (33,3 %)", "1 (8,3 %)"]:
        assert value in text, value
    prio = text.split("højest prioritet i den nye aftale?")[1]
    assert prio.index("Den gode alderdom 5 (41,7 %)") < prio.index("2 (16,7 %)")
    assert "Gennemsnit 3,75, median 3,5 (skala 1–5)." in text
    assert "Husk øerne: <script>window.__xss = 1</script>" in text


def test_the_docx_has_the_summary_as_a_heading_and_paragraphs(varied: Dash) -> None:
    assert save(varied, "vision", SUMMARY, 0) == 303
    r = varied.client.get(f"{REPORT}.docx")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment")
    doc = Document(io.BytesIO(r.data))
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    assert paragraphs[0] == ("Title", "Samlet rapport: Spørgsmål til de politiske udvalg")
    i = paragraphs.index(("Heading 2", "Sekretariatets opsamling"))
    assert paragraphs[i - 1] == ("Heading 1", "Vision – egenmestring (Egenmestring)")
    assert paragraphs[i + 1 : i + 4] == [
        ("Normal", "Udvalgene bakker bredt op om egenmestring."),
        ("List Bullet", "tidlig indsats"),
        ("List Bullet", "borgeren for bordenden"),
    ]
    assert ("Heading 1", "Hvem har svaret") in paragraphs
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    assert all(t.style.name == "Table Grid" for t in doc.tables)
    prio = next(t for t in tables if t[1][1] == "Den gode alderdom")
    assert prio[0] == ["Placering", "Svarmulighed", "Antal", "Andel", "Parter"]
    assert [(row[0], row[1], row[2]) for row in prio[1:]] == [
        ("1", "Den gode alderdom", "5"),
        ("1", "Sammen om en stærk socialpsykiatri", "5"),
        ("3", "Effektive og vidensbaserede løsninger (bedre og billigere pladser)", "2"),
    ]
    assert doc.tables[0].rows[0]._tr.trPr.xml.count("tblHeader") == 1  # a header row


def test_the_xlsx_holds_the_figures_as_numbers(varied: Dash, socialaftale: Bundle) -> None:
    r = varied.client.get(f"{REPORT}.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames[:6] == [
        "Om rapporten",
        "Dækning",
        "Oversigt",
        "Valg",
        "Skalaer",
        "Fritekst",
    ]
    label = socialaftale.questionnaires["fagudvalg"].question("fokusomraader-prioritet").label
    choices = wb["Valg"]
    header = [c.value for c in choices[1]]
    assert header[2:7] == ["Svarmulighed", "Antal", "Andel (%)", "Placering", "Besvaret"]
    rows = [row for row in choices.iter_rows(min_row=2) if row[1].value == label]
    got = {row[2].value: (row[3].value, row[4].value, row[5].value) for row in rows}
    assert got == {
        "Den gode alderdom": (5, 41.7, 1),
        "Sammen om en stærk socialpsykiatri": (5, 41.7, 1),
        "Effektive og vidensbaserede løsninger (bedre og billigere pladser)": (2, 16.7, 3),
    }
    for row in rows:
        assert [row[i].data_type for i in (3, 4, 5, 6)] == ["n"] * 4
    overview = {row[1].value: row for row in wb["Oversigt"].iter_rows(min_row=2)}
    vision_label = socialaftale.questionnaires["fagudvalg"].question("vision-egenmestring").label
    assert (overview[vision_label][3].value, overview[vision_label][4].value) == (12, 3.75)
    assert overview[vision_label][4].data_type == "n"
    scales = [
        r for r in wb["Skalaer"].iter_rows(min_row=2, values_only=True) if r[1] == vision_label
    ]
    assert [(r[2], r[4]) for r in scales] == [(1, 0), (2, 1), (3, 5), (4, 2), (5, 4)]
    about = {r[0]: r[1] for r in wb["Om rapporten"].iter_rows(min_row=2, values_only=True)}
    assert about["Spørgeskemaets version"] == 1 and about["Parter"] == 12
    assert about["Svaret for sent"] == 1 and about["Svaret"] == 11
    texts = list(wb["Fritekst"].iter_rows(min_row=2))
    assert all(row[3].data_type == "s" for row in texts), "a '=HYPERLINK' answer stays text"
    wb.close()
