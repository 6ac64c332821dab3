"""The weekly status digest reaches the secretariat at a real SMTP server on Mondays only, once
per week, and a Monday the scheduler missed (downtime) or a holiday Monday is not made up later."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from aftaleflow.cli_mail import deliver_callback
from aftaleflow.config import Settings
from workflow.calendar import TZ, to_local
from workflow.loader import load_bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

from .conftest import SmtpServer

ROOT = Path(__file__).resolve().parents[2]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.smtp
def test_the_digest_arrives_on_mondays_only_once_a_week_also_after_downtime(
    mail_db: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    service = Service(mail_db, link_secret=mail_settings.secret_key)
    bundle = load_bundle(ROOT / "definitions/processes/socialaftale.yaml")
    service.start(bundle, 2022, at=local("2022-01-03T08:00"), key="sa-2022")
    deliver = deliver_callback(mail_settings, mail_db)

    # the scheduler's moments: (tick moment, digests it queues)
    moments = [
        ("2022-05-16T08:00", 1),  # Monday before office hours: queued, sent at 09:00
        ("2022-05-16T09:05", 0),  # the same Monday again: already queued
        ("2022-05-16T15:59", 0),
        ("2022-05-17T10:00", 0),  # Tuesday
        # down from Friday 20 May to Tuesday 24 May: the Monday of week 21 is not made up
        ("2022-05-24T10:00", 0),
        ("2022-05-30T16:00", 0),  # Monday, but the office has closed
        ("2022-05-31T09:00", 0),
        ("2022-06-06T10:00", 0),  # 2. pinsedag: a holiday Monday, no digest that week
        ("2022-06-13T11:30", 1),
    ]
    for text, expected in moments:
        at = local(text)
        assert service.queue_digests(at) == expected, text
        deliver(at)

    digests = [
        r.message for r in smtp_server.received if str(r.message["Subject"]).startswith("Ugestatus")
    ]
    assert [str(m["Subject"]) for m in digests] == [
        "Ugestatus uge 20: Nordjysk Socialaftale 2023-2024",
        "Ugestatus uge 24: Nordjysk Socialaftale 2023-2024",
    ]
    for m in digests:
        sent = to_local(m["Date"].datetime)
        assert sent.weekday() == 0 and 9 <= sent.hour < 16, sent
        assert m["To"].addresses[0].addr_spec.endswith(".example")
    first = digests[0].get_body(("plain",)).get_content()
    # the councils' calendars already show Læsø's byråd meeting after the approval deadline
    assert "RISIKO I GODKENDELSEN" in first and "Læsø Kommune" in first
    with mail_db.sessions() as s:
        kinds = [r.kind for r in s.scalars(select(OutboxRow).where(OutboxRow.kind == "digest"))]
        queued = [
            e.data["week"]
            for e in s.scalars(select(EventRow).where(EventRow.kind == "digest_queued"))
        ]
    assert kinds == ["digest", "digest"] and queued == [20, 24]
