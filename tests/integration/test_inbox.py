"""The inbox reader against a real dovecot: replies, bounces and auto-replies matched to the
mails Aftaleflow sent, stored once and moved to the processed folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from aftaleflow.config import Settings
from notifications.inbox import ImapConfig, InboxError, fetch
from tests import mail_samples as samples
from workflow.storage.db import Database
from workflow.storage.models import ContactStatusRow, EventRow

from .conftest import SmtpServer
from .imap_server import ImapServer
from .inbox_support import inbound, message_ids, read_inbox, send_invitations


@pytest.mark.smtp
def test_replies_bounces_and_auto_replies_are_matched_stored_once_and_moved(
    mail_db: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    tmp_path: Path,
) -> None:
    at, sent = send_invitations(mail_db, mail_settings, smtp_server)
    ids = message_ids(mail_db)
    imap_server.append(samples.reply_with_docx(ids["laeso"]))
    imap_server.append(samples.exchange_ndr(sent["morso"], "socialudvalg@morso.example"))
    imap_server.append(samples.out_of_office(ids["thisted"]))
    imap_server.append(samples.forged("socialudvalg@laeso.example"))
    imap_server.append(samples.own_mail())

    report = read_inbox(mail_db, mail_settings, imap_server, at, tmp_path)

    assert (report.stored, report.moved, report.already_stored) == (5, 5, 0)
    assert imap_server.uids("INBOX") == []
    assert len(imap_server.messages("Behandlet")) == 5
    reply, bounce, ooo, stranger, own = inbound(mail_db)

    assert (reply.classification, reply.party, reply.stage_id, reply.matched_by, reply.status) == (
        "reply", "laeso", "fagudvalg-spoergsmaal", "in-reply-to", "assigned",
    )  # fmt: skip
    docx, exe = reply.details["attachments"]
    stored = tmp_path / "uploads" / docx["stored_as"]
    assert docx["kind"] == "docx" and stored.read_bytes()[:2] == b"PK"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == docx["sha256"]
    assert exe == {"filename": "program.exe", "size": exe["size"], "kind": None, "refused": "type"}
    assert reply.raw.startswith(b"From:") or b"Message-ID" in reply.raw

    assert (bounce.classification, bounce.party, bounce.matched_by) == (
        "bounce",
        "morso",
        "bounced-original",
    )
    with mail_db.sessions() as s:
        failing = s.get(ContactStatusRow, "socialudvalg@morso.example")
        events = {
            e.kind: e for e in s.scalars(select(EventRow).where(EventRow.actor == "inbox:test"))
        }
    assert failing is not None and failing.status == "failing"
    assert "5.1.10" in failing.reason and failing.reason.startswith("bounce:")
    assert events["mail_bounced"].party == "morso"
    assert events["mail_bounced"].data["failures"][0]["address"] == "socialudvalg@morso.example"

    assert (ooo.classification, ooo.party, ooo.status) == ("auto_reply", "thisted", "assigned")
    assert "tilbage 15. august" in ooo.body_text
    assert "tilbage 15. august" in events["mail_auto_reply"].data["text"]

    # a forged From alone never matches: the stranger waits in the Indbakke
    assert (stranger.classification, stranger.status, stranger.process_id, stranger.party) == (
        "reply", "new", None, "",
    )  # fmt: skip
    assert (own.classification, own.status, own.outbox_id) == ("own", "ignored", None)

    again = read_inbox(mail_db, mail_settings, imap_server, at, tmp_path)
    assert (again.stored, again.moved) == (0, 0)
    assert len(inbound(mail_db)) == 5


def test_a_message_stored_but_not_moved_is_only_moved_next_time(
    mail_db: Database, mail_settings: Settings, imap_server: ImapServer, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    at = datetime(2022, 4, 6, tzinfo=UTC)
    imap_server.append(samples.forged("a@laeso.example"))
    imap_server.append(samples.out_of_office_subject_only())

    def crash(uid: int) -> None:
        raise KeyboardInterrupt  # as if the reader died between the commit and the move

    with pytest.raises(KeyboardInterrupt):
        read_inbox(mail_db, mail_settings, imap_server, at, tmp_path, after_store=crash)
    assert len(inbound(mail_db)) == 1 and len(imap_server.uids("INBOX")) == 2

    report = read_inbox(mail_db, mail_settings, imap_server, at, tmp_path)
    assert (report.stored, report.already_stored, report.moved) == (1, 1, 2)
    assert len(inbound(mail_db)) == 2 and imap_server.uids("INBOX") == []


def test_starttls_and_a_refused_login(
    mail_db: Database, mail_settings: Settings, imap_server: ImapServer, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    at = datetime(2022, 4, 6, tzinfo=UTC)
    imap_server.append(samples.out_of_office_subject_only())
    config = ImapConfig.parse(imap_server.url(tls="starttls", processed="Arkiv"))
    report = fetch(mail_db, config, at, own_domain="aftaleflow.example", upload_dir=tmp_path,
                   worker="t", ssl_context=imap_server.ssl_context)  # fmt: skip
    assert report.stored == 1 and len(imap_server.messages("Arkiv")) == 1

    wrong = ImapConfig.parse(imap_server.url(tls="starttls").replace("hemmelig", "forkert"))
    with pytest.raises(InboxError, match=r"postkassen imap://postkasse@127\.0\.0\.1"):
        fetch(mail_db, wrong, at, own_domain="x.example", upload_dir=tmp_path, worker="t",
              ssl_context=imap_server.ssl_context)  # fmt: skip
    untrusted = ImapConfig.parse(imap_server.url(tls="ssl"))
    with pytest.raises(InboxError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(mail_db, untrusted, at, own_domain="x.example", upload_dir=tmp_path, worker="t")
