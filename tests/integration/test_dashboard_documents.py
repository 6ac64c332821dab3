"""The agreement document through the dashboard: versions uploaded, one put up for approval,
the version each approval approved, and the submission to Socialstyrelsen carrying the
approved version's hash, or refused (and shown as refused) while a party approved another."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.support import (
    AFTER_APPROVAL_REQUESTS,
    APPROVAL,
    BEFORE_APPROVAL,
    KEY,
    SECRET,
    docx_bytes,
    pdf_bytes,
)
from web.uploads import FILES_MB
from workflow.calendar import local_to_utc
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import DocumentRow, OutboxRow

from .dashboard_support import ADMIN, PROCESS, Dash, dashboard

V1 = pdf_bytes("Nordjysk Socialaftale 2023-24, udkast 1")
V2 = docx_bytes()
DOCUMENT = f"{PROCESS}/dokument"


def at(d: str, hour: int = 10) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


@pytest.fixture
def approving(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    """The day before the approval stage would open: no agreement is up yet (the stage waits)."""
    with dashboard(db_url, db, socialaftale, tmp_path, BEFORE_APPROVAL) as d:
        d.login()
        yield d


def approve_all(d: Dash, moment: datetime) -> None:
    """Every party's chain approves (each step through the service, as its link would)."""
    service = Service(d.db, link_secret=SECRET)
    for party in d.bundle.participants:
        region = d.bundle.parties.get(party).kind == "region"
        for step in ["regionsraad"] if region else ["socialudvalg", "byraad"]:
            service.record_approval(
                KEY, APPROVAL, party, step, decision="approved", at=moment, actor=party
            )


def run_to(d: Dash, until: datetime) -> None:
    service = Service(d.db, link_secret=SECRET)
    while (due := service.next_due()) is not None and due <= until:
        service.tick(due)
    d.clock.set(until)


def upload_both(d: Dash) -> None:
    r = d.upload(
        DOCUMENT, {"file": (io.BytesIO(V1), "aftale-udkast-1.pdf"), "note": "Udkast fra KKR"}
    )
    assert r.status_code == 303
    r = d.upload(
        DOCUMENT, {"file": (io.BytesIO(V2), "aftale-2.docx"), "note": "Rettet efter høring"}
    )
    assert r.status_code == 303


def test_upload_versions_and_refuse_other_files(approving: Dash) -> None:
    d = approving
    upload_both(d)
    page = d.client.get(DOCUMENT).text
    assert "aftale-udkast-1.pdf" in page and "aftale-2.docx" in page
    assert hashlib.sha256(V1).hexdigest()[:12] in page
    assert "Ingen version er sendt til godkendelse endnu." in page
    with d.db.sessions() as s:
        docs = s.scalars(select(DocumentRow).order_by(DocumentRow.version)).all()
    assert [(x.version, x.uploaded_by, x.note) for x in docs] == [
        (1, f"user:{ADMIN}", "Udkast fra KKR"),
        (2, f"user:{ADMIN}", "Rettet efter høring"),
    ]
    bad = d.upload(DOCUMENT, {"file": (io.BytesIO(b"<html>x</html>"), "a.pdf"), "note": "x"})
    assert bad.status_code == 400 and "Filen skal være PDF, DOCX eller ODT" in bad.text
    none = d.upload(DOCUMENT, {"note": "ingen fil"})
    assert none.status_code == 400 and "Vælg en fil" in none.text
    no_note = d.upload(DOCUMENT, {"file": (io.BytesIO(V1), "a.pdf"), "note": ""})
    assert no_note.status_code == 400 and "Skal udfyldes" in no_note.text
    file = d.client.get(f"{DOCUMENT}/1")
    assert file.data == V1 and file.mimetype == "application/pdf"
    assert file.headers["Content-Disposition"].startswith("attachment")
    assert d.client.get(f"{DOCUMENT}/9").status_code == 404
    (event, _) = d.events("document_uploaded")
    assert event.actor == f"user:{ADMIN}" and event.reason == "Udkast fra KKR"


def test_the_submission_carries_the_approved_versions_hash(approving: Dash) -> None:
    d = approving
    upload_both(d)
    r = d.form(f"{DOCUMENT}/2/til-godkendelse", {"reason": "Den endelige version"})
    assert r.status_code == 303
    wanted = hashlib.sha256(V2).hexdigest()
    page = d.client.get(DOCUMENT).text
    assert "Version 2 (aftale-2.docx) er sendt til godkendelse" in page
    (event,) = d.events("document_put_up_for_approval")
    assert (event.actor, event.reason) == (f"user:{ADMIN}", "Den endelige version")
    run_to(d, AFTER_APPROVAL_REQUESTS)
    approve_all(d, at("2022-11-08"))
    run_to(d, at("2022-12-06"))
    with d.db.sessions() as s:
        mail = s.scalar(select(OutboxRow).where(OutboxRow.kind == "submission"))
    assert mail is not None and mail.context["document"]["sha256"] == wanted
    page = d.client.get(DOCUMENT).text
    submission = page.split('data-testid="submission"')[1].split("</dl>")[0]
    assert wanted in submission and "version 2" in submission
    approvals = page.split('id="approvals"')[1].split("</table>")[0]
    assert approvals.count("version 2") == 23
    assert "en anden version" not in page
    assert "kan ikke sendes" not in d.client.get(PROCESS).text


def test_the_submission_is_refused_while_a_party_approved_another_version(approving: Dash) -> None:
    d = approving
    upload_both(d)
    d.form(f"{DOCUMENT}/1/til-godkendelse", {"reason": "Udkastet til godkendelse"})
    run_to(d, AFTER_APPROVAL_REQUESTS)
    approve_all(d, at("2022-11-08"))
    d.clock.set(at("2022-11-20"))
    r = d.form(f"{DOCUMENT}/2/til-godkendelse", {"reason": "Rettelse efter godkendelsen"})
    assert r.status_code == 303
    run_to(d, at("2022-12-20"))
    with d.db.sessions() as s:
        assert s.scalar(select(OutboxRow).where(OutboxRow.kind == "submission")) is None
    v1, v2 = hashlib.sha256(V1).hexdigest(), hashlib.sha256(V2).hexdigest()
    page = d.client.get(DOCUMENT).text
    refused = page.split('data-testid="submission-refused"')[1].split("</div>")[0]
    assert "Aftalen kan ikke sendes til Socialstyrelsen" in refused
    assert v1[:12] in refused and v2[:12] in refused
    assert page.count("en anden version end den, der er til godkendelse") == 23
    assert "Aftalen kan ikke sendes til Socialstyrelsen" in d.client.get(PROCESS).text
    party = d.client.get(f"{PROCESS}/part/aalborg").text
    assert "version 1" in party and v1[:12] in party


def test_a_document_over_the_request_budget_is_refused_with_the_note_kept(
    approving: Dash,
) -> None:
    approving.app.config[FILES_MB] = 1
    big = V1 + b"0" * (2 * 1024 * 1024)
    r = approving.upload(DOCUMENT, {"file": (io.BytesIO(big), "stor.pdf"), "note": "Stor note"})
    assert r.status_code == 400 and "Filen er for stor" in r.text, "not 'the file is empty'"
    assert "Stor note" in r.text
    assert approving.events("document_uploaded") == []
