"""A reply is an answer received (issue 15, item 3), on SQLite and PostgreSQL, with the mail
really sent (aiosmtpd) and really received (IMAP APPEND into dovecot, ``aftaleflow inbox
fetch``): Læsø replies to its invitation with our Word form filled in, its task becomes "svar
modtaget pr. mail", no reminder or overdue mark follows, the form's answers are a draft the
secretariat confirms on the dashboard; Thisted's out-of-office reply changes nothing and its
reminders continue; a stranger with a forged From lands unmatched and changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import mail_samples as samples
from tests.browser.support import AFTER_INVITATIONS, KEY, QUESTIONNAIRE, SECRET
from workflow.calendar import TZ, to_local
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import AnswerRow, EventRow, InboundMailRow, OutboxRow, TaskRow

from .conftest import SmtpServer
from .dashboard_support import Dash, dashboard
from .imap_server import ImapServer
from .reply_support import filled_form, inbox_fetch, send_invitations


def task_status(db: Database, party: str) -> str:
    with db.sessions() as s:
        found = s.scalar(
            select(TaskRow.status).where(TaskRow.stage_id == QUESTIONNAIRE, TaskRow.party == party)
        )
    assert found is not None
    return found


def mails(db: Database, party: str, kind: str) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(
            s.scalars(select(OutboxRow).where(OutboxRow.party == party, OutboxRow.kind == kind))
        )


def events(db: Database, kind: str, party: str | None = None) -> list[EventRow]:
    with db.sessions() as s:
        query = select(EventRow).where(EventRow.kind == kind)
        if party is not None:
            query = query.where(EventRow.party == party)
        return list(s.scalars(query.order_by(EventRow.id)))


@pytest.mark.smtp
def test_laeso_answers_by_mail_thisted_is_away_and_a_stranger_changes_nothing(
    db_url: str,
    db: Database,
    socialaftale: Bundle,
    tmp_path: Path,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        ids = send_invitations(db, db_url, tmp_path, smtp_server, AFTER_INVITATIONS)
        form = filled_form(socialaftale)
        imap_server.append(samples.reply_with_docx(ids["laeso"], docx=form))
        imap_server.append(samples.out_of_office(ids["thisted"]))
        imap_server.append(samples.forged("socialudvalg@morso.example"))

        out = inbox_fetch(db_url, tmp_path, imap_server, "2022-04-06T10:00", monkeypatch, capsys)
        assert "3 ny(e) mail(s) gemt" in out and "1 svar pr. mail modtaget" in out, out
        assert imap_server.uids("INBOX") == []

        reply_id, draft = laeso_received_with_a_draft(db)
        thisted_and_the_stranger_change_nothing(db)
        the_clock_passes_every_reminder_date(db)
        the_secretariat_confirms(d, reply_id, draft)


def laeso_received_with_a_draft(db: Database) -> tuple[int, dict[str, object]]:
    """Svar modtaget pr. mail, audited as the mail's sender; the Word form's answers are
    Læsø's draft, and what could not be read is not guessed."""
    assert task_status(db, "laeso") == "answered_by_mail"
    (received,) = events(db, "answer_received_by_mail")
    assert (received.party, received.actor) == ("laeso", "mail:sekretaer@laeso.example")
    assert received.data["status_before"] == "invited"
    assert [f["filename"] for f in received.data["files"]] == ["Svar fra Læsø.docx"]
    notes = {(n["question"], n["note"]) for n in received.data["form"]["notes"]}
    assert notes == {
        ("udvidelse-forebyggelse", "several_ticked"),
        ("temaer-oenskede", "unknown_choice"),
    }
    with db.sessions() as s:
        (draft,) = s.scalars(select(AnswerRow).where(AnswerRow.party == "laeso"))
    assert draft.state == "draft"
    assert draft.data == {
        "vision-egenmestring": 4,
        "vision-retningspile": ["staa-sammen", "tidlig-indsats"],
        "fokusomraader-prioritet": "den-gode-alderdom",
        "temaer-oenskede": ["rehabilitering"],
        "oevrige-oensker": "Færgen skal med i overvejelserne.",
    }
    return int(received.data["inbound_id"]), dict(draft.data)


def thisted_and_the_stranger_change_nothing(db: Database) -> None:
    """Thisted's out-of-office is recorded and changes nothing; the stranger with Morsø's
    address in From is unmatched and changes nothing."""
    assert task_status(db, "thisted") == "invited"
    assert task_status(db, "morso") == "invited"
    with db.sessions() as s:
        auto = s.scalars(
            select(InboundMailRow).where(InboundMailRow.classification == "auto_reply")
        ).one()
        unmatched = s.scalars(select(InboundMailRow).where(InboundMailRow.status == "new")).all()
    assert (auto.party, auto.applied_at) == ("thisted", None)
    assert len(events(db, "mail_received")) == 2  # Læsø's and the stranger's
    assert [(m.from_address, m.process_id, m.applied_at) for m in unmatched] == [
        ("socialudvalg@morso.example", None, None)
    ]
    assert len(events(db, "answer_received_by_mail")) == 1


def the_clock_passes_every_reminder_date(db: Database) -> None:
    """No reminder, overdue mark or escalation for Læsø; Thisted's continue."""
    service = Service(db, link_secret=SECRET)
    day = datetime(2022, 4, 7, 10, 0, tzinfo=TZ)
    while day < datetime(2022, 6, 2, 10, 0, tzinfo=TZ):
        service.tick(day)
        day += timedelta(days=1)
    assert mails(db, "laeso", "reminder") == [] and mails(db, "laeso", "escalation") == []
    assert events(db, "overdue", "laeso") == []
    assert task_status(db, "laeso") == "answered_by_mail"
    assert len(mails(db, "thisted", "reminder")) == 3  # reminders continue
    assert len(mails(db, "thisted", "escalation")) == 1
    assert task_status(db, "thisted") == "overdue"


def the_secretariat_confirms(d: Dash, reply_id: int, draft: dict[str, object]) -> None:
    """The party page shows the mail; "Godkend som svar" stores the answer, by mail."""
    db = d.db
    d.clock.set(datetime(2022, 6, 1, 11, 0, tzinfo=TZ))
    d.login()
    matrix = d.client.get(f"/sekretariat/proces/{KEY}").text
    assert 'badge--answered_by_mail">Svar modtaget pr. mail</span>' in matrix
    page = d.client.get(f"/sekretariat/proces/{KEY}/part/laeso").text
    assert "Svar modtaget pr. mail" in page and f'id="received-mail-{reply_id}"' in page
    assert f"/sekretariat/indbakke/{reply_id}/bilag/1" in page  # the Word file
    assert "Læst fra den returnerede Word-formular: 5 svar" in page
    assert "flere krydser, hvor der skal være ét" in page
    url = f"/sekretariat/proces/{KEY}/fase/{QUESTIONNAIRE}/part/laeso/mail/{reply_id}/godkend"
    assert url in page
    assert d.form(url, {"reason": ""}).status_code == 400  # a reason is required
    done = d.form(url, {"reason": "Udvalgets svar pr. mail, gennemgået"})
    assert done.status_code == 303, done.text

    with db.sessions() as s:
        (answer,) = s.scalars(select(AnswerRow).where(AnswerRow.party == "laeso"))
    assert (answer.state, answer.version, answer.late, answer.by_mail) == (
        "submitted", 1, False, True,
    )  # fmt: skip
    assert answer.data == draft
    assert answer.mail is not None and answer.mail["inbound_id"] == reply_id
    assert [f["filename"] for f in answer.mail["files"]] == ["Svar fra Læsø.docx"]
    assert answer.submitted_at is not None
    assert to_local(answer.submitted_at).date() == date(2022, 4, 6)  # when the mail came
    assert task_status(db, "laeso") == "submitted"
    (confirmed,) = events(db, "answer_submitted", "laeso")
    assert (confirmed.actor, confirmed.reason) == (
        "user:anne",
        "Udvalgets svar pr. mail, gennemgået",
    )
    assert confirmed.data["by_mail"] is True
    assert "pr. mail" in d.client.get(f"/sekretariat/proces/{KEY}/part/laeso").text
    report = d.client.get(f"/sekretariat/proces/{KEY}/rapport/{QUESTIONNAIRE}").text
    row = report.split('<tr data-party="laeso"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="answered"' in row and "Svaret (pr. mail)" in row  # the coverage
    other = report.split('<tr data-party="aalborg"', 1)[1].split("</tr>", 1)[0]
    assert "pr. mail" not in other
