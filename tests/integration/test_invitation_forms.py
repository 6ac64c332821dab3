"""The 2022 invitations, sent through a real SMTP server, carry the questionnaire as a PDF and
a Word form; a party can reply to one with the filled-in form and the reader ties it to the
party's task."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from aftaleflow.config import Settings
from tests import mail_samples as samples
from workflow.storage.db import Database

from .conftest import SmtpServer
from .imap_server import ImapServer
from .inbox_support import inbound, read_inbox, send_invitations


@pytest.mark.smtp
def test_invitations_carry_the_forms_and_a_reply_with_the_form_is_tied_to_the_task(
    mail_db: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    tmp_path: Path,
) -> None:
    at, sent = send_invitations(mail_db, mail_settings, smtp_server)
    for party, message in ((p, r) for p, r in sent.items()):
        parsed = next(r.message for r in smtp_server.received if r.data == message)
        names = [a.get_filename() for a in parsed.iter_attachments()]
        assert names == ["spoergeskema-fagudvalg.pdf", "spoergeskema-fagudvalg.docx"], party
    laeso = next(r.message for r in smtp_server.received if r.data == sent["laeso"])
    pdf, docx = (a.get_content() for a in laeso.iter_attachments())
    assert pdf.startswith(b"%PDF-")
    form = Document(io.BytesIO(docx))
    assert "id: vision-egenmestring" in form.tables[0].cell(0, 0).text

    form.tables[0].cell(1, 0).paragraphs[-1].add_run("Udvalget svarer 4")  # filled in
    filled = io.BytesIO()
    form.save(filled)
    reply = samples.reply_with_docx(str(laeso["Message-ID"]), docx=filled.getvalue())
    imap_server.append(reply)
    read_inbox(mail_db, mail_settings, imap_server, at, tmp_path)
    (row,) = inbound(mail_db)
    assert (row.party, row.classification, row.status) == ("laeso", "reply", "assigned")
    kept = next(a for a in row.details["attachments"] if a.get("stored_as"))
    returned = Document(str(tmp_path / "uploads" / kept["stored_as"]))
    assert "Udvalget svarer 4" in returned.tables[0].cell(1, 0).text
