"""The submission to Socialstyrelsen: the approved version attached, its hash in the text."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from pathlib import Path

import pytest

from aftaleflow.cli_mail import make_transport
from notifications.sender import drain
from workflow.calendar import local_to_utc
from workflow.loader import load_bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database

from .conftest import SmtpServer, make_settings

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
