"""The submission to Socialstyrelsen: the approved version attached, its hash in the text."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from aftaleflow.cli_mail import make_transport
from notifications.sender import drain
from web import close_app, create_app
from workflow.calendar import local_to_utc
from workflow.errors import GuardRefused
from workflow.loader import load_bundle
from workflow.queries import process_status
from workflow.service import Service, bound_for
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow, ProcessRow

from .conftest import SmtpServer, make_settings

APPROVAL = "politisk-godkendelse"
PDF = b"%PDF-1.4\n% Nordjysk Socialaftale 2023-24, godkendt udgave\n"


def at(d: str, hour: int = 12) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


@pytest.mark.smtp
def test_the_submission_carries_the_approved_agreement(
    mail_db: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = make_settings(tmp_path, mail_db, smtp_server.url)
    bundle = load_bundle("definitions/processes/socialaftale.yaml")
    svc = Service(mail_db, link_secret=settings.secret_key)
    key = simulate(svc, bundle, 2022, until=at("2022-11-06")).key
    svc.add_document(
        key,
        filename="nordjysk-socialaftale-2023-24.pdf",
        media_type="application/pdf",
        content=PDF,
        at=at("2022-11-01"),
        actor="sekretariatet",
    )
    svc.put_up_for_approval(key, 1, at=at("2022-11-01"), actor="sekretariatet", reason="KKR")
    while (due := svc.next_due()) is not None and due <= at("2022-11-07", 10):
        svc.tick(due)
    for party in bundle.participants:
        steps = (
            ["regionsraad"]
            if bundle.parties.get(party).kind == "region"
            else ["socialudvalg", "byraad"]
        )
        for step in steps:
            svc.record_approval(
                key,
                "politisk-godkendelse",
                party,
                step,
                decision="approved",
                at=at("2022-11-08"),
                actor=party,
                agenda_item="7",
            )
    while (due := svc.next_due()) is not None and due <= at("2022-12-31"):
        svc.tick(due)
    drain(mail_db, make_transport(settings), settings, at("2022-12-06", 10))
    mails = [
        r.message for r in smtp_server.received if "socialstyrelsen" in str(r.message["To"]).lower()
    ]
    assert len(mails) == 1
    msg = mails[0]
    files = [p for p in msg.iter_attachments() if p.get_filename()]
    assert [p.get_filename() for p in files] == ["nordjysk-socialaftale-2023-24.pdf"]
    assert files[0].get_content() == PDF
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert hashlib.sha256(PDF).hexdigest() in text
    assert "Læsø Kommune" in text


@pytest.mark.smtp
def test_no_approval_request_before_an_agreement_is_up_then_every_request_names_it(
    mail_db: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """Issue 11 point 2: the approval stage waits for a version put up for approval (status
    says why, opening it by hand is refused); then each request names the version and its
    personal link downloads exactly that document."""
    settings = make_settings(tmp_path, mail_db, smtp_server.url)
    bundle = load_bundle("definitions/processes/socialaftale.yaml")
    svc = Service(mail_db, link_secret=settings.secret_key)
    key = simulate(svc, bundle, 2022, until=at("2022-11-06")).key
    while (due := svc.next_due()) is not None and due <= at("2022-11-14"):
        svc.tick(due)
    svc.tick(at("2022-11-14"))
    with mail_db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None
        st = process_status(s, key, bound_for(row))
        requests = s.scalars(select(OutboxRow).where(OutboxRow.kind == "approval_request")).all()
    assert requests == []
    assert next(x.status for x in st.stages if x.id == APPROVAL) == "pending"
    assert st.waiting_for_agreement == ["Aftalen godkendes politisk"]
    with pytest.raises(GuardRefused, match="sendt til godkendelse"):
        svc.open_stage(key, APPROVAL, at=at("2022-11-14"), actor="sekretariatet", reason="nu")

    svc.add_document(
        key,
        filename="socialaftale-2023-24.pdf",
        media_type="application/pdf",
        content=PDF,
        at=at("2022-11-14"),
        actor="sekretariatet",
    )
    svc.add_document(
        key,
        filename="kladde.pdf",
        media_type="application/pdf",
        content=b"%PDF-1.4 kladde, ikke sendt",
        at=at("2022-11-14"),
        actor="sekretariatet",
    )
    svc.put_up_for_approval(key, 1, at=at("2022-11-14"), actor="sekretariatet", reason="KKR")
    drain(mail_db, make_transport(settings), settings, at("2022-11-14", 13))
    mails = [
        r.message for r in smtp_server.received if "godkendelse i" in str(r.message["Subject"])
    ]
    assert len(mails) == 12  # the first body of each party's chain
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "version 1 (socialaftale-2023-24.pdf, SHA-256 " in text
    url = re.search(r"https://aftaleflow\.example(/godkend/\S+/aftale/1)\b", text)
    assert url, text
    app = create_app(
        database_url=mail_db.url,
        secret_key=settings.secret_key,
        base_url="https://aftaleflow.example",
        upload_dir=tmp_path / "uploads",
        clock=lambda: at("2022-11-14", 14),
    )
    try:
        client = app.test_client()
        got = client.get(url.group(1))
        assert got.status_code == 200
        assert got.data == PDF
        assert got.mimetype == "application/pdf"
        assert got.headers["Content-Disposition"].startswith("attachment")
        assert client.get(url.group(1)[: -len("/1")] + "/2").status_code == 404  # never put up
        page = client.get(url.group(1)[: -len("/aftale/1")])
        assert "Version 1: socialaftale-2023-24.pdf" in page.text
        assert f'href="{url.group(1)}"' in page.text
    finally:
        close_app(app)
