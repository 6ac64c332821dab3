"""Read and write mail in Aftaleflow (issue 15, item 5): the secretariat writes a mail to
chosen parties and roles with a file; it goes through the outbox to a real SMTP server
(aiosmtpd) threaded under the party's invitation, and the dashboard shows it exactly as the
server received it (headers, text, HTML, the file), and in the party's one thread with what
the party sent back."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markupsafe import escape
from sqlalchemy import select
from werkzeug.test import EnvironBuilder, TestResponse

from aftaleflow.cli import cli
from aftaleflow.cli_common import App
from notifications.sender import deliver_due
from notifications.transports import SmtpTransport
from tests.browser.support import AFTER_INVITATIONS, pdf_bytes, run_until
from tests.integration.conftest import Received, SmtpServer, make_settings
from tests.integration.dashboard_support import (
    ADMIN,
    PROCESS,
    VIEWER,
    VIEWER_PASSWORD,
    Dash,
    csrf_token,
    dashboard,
)
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import EventRow, InboundMailRow, OutboxRow

COMPOSE = f"{PROCESS}/skriv"
PDF = pdf_bytes("Bilag til alle parter")


@pytest.fixture
def invited(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        yield d


def one_time_id(html: str) -> str:
    found = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html
    )
    assert found, html[:3000]
    return found.group(1)


def compose(d: Dash, data: dict[str, Any], *, token: str | None = None) -> TestResponse:
    """GET the form, then POST it (multipart) with its CSRF token and one-time id."""
    page = d.client.get(COMPOSE).text
    fields = {"csrf_token": csrf_token(page), "token": token or one_time_id(page), **data}
    builder = EnvironBuilder(
        path=COMPOSE, method="POST", data=fields, content_type="multipart/form-data"
    )
    environ = builder.get_environ()
    try:
        return d.client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def messages(db: Database) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(
            s.scalars(select(OutboxRow).where(OutboxRow.kind == "message").order_by(OutboxRow.id))
        )


def message_mails(smtp: SmtpServer) -> list[Received]:
    return [r for r in smtp.received if "/message/" in str(r.message["X-Aftaleflow-Key"])]


def invitation_of(db: Database, party: str) -> OutboxRow:
    with db.sessions() as s:
        row = s.scalar(
            select(OutboxRow).where(OutboxRow.kind == "invitation", OutboxRow.party == party)
        )
    assert row is not None
    return row


@pytest.mark.smtp
def test_a_written_mail_arrives_threaded_with_its_file_and_is_shown_as_sent(
    invited: Dash, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    d = invited
    settings = make_settings(tmp_path, d.db, smtp_server.url)
    transport = SmtpTransport(smtp_server.url, local_hostname=settings.mail_domain)
    assert deliver_due(d.db, transport, settings, AFTER_INVITATIONS).sent == 12

    r = compose(
        d,
        {
            "parties": ["laeso", "morso"],
            "roles": ["committee_secretary", "director"],
            "subject": "Nyt om mødet i juni – <b>vigtigt</b>",
            "text": "Kære alle\n\nMødet flyttes.\nSe bilaget.",
            "files": (io.BytesIO(PDF), "Bilag – juni.pdf"),
            "now": "y",
        },
    )
    assert r.status_code == 303, r.text[:3000]
    rows = messages(d.db)
    assert [m.party for m in rows] == ["laeso", "morso"]
    event = d.events("message_queued")[-1]
    assert (event.actor, event.data["parties"]) == (f"user:{ADMIN}", ["laeso", "morso"])

    report = deliver_due(d.db, transport, settings, d.clock())
    assert report.sent == 2
    got = {r.message["X-Aftaleflow-Key"].split("/")[2]: r for r in message_mails(smtp_server)}
    assert set(got) == {"laeso", "morso"}
    for party, received in got.items():
        msg = received.message
        invitation = invitation_of(d.db, party)
        assert msg["In-Reply-To"] == invitation.message_id
        assert msg["References"] == invitation.message_id
        assert msg["Subject"] == "Nyt om mødet i juni – <b>vigtigt</b>"
        assert len(received.rcpt_tos) == 2, "the committee secretary and the director"
        [att] = list(msg.iter_attachments())
        assert att.get_filename() == "Bilag – juni.pdf"
        assert att.get_payload(decode=True) == PDF
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None and "Mødet flyttes." in body.get_content()

    # The view shows the mail as the server received it: the kept bytes are the same bytes.
    laeso = next(m for m in messages(d.db) if m.party == "laeso")
    with d.db.sessions() as s:
        kept = s.scalar(select(OutboxRow.sent_message).where(OutboxRow.id == laeso.id))
    assert kept == got["laeso"].data
    page = d.client.get(f"/sekretariat/udbakke/{laeso.id}").text
    assert laeso.message_id is not None
    assert str(escape(laeso.message_id)) in page
    assert "Nyt om mødet i juni – &lt;b&gt;vigtigt&lt;/b&gt;" in page
    assert str(escape(invitation_of(d.db, "laeso").message_id)) in page, "In-Reply-To"
    assert "Mødet flyttes." in page and "Bilag – juni.pdf" in page
    file = d.client.get(f"/sekretariat/udbakke/{laeso.id}/bilag/1")
    assert file.status_code == 200 and file.data == PDF
    assert "attachment" in file.headers["Content-Disposition"]
    original = d.client.get(f"/sekretariat/udbakke/{laeso.id}/original.eml")
    assert original.data == got["laeso"].data
    assert d.client.get(f"/sekretariat/udbakke/{laeso.id}/bilag/2").status_code == 404

    # The party's reply lands in the same thread, after the mail it answers.
    with d.db.sessions() as s, s.begin():
        s.add(
            InboundMailRow(
                mailbox="INBOX",
                uidvalidity=1,
                uid=1,
                message_id="<svar-1@laeso.example>",
                sha256=hashlib.sha256(b"svar").hexdigest(),
                from_address="socialudvalg@laeso.example",
                subject="Sv: Nyt om mødet i juni",
                received_at=d.clock() + timedelta(hours=1),
                size=4,
                raw=b"svar",
                classification="reply",
                outbox_id=laeso.id,
                process_id=laeso.process_id,
                party="laeso",
                matched_by="in-reply-to",
                status="assigned",
                updated_at=d.clock(),
            )
        )
    thread = d.client.get(f"{PROCESS}/part/laeso/mails").text
    order = [
        thread.index(f'/sekretariat/udbakke/{invitation_of(d.db, "laeso").id}"'),
        thread.index(f'/sekretariat/udbakke/{laeso.id}"'),
        thread.index("Sv: Nyt om mødet i juni"),
    ]
    assert order == sorted(order), "oldest first: invitation, the written mail, the reply"
    assert "Nyt om mødet i juni – &lt;b&gt;vigtigt&lt;/b&gt;" in thread
    assert f'/udbakke/{next(m for m in rows if m.party == "morso").id}"' not in thread


def test_the_same_form_sent_twice_is_queued_once(invited: Dash) -> None:
    d = invited
    data = {"parties": ["laeso"], "roles": ["committee_secretary"], "subject": "Hej", "text": "x"}
    token = one_time_id(d.client.get(COMPOSE).text)
    assert compose(d, data, token=token).status_code == 303
    again = compose(d, data, token=token)
    assert again.status_code == 409 and "allerede lagt i udbakken" in again.text
    assert len(messages(d.db)) == 1


def test_a_file_that_is_not_a_document_is_refused_and_nothing_queued(invited: Dash) -> None:
    d = invited
    r = compose(
        d,
        {
            "parties": ["laeso"],
            "roles": ["committee_secretary"],
            "subject": "Hej",
            "text": "x",
            "files": (io.BytesIO(b"MZ\x90\x00 not a document"), "program.pdf"),
        },
    )
    assert r.status_code == 409 and "hverken PDF, Word" in r.text
    assert messages(d.db) == []


def test_without_send_now_the_mail_waits_for_office_hours(invited: Dash) -> None:
    d = invited
    d.clock.set(datetime(2022, 4, 8, 18, 0, tzinfo=TZ))  # a Friday evening
    data = {"parties": ["morso"], "roles": ["director"], "subject": "Hej", "text": "x"}
    assert compose(d, data).status_code == 303
    [row] = messages(d.db)
    assert row.send_after == datetime(2022, 4, 11, 9, 0, tzinfo=TZ)  # Monday at office hours
    assert [r["email"] for r in row.recipients] == [
        c.email for c in d.bundle.parties.get("morso").addresses("director")
    ]


def test_only_an_admin_writes_mail(invited: Dash) -> None:
    d = invited
    d.client = d.app.test_client()
    d.login(VIEWER, VIEWER_PASSWORD)
    assert d.client.get(COMPOSE).status_code == 403
    assert d.client.get(f"{PROCESS}/part/laeso/mails").status_code == 200
    queued = invitation_of(d.db, "laeso")  # not sent yet: the page says so, there is no .eml
    page = d.client.get(f"/sekretariat/udbakke/{queued.id}")
    assert page.status_code == 200 and "Mailen er ikke sendt endnu" in page.text
    assert "socialudvalg@laeso.example" in page.text
    assert d.client.get(f"/sekretariat/udbakke/{queued.id}/original.eml").status_code == 404
    with d.db.sessions() as s:
        assert s.scalar(select(EventRow).where(EventRow.kind == "message_queued")) is None


def test_the_command_line_writes_the_same_mail(
    db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    run_until(db, socialaftale, AFTER_INVITATIONS)
    settings = make_settings(tmp_path, db, None)
    attachment = tmp_path / "Referat.pdf"
    attachment.write_bytes(PDF)
    args = ["mail", "send", "--party", "aalborg", "--party", "morso", "--role", "director",
            "--subject", "Referat", "--text", "Se referatet.", "--attach", str(attachment),
            "--id", "referat-juni", "--at", "2022-04-09T11:00"]  # fmt: skip
    r = CliRunner().invoke(cli, args, obj=App(settings))
    assert r.exit_code == 0, r.output
    assert "til 2 part(er): aalborg, morso; sendes i kontortiden." in r.output
    rows = messages(db)
    assert [m.party for m in rows] == ["aalborg", "morso"]
    assert rows[0].send_after == datetime(2022, 4, 11, 9, 0, tzinfo=TZ)  # Monday, office hours
    assert rows[0].context["files"][0]["filename"] == "Referat.pdf"
    again = CliRunner().invoke(cli, args, obj=App(settings))
    assert again.exit_code != 0 and len(messages(db)) == 2
