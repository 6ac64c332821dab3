"""The other ways a reply arrives (SQLite and PostgreSQL; mail stored as the reader stores it):
after the party already answered through its link (only recorded), as an unmatched mail the
secretariat assigns on the Indbakke (received, audited as that user), after the deadline
(confirmed as late), "Afskriv i formularen" (the party's form), and each taken in once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from notifications.classify import read
from notifications.inbound import Where, record
from tests import mail_samples as samples
from tests.browser.support import AFTER_INVITATIONS, KEY, QUESTIONNAIRE, SECRET, token
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.mail_replies import pending, take_in
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import AnswerRow, EventRow, InboundMailRow, OutboxRow, TaskRow

from .dashboard_support import VIEWER, VIEWER_PASSWORD, Dash, answer_for, dashboard

LATE_REPLY = datetime(2022, 5, 25, 10, 0, tzinfo=TZ)


def store(d: Dash, raw: bytes, uid: int, at: datetime, tmp_path: Path) -> int:
    with d.db.transaction() as s:
        row = record(s, read(raw, own_domain="aftaleflow.example"), raw,
                     where=Where("INBOX", 1, uid), at=at, upload_dir=tmp_path / "uploads",
                     worker="t")  # fmt: skip
        return row.id


def invitation_ids(db: Database) -> dict[str, str]:
    """Message-IDs as the sender gives them when it claims (set here: nothing is sent)."""
    with db.transaction() as s:
        out = {}
        for r in s.scalars(select(OutboxRow).where(OutboxRow.kind == "invitation")):
            r.message_id = r.message_id or f"<inv-{r.party}@aftaleflow.example>"
            out[r.party] = r.message_id
        return out


def status(db: Database, party: str) -> str:
    with db.sessions() as s:
        found = s.scalar(select(TaskRow.status).where(TaskRow.stage_id == QUESTIONNAIRE,
                                                      TaskRow.party == party))  # fmt: skip
    assert found is not None
    return found


def kinds(db: Database, party: str) -> list[str]:
    with db.sessions() as s:
        q = select(EventRow.kind).where(EventRow.party == party).order_by(EventRow.id)
        return list(s.scalars(q))


def test_answered_first_assigned_late_and_transcribed(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        service = Service(db, link_secret=SECRET)
        ids = invitation_ids(db)
        at = datetime(2022, 4, 8, 10, 0, tzinfo=TZ)
        uploads = tmp_path / "uploads"

        # Hjørring answered through its link, then replies to the invitation: only recorded
        service.submit_answer(KEY, QUESTIONNAIRE, "hjorring", answer_for("hjorring", 0), at=at,
                              actor="link:hjorring")  # fmt: skip
        hjorring = store(d, samples.reply_with_docx(ids["hjorring"]), 1, at, tmp_path)
        # a stranger's mail (no thread) that the secretariat knows is Brønderslev's answer
        unmatched = store(d, samples.forged("socialudvalg@bronderslev.example"), 2, at, tmp_path)
        # an out-of-office reply is never taken in
        store(d, samples.out_of_office(ids["rebild"]), 3, at, tmp_path)

        assert pending(service) == [hjorring]
        (taken,) = take_in(service, uploads, at)
        assert (taken.inbound_id, taken.outcome) == (hjorring, "recorded")
        assert status(db, "hjorring") == "submitted"
        assert kinds(db, "hjorring")[-1] == "mail_reply_recorded"
        assert take_in(service, uploads, at) == [] and pending(service) == []  # once only
        assert service.receive_mail_answer(KEY, QUESTIONNAIRE, "hjorring", inbound_id=hjorring,
                                           sender="x@hjorring.example", at=at,
                                           actor="t") == "already"  # fmt: skip
        assert status(db, "rebild") == "invited"

        d.clock.set(at)
        d.login()
        done = d.form(f"/sekretariat/indbakke/{unmatched}/tildel",
                      {"process_key": KEY, "stage": QUESTIONNAIRE, "party": "bronderslev",
                       "reason": "Sekretæren ringede: det er udvalgets svar"})  # fmt: skip
        assert done.status_code == 303
        assert status(db, "bronderslev") == "answered_by_mail"
        with db.sessions() as s:
            event = s.scalars(
                select(EventRow).where(EventRow.kind == "answer_received_by_mail")
            ).one()
            assigned = s.get(InboundMailRow, unmatched)
            assert assigned is not None and assigned.applied_at is not None
        assert (event.party, event.actor) == ("bronderslev", "user:anne")
        assert "form" not in event.data  # no Word form of ours in that mail

        # "Afskriv i formularen": the party's own form, through its current link
        page = d.client.get(f"/sekretariat/proces/{KEY}/part/bronderslev").text
        assert "Afskriv i formularen" in page and "Godkend som svar" in page
        url = f"/sekretariat/proces/{KEY}/fase/{QUESTIONNAIRE}/part/bronderslev/afskriv"
        jump = d.client.get(url)
        assert jump.status_code == 303
        assert jump.headers["Location"].endswith(f"/svar/{token(db, 'bronderslev')}")
        viewer = Dash(d.app, d.app.test_client(), d.clock, db, socialaftale, d.wall)
        viewer.login(VIEWER, VIEWER_PASSWORD)
        assert viewer.client.get(url).status_code == 403  # admins only
        party_page = viewer.client.get(f"/sekretariat/proces/{KEY}/part/bronderslev").text
        assert "Svar modtaget pr. mail" in party_page and "Godkend som svar" not in party_page

        # Læsø replies after the deadline: received, and confirmed as a late answer
        late = store(d, samples.reply_with_docx(ids["laeso"]), 4, LATE_REPLY, tmp_path)
        service.tick(LATE_REPLY)
        assert status(db, "laeso") == "overdue"
        take_in(service, uploads, LATE_REPLY)
        assert status(db, "laeso") == "answered_by_mail"
        version = service.confirm_mail_answer(KEY, QUESTIONNAIRE, "laeso", late, at=LATE_REPLY,
                                              actor="user:anne", reason="svar pr. mail")  # fmt: skip
        assert version == 1 and status(db, "laeso") == "late"
        with db.sessions() as s:
            answer = s.scalars(select(AnswerRow).where(AnswerRow.party == "laeso")).one()
        assert (answer.late, answer.by_mail, answer.data) == (True, True, {})
