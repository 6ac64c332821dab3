"""Issue 15, item 4's two gaps: a failing mark that a bounce set is not cleared by a later mail
the relay accepts, and mail to such an address is paused (not sent; the outbox row says why)
until the secretariat clears the mark — then it goes out at once. Real SMTP (aiosmtpd), a
real DSN read from dovecot, the real engine's reminders; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from aftaleflow.config import Settings
from notifications.audit import mark_failing, mark_ok
from notifications.sender import deliver_due
from tests import mail_samples as samples
from workflow.calendar import TZ
from workflow.contacts import clear_failing
from workflow.errors import GuardRefused
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import ContactStatusRow, EventRow, OutboxRow

from .conftest import SmtpServer
from .imap_server import ImapServer
from .inbox_support import read_inbox, send_invitations
from .test_mail_failures import smtp

MORSO = "socialudvalg@morso.example"


def status(db: Database, address: str) -> tuple[str, str]:
    with db.sessions() as s:
        row = s.get(ContactStatusRow, address)
        assert row is not None
        return row.status, row.reason


def reminders(db: Database, party: str) -> list[OutboxRow]:
    with db.sessions() as s:
        query = select(OutboxRow).where(OutboxRow.party == party, OutboxRow.kind == "reminder")
        return list(s.scalars(query.order_by(OutboxRow.id)))


@pytest.mark.smtp
def test_a_bounce_pauses_mail_to_the_address_until_the_secretariat_clears_it(
    mail_db: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    tmp_path: Path,
) -> None:
    at, sent = send_invitations(mail_db, mail_settings, smtp_server)
    imap_server.append(samples.exchange_ndr(sent["morso"], MORSO))  # two days later
    read_inbox(mail_db, mail_settings, imap_server, at, tmp_path)
    assert status(mail_db, MORSO)[0] == "failing"

    service = Service(mail_db, link_secret=mail_settings.secret_key)
    transport = smtp(mail_settings)
    day = datetime(2022, 4, 7, 10, 0, tzinfo=TZ)
    while day < datetime(2022, 5, 17, 10, 0, tzinfo=TZ):  # past the first reminder
        service.tick(day)
        deliver_due(mail_db, transport, mail_settings, day, worker="test")
        day += timedelta(days=1)

    (paused,) = reminders(mail_db, "morso")
    assert paused.status == "queued" and paused.sent_at is None
    assert paused.last_error is not None and paused.last_error.startswith("paused: " + MORSO)
    assert "5.1.10" in paused.last_error  # the bounce's reason, shown with the row
    assert paused.next_attempt_at > day - timedelta(days=1)  # looked at again later
    (laeso,) = reminders(mail_db, "laeso")
    assert laeso.status == "sent"  # everybody else's reminder went out
    to_morso = [r for r in smtp_server.received if MORSO in r.rcpt_tos]
    assert len(to_morso) == 1  # the invitation only
    with mail_db.sessions() as s:
        events = list(s.scalars(select(EventRow).where(EventRow.kind == "mail_paused")))
    assert len(events) == 1 and events[0].party == "morso"  # one event, not one per look

    with pytest.raises(GuardRefused):
        clear_failing(mail_db, MORSO, at=day, actor="user:anne", reason=" ")
    resumed = clear_failing(
        mail_db, MORSO, at=day, actor="user:anne", reason="Morsø har rettet postkassen"
    )
    assert resumed == 1 and status(mail_db, MORSO)[0] == "ok"
    report = deliver_due(mail_db, transport, mail_settings, day, worker="test")
    assert report.sent == 1
    assert len([r for r in smtp_server.received if MORSO in r.rcpt_tos]) == 2
    with mail_db.sessions() as s:
        cleared = s.scalars(select(EventRow).where(EventRow.kind == "contact_cleared")).one()
    assert (cleared.actor, cleared.data["mails_resumed"]) == ("user:anne", 1)


def test_an_accepted_mail_clears_a_refusal_but_not_a_bounce(mail_db: Database) -> None:
    at = datetime(2022, 4, 8, 8, 0, tzinfo=UTC)
    with mail_db.transaction() as s:
        mark_failing(s, "a@laeso.example", "550 5.1.1 no such user (mail <x@y>)", at)
        mark_failing(s, "b@laeso.example", "bounce: 5.1.10 RESOLVER.ADR.RecipientNotFound", at)
    with mail_db.transaction() as s:
        mark_ok(s, ["a@laeso.example", "b@laeso.example"], "accepted <z@y>", at)
    assert status(mail_db, "a@laeso.example")[0] == "ok"
    assert status(mail_db, "b@laeso.example") == (
        "failing",
        "bounce: 5.1.10 RESOLVER.ADR.RecipientNotFound",
    )
