"""The compiled report reaches the dialogue forum (issue 16, item 4): the definition's
``send_report`` mails it to the forum's invitees five working days before the meeting, once,
through the outbox to a real SMTP server (aiosmtpd); the mail's personal link opens the report
without a login, and a revoked or forged link is a plain 404; the secretariat sends it by hand
from the report page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from aftaleflow.cli_mail import deliver_callback
from tests.browser.support import AFTER_INVITATIONS, SECRET, process_id
from tests.browser.support import QUESTIONNAIRE as Q
from tests.integration.conftest import Received, SmtpServer, make_settings
from tests.integration.dashboard_support import PROCESS, Dash, dashboard
from tests.report_answers import PARTIES, submit_varied
from workflow.calendar import TZ
from workflow.links import LinkKey, make_token
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

FORUM = "dialogforum"
REPORT = f"{PROCESS}/rapport/{Q}"
#: The forum meets Wednesday 15 June 2022; five working days before is Wednesday 8 June.
PLANNED = datetime(2022, 6, 8, 9, 0, tzinfo=TZ)


@pytest.fixture
def forum(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        submit_varied(db)
        yield d


def _report_mails(db: Database) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(
            s.scalars(
                select(OutboxRow).where(OutboxRow.kind == "forum_report").order_by(OutboxRow.id)
            )
        )


def _token(db: Database, party: str, generation: int = 1) -> str:
    return make_token(SECRET, LinkKey(process_id(db), FORUM, party, "rapport", generation))


def _received_reports(smtp: SmtpServer) -> list[Received]:
    """The report mails the SMTP server got (the other mails of the cycle go out too)."""
    return [r for r in smtp.received if "/forum_report/" in str(r.message["X-Aftaleflow-Key"])]


def _tick(db: Database, at: datetime) -> None:
    Service(db, link_secret=SECRET).tick(at)  # a new service each time: as after a restart


@pytest.mark.smtp
def test_the_report_reaches_the_invitees_on_the_planned_day_once(
    forum: Dash, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    db = forum.db
    settings = make_settings(tmp_path, db, smtp_server.url, AFTALEFLOW_SECRET_KEY=SECRET)
    deliver = deliver_callback(settings, db)
    for at in (datetime(2022, 6, 7, 12, 0, tzinfo=TZ), datetime(2022, 6, 8, 8, 59, tzinfo=TZ)):
        _tick(db, at)
        deliver(at)
    assert _report_mails(db) == [] and _received_reports(smtp_server) == []

    _tick(db, PLANNED)
    deliver(PLANNED)
    for at in (datetime(2022, 6, 8, 14, 0, tzinfo=TZ), datetime(2022, 6, 16, 10, 0, tzinfo=TZ)):
        _tick(db, at)  # later ticks (a restarted scheduler) send nothing again
        deliver(at)

    rows = _report_mails(db)
    assert sorted(r.party for r in rows) == sorted(PARTIES)
    assert {r.status for r in rows} == {"sent"}
    assert {r.sent_at for r in rows} == {PLANNED}
    received = _received_reports(smtp_server)
    assert len(received) == 12
    bundle = forum.bundle
    for row in rows:
        (got,) = [
            r for r in received if r.message["X-Aftaleflow-Key"].strip() == row.idempotency_key
        ]
        directors = [c.email for c in bundle.parties.get(row.party).addresses("director")]
        assert sorted(got.rcpt_tos) == sorted(directors)
        text = got.message.get_body(("plain",)).get_content()
        assert "Socialpolitisk Dialogforum" in got.message["Subject"]
        assert f"https://aftaleflow.example/rapport/{_token(db, row.party)}" in text
        assert "onsdag den 15. juni 2022" in text
    (event,) = forum.events("report_sent")
    assert event.stage_id == FORUM and event.data["mails"] == 12 and not event.data["manual"]


def test_the_personal_link_opens_the_report_without_a_login(forum: Dash) -> None:
    _tick(forum.db, PLANNED)
    client = forum.app.test_client()  # nobody logged in
    token = _token(forum.db, "aalborg")
    page = client.get(f"/rapport/{token}")
    assert page.status_code == 200, page.text[:500]
    assert "12 af 12 parter har svaret." in page.text
    assert "Aalborg Kommune" in page.text and "Socialpolitisk Dialogforum" in page.text
    assert 'data-figures="' in page.text and "<svg" in page.text
    assert "/sekretariat/" not in page.text.split('data-testid="forum-report"')[1]
    pdf = client.get(f"/rapport/{token}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "12 af 12" in text

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/rapport/{forged}").status_code == 404
    assert client.get(f"/rapport/{forged}.pdf").status_code == 404
    other_process = make_token(
        SECRET, LinkKey(process_id(forum.db) + 1, FORUM, "aalborg", "rapport", 1)
    )
    assert client.get(f"/rapport/{other_process}").status_code == 404


def test_a_revoked_link_is_404_and_a_manual_send_issues_new_links(forum: Dash) -> None:
    _tick(forum.db, PLANNED)
    forum.clock.set(datetime(2022, 6, 9, 10, 0, tzinfo=TZ))
    forum.login()
    public = forum.app.test_client()
    old = _token(forum.db, "laeso")
    assert public.get(f"/rapport/{old}").status_code == 200

    page = forum.client.get(REPORT).text
    assert f"{REPORT}/send/{FORUM}" in page and f"{REPORT}/tilbagekald/{FORUM}" in page
    assert "sendt til deltagerne 08.06.2022 kl. 09.00" in page

    r = forum.form(f"{REPORT}/tilbagekald/{FORUM}", {"reason": "Linket blev videresendt"})
    assert r.status_code == 303
    assert public.get(f"/rapport/{old}").status_code == 404
    assert public.get(f"/rapport/{old}.pdf").status_code == 404
    (revoked,) = forum.events("report_links_revoked")
    assert revoked.actor == "user:anne" and revoked.reason == "Linket blev videresendt"

    r = forum.form(f"{REPORT}/send/{FORUM}", {"reason": "Ny udgave efter opsamlingen"})
    assert r.status_code == 303
    manual = [m for m in _report_mails(forum.db) if m.seq == 1]
    assert sorted(m.party for m in manual) == sorted(PARTIES)
    assert all(m.context["link"]["generation"] == 2 for m in manual)
    assert public.get(f"/rapport/{old}").status_code == 404
    assert public.get(f"/rapport/{_token(forum.db, 'laeso', 2)}").status_code == 200
    sent = forum.events("report_sent")
    assert [e.data["manual"] for e in sent] == [False, True]
    assert sent[1].actor == "user:anne" and sent[1].reason == "Ny udgave efter opsamlingen"


def test_a_viewer_cannot_send_and_a_missing_csrf_token_changes_nothing(forum: Dash) -> None:
    from tests.integration.dashboard_support import VIEWER, VIEWER_PASSWORD

    _tick(forum.db, datetime(2022, 6, 7, 12, 0, tzinfo=TZ))
    forum.login(VIEWER, VIEWER_PASSWORD)
    page = forum.client.get(REPORT).text
    assert "sendes automatisk til deltagerne 08.06.2022 kl. 09.00" in page
    assert f"{REPORT}/send/{FORUM}" not in page
    assert forum.client.get(f"{REPORT}/send/{FORUM}").status_code == 403
    forum.client.delete_cookie("aftaleflow_session")
    forum.login()
    r = forum.client.post(f"{REPORT}/send/{FORUM}", data={"reason": "uden token"})
    assert r.status_code in (400, 403)
    assert _report_mails(forum.db) == []
    with forum.db.sessions() as s:
        assert s.scalars(select(EventRow).where(EventRow.kind == "report_sent")).all() == []


def test_a_scheduler_down_on_the_day_sends_it_once_when_it_catches_up(forum: Dash) -> None:
    _tick(forum.db, datetime(2022, 6, 7, 12, 0, tzinfo=TZ))
    caught_up = datetime(2022, 6, 10, 11, 0, tzinfo=TZ)  # down from 7 to 10 June
    _tick(forum.db, caught_up)
    _tick(forum.db, caught_up)
    rows = _report_mails(forum.db)
    assert len(rows) == 12 and {r.created_at for r in rows} == {caught_up}
    (event,) = forum.events("report_sent")
    assert event.data["due_at"] == PLANNED.astimezone(UTC).isoformat()
    assert event.data["late_by_s"] == int((caught_up - PLANNED).total_seconds())


def test_after_the_meeting_nothing_is_sent_and_that_is_recorded(forum: Dash) -> None:
    _tick(forum.db, datetime(2022, 6, 7, 12, 0, tzinfo=TZ))
    _tick(forum.db, datetime(2022, 6, 15, 15, 0, tzinfo=TZ))  # down until the forum met
    assert _report_mails(forum.db) == []
    (skipped,) = forum.events("report_skipped")
    assert skipped.stage_id == FORUM and skipped.reason == "mødet er allerede holdt"
    _tick(forum.db, datetime(2022, 6, 16, 10, 0, tzinfo=TZ))
    assert forum.events("report_sent") == [] and len(forum.events("report_skipped")) == 1
    forum.login()  # the report page says it was not sent, not "sent to the invitees"
    page = forum.client.get(REPORT).text
    assert "ikke sendt: mødet var allerede holdt" in page and "sendt til deltagerne" not in page


def test_the_outbox_opens_the_report_link_of_a_report_mail(forum: Dash) -> None:
    _tick(forum.db, PLANNED)
    forum.login()
    (mail,) = [m for m in _report_mails(forum.db) if m.party == "thisted"]
    listed = forum.client.get("/sekretariat/udbakke?kind=forum_report").text
    assert f"/sekretariat/udbakke/{mail.id}/svarlink" in listed
    r = forum.client.get(f"/sekretariat/udbakke/{mail.id}/svarlink")
    assert r.status_code == 303
    assert r.location == f"https://aftaleflow.example/rapport/{_token(forum.db, 'thisted')}"
