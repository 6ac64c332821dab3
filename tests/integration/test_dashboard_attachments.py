"""Files the parties sent, opened from the dashboard: a file uploaded as an answer (through the
personal link) and the minutes a council attached to its approval (through ``/godkend/``)
download from the party page, the process page and the compiled report (page and PDF), for
a logged-in admin or viewer, byte for byte, always as an attachment with the type found in
the content. A forged or foreign stored name, a path, or a file changed on disk is a 404; a
visitor is sent to log in. A minutes web address is a link, a ``javascript:`` one is text."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from tests.browser.support import (
    AFTER_APPROVAL_REQUESTS,
    AFTER_INVITATIONS,
    APPROVAL,
    KEY,
    QUESTIONNAIRE,
    SECRET,
    docx_bytes,
    pdf_bytes,
    token,
)
from tests.integration.test_web_respond import COMPLETE, post_multipart
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database

from .dashboard_support import PROCESS, VIEWER, VIEWER_PASSWORD, Dash, dashboard

REFERAT = pdf_bytes("Referat fra Rebild socialudvalg")
REFERAT_NAME = "Referat – socialudvalg æøå.pdf"
NOTAT = docx_bytes()
MINUTES = pdf_bytes("Protokol fra Aalborg socialudvalg 8. november")
MINUTES_URL = "https://aalborg.example/dagsorden/7?punkt=3&vis=1"
EVIL_URL = "javascript:alert(document.cookie)"


def post_link(d: Dash, url: str, fields: dict[str, object]) -> None:
    """Fill a personal-link form (answer or approval) as the party would."""
    page = d.client.get(url)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    r = post_multipart(d.client, url, {"csrf_token": csrf.group(1), **fields})
    assert r.status_code == 303, r.text


def download_links(html: str) -> list[str]:
    return re.findall(r'href="(/sekretariat/proces/[^"]+/bilag/[^"]+)" download>', html)


@pytest.fixture
def answered(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    """Rebild answered with a PDF attached and Brønderslev with a DOCX, through their links."""
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.clock.set(datetime(2022, 4, 5, 10, 0, tzinfo=TZ))
        for party, content, name in (
            ("rebild", REFERAT, REFERAT_NAME),
            ("bronderslev", NOTAT, "notat.docx"),
        ):
            post_link(
                d,
                f"/svar/{token(db, party)}",
                {**COMPLETE, "action": "submit", "referat": (io.BytesIO(content), name)},
            )
        d.login()
        yield d


@pytest.fixture
def approved(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    """Aalborg's social committee approved with its minutes attached and a link to them;
    Rebild's decision was recorded with a ``javascript:`` address as its minutes."""
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_APPROVAL_REQUESTS) as d:
        d.clock.set(datetime(2022, 11, 9, 11, 0, tzinfo=TZ))
        url = f"/godkend/{token(db, 'aalborg', stage=APPROVAL, step='socialudvalg')}"
        post_link(
            d,
            url,
            {
                "meeting_date": "2022-11-08",
                "agenda_item": "7",
                "decision": "approved",
                "decision_text": "Godkendt",
                "minutes_file": (io.BytesIO(MINUTES), "Protokol 8-11.pdf"),
                "minutes_url": MINUTES_URL,
            },
        )
        Service(db, link_secret=SECRET).record_approval(
            KEY,
            APPROVAL,
            "rebild",
            "socialudvalg",
            decision="approved",
            minutes=EVIL_URL,
            at=d.clock(),
            actor="anne",
        )
        d.login()
        yield d


def only_link(html: str, party: str) -> str:
    (link,) = [u for u in download_links(html) if f"/part/{party}/" in u]
    return link


def test_an_uploaded_answer_file_downloads_byte_for_byte_from_every_page(answered: Dash) -> None:
    d = answered
    party_page = d.client.get(f"{PROCESS}/part/rebild").text
    link = only_link(party_page, "rebild")
    assert re.fullmatch(rf"{PROCESS}/part/rebild/bilag/[0-9a-f]{{32}}\.pdf", link)
    assert f'download>{REFERAT_NAME}</a> <span class="muted">(PDF, ' in party_page
    process_page = d.client.get(PROCESS).text
    assert 'id="attachments"' in process_page
    assert only_link(process_page, "rebild") == link
    assert only_link(process_page, "bronderslev").endswith(".docx")
    report = d.client.get(f"{PROCESS}/rapport/{QUESTIONNAIRE}").text
    assert only_link(report, "rebild") == link

    got = d.client.get(link)
    assert got.status_code == 200
    assert got.data == REFERAT
    assert got.mimetype == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"] == (
        'attachment; filename="Referat - socialudvalg aeoeaa.pdf"; '
        f"filename*=UTF-8''{quote(REFERAT_NAME, safe='')}"
    )
    docx = d.client.get(only_link(process_page, "bronderslev"))
    assert docx.data == NOTAT
    assert docx.mimetype == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert docx.headers["Content-Disposition"].startswith('attachment; filename="notat.docx"')


def test_the_report_pdf_names_and_links_the_attached_files(answered: Dash) -> None:
    d = answered
    link = only_link(d.client.get(f"{PROCESS}/part/rebild").text, "rebild")
    r = d.client.get(f"{PROCESS}/rapport/{QUESTIONNAIRE}.pdf")
    assert r.status_code == 200
    reader = PdfReader(io.BytesIO(r.data))
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "Bilag til svarene" in text
    assert f"Udvalgets referat/protokol: {REFERAT_NAME} (PDF," in text
    uris = {
        str(annot.get_object()["/A"]["/URI"])
        for page in reader.pages
        for annot in page.get("/Annots") or []
    }
    assert f"http://localhost{link}" in uris


def test_a_viewer_downloads_too_and_a_visitor_is_sent_to_log_in(answered: Dash) -> None:
    d = answered
    link = only_link(d.client.get(f"{PROCESS}/part/rebild").text, "rebild")
    visitor = d.app.test_client()
    r = visitor.get(link)
    assert r.status_code == 303
    assert r.headers["Location"] == f"/sekretariat/login?next={link}"
    viewer = d.app.test_client()
    page = viewer.get("/sekretariat/login").text
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert csrf
    viewer.post(
        "/sekretariat/login",
        data={"csrf_token": csrf.group(1), "name": VIEWER, "password": VIEWER_PASSWORD},
    )
    got = viewer.get(link)
    assert got.status_code == 200 and got.data == REFERAT


def test_forged_foreign_and_path_names_are_404(answered: Dash) -> None:
    d = answered
    link = only_link(d.client.get(f"{PROCESS}/part/rebild").text, "rebild")
    name = link.rsplit("/", 1)[1]
    base = f"{PROCESS}/part/rebild/bilag"
    for url in (
        f"{base}/{'0' * 32}.pdf",  # the right shape, but nobody sent it
        f"{base}/{name[:-4]}.odt",  # the stored name with another type
        f"{PROCESS}/part/aalborg/bilag/{name}",  # another party's file
        f"/sekretariat/proces/ukendt/part/rebild/bilag/{name}",
        f"{PROCESS}/part/ukendt/bilag/{name}",
        f"{base}/..%2F..%2F..%2Fetc%2Fpasswd",
        f"{base}/%2e%2e%2f{name}",
        f"{base}/....//{name}",
        f"{base}/{name}%00.html",
        f"{base}/{name.upper()}",
    ):
        assert d.client.get(url).status_code == 404, url
    assert d.client.get(link).status_code == 200


def test_a_file_changed_or_gone_on_disk_is_404(answered: Dash) -> None:
    d = answered
    link = only_link(d.client.get(f"{PROCESS}/part/rebild").text, "rebild")
    path = d.app.extensions["aftaleflow"].upload_dir / link.rsplit("/", 1)[1]
    path.write_bytes(b"<html><script>alert(1)</script></html>")
    assert d.client.get(link).status_code == 404, "not the recorded type"
    path.write_bytes(pdf_bytes("another PDF under the same name"))
    assert d.client.get(link).status_code == 404, "not the recorded content"
    path.unlink()
    assert d.client.get(link).status_code == 404


def test_attached_minutes_download_and_a_minutes_address_is_a_safe_link(approved: Dash) -> None:
    d = approved
    page = d.client.get(f"{PROCESS}/part/aalborg").text
    minutes = page[page.index('data-testid="minutes"') :]
    minutes = minutes[: minutes.index("</dd>")]
    link = only_link(minutes, "aalborg")
    assert 'download>Protokol 8-11.pdf</a> <span class="muted">(PDF, ' in minutes
    escaped = MINUTES_URL.replace("&", "&amp;")
    assert f'<a class="attachment-link" href="{escaped}" rel="noopener noreferrer">' in minutes
    got = d.client.get(link)
    assert got.status_code == 200
    assert got.data == MINUTES
    assert hashlib.sha256(got.data).hexdigest() == hashlib.sha256(MINUTES).hexdigest()
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith(
        "attachment; filename=\"Protokol 8-11.pdf\"; filename*=UTF-8''Protokol%208-11.pdf"
    )

    process_page = d.client.get(PROCESS).text
    assert only_link(process_page, "aalborg") == link
    assert "Referat (Socialudvalg)" in process_page
    assert f'href="{escaped}" rel="noopener noreferrer"' in process_page

    rebild = d.client.get(f"{PROCESS}/part/rebild").text
    assert EVIL_URL in rebild, "shown, as text"
    assert 'href="javascript:' not in rebild and 'href="javascript:' not in process_page


def test_minutes_are_downloadable_only_by_their_party(approved: Dash) -> None:
    d = approved
    page = d.client.get(f"{PROCESS}/part/aalborg").text
    name = only_link(page, "aalborg").rsplit("/", 1)[1]
    assert d.client.get(f"{PROCESS}/part/rebild/bilag/{name}").status_code == 404
    assert d.app.test_client().get(f"{PROCESS}/part/aalborg/bilag/{name}").status_code == 303
