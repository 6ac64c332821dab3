"""Issue 13's scenario, on the real engine and a real SMTP server (aiosmtpd); SQLite, and
PostgreSQL when configured. The 2022 cycle changes as it goes: KKR's decision is recorded three
weeks late with three focus areas, the process moves to a definition that adds a question before
the questionnaire is sent, Læsø's committee secretary is replaced mid-questionnaire (the new
contact answers through the new link), the dialogue forum moves a week; then the year runs to
its end. The audit trail holds every change, no mail went out on the old plan after a change,
and the report shows the questions each party answered."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from aftaleflow.cli_mail import deliver_callback
from tests.browser.support import KEY, QUESTIONNAIRE, SECRET, Clock, build_app, run_until
from tests.integration.conftest import Received, SmtpServer, make_settings
from tests.integration.dashboard_support import answer_for
from tests.integration.test_process_migration import questionnaire_file
from web import close_app
from workflow.calendar import TZ
from workflow.definition_upload import load_new_version
from workflow.loader import Bundle
from workflow.process_migration import MIGRATED, apply_migration, current
from workflow.report import compiled_report
from workflow.risk_reads import calendars_of
from workflow.service import Service, bound_for
from workflow.simulation import simulate_from
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow

FORUM = "dialogforum"
#: The day before KKR meets (25 March 2022): nobody records its decision on the day.
BEFORE_KKR = datetime(2022, 3, 24, 10, 0, tzinfo=TZ)
#: Three weeks late: Friday 15 April is Langfredag, so the Tuesday after Easter.
KKR_LATE = datetime(2022, 4, 19, 10, 0, tzinfo=TZ)
CHOSEN = ["socialpsykiatri", "velfaerdsteknologi", "rehabilitering"]
OLD = "socialudvalg@laeso.example"
NEW = "ny.sekretaer@laeso.example"
LINK = re.compile(r"https://aftaleflow\.example/svar/([A-Za-z0-9_-]{43})")
ADDED = "Giv et eksempel på egenmestring fra udvalgets kommune"


def service(db: Database) -> Service:
    """A new service each time, as after a restart, planning on the councils' calendars."""
    return Service(db, link_secret=SECRET, calendars=calendars_of)


def tick_until(db: Database, start: datetime, end: datetime, deliver: object) -> None:
    """The scheduler's tick (and the sender) every six hours from ``start`` to ``end``."""
    at = start
    while at <= end:
        service(db).tick(at)
        deliver(at)  # type: ignore[operator]
        at += timedelta(hours=6)


def mails(db: Database, kind: str, stage: str | None = None) -> list[OutboxRow]:
    with db.sessions() as s:
        q = select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id)
        if stage is not None:
            q = q.where(OutboxRow.stage_id == stage)
        return list(s.scalars(q))


def events(db: Database) -> list[EventRow]:
    with db.sessions() as s:
        return list(s.scalars(select(EventRow).order_by(EventRow.id)))


def received(smtp: SmtpServer, kind: str) -> list[Received]:
    return [r for r in smtp.received if f"/{kind}/" in str(r.message["X-Aftaleflow-Key"])]


def vevent(r: Received) -> icalendar.Event:
    (part,) = [p for p in r.message.walk() if p.get_content_type() == "text/calendar"]
    (ev,) = icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return ev


def answer_by_link(client: FlaskClient, tok: str, data: dict[str, object]) -> int:
    url = f"/svar/{tok}"
    page = client.get(url)
    assert page.status_code == 200 and ADDED in page.text  # the form of the new version
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    form = {"csrf_token": found.group(1), "action": "submit", **data}
    return client.post(url, data=form, content_type="multipart/form-data").status_code


@pytest.mark.smtp
def test_a_year_that_changes_as_it_goes(
    db: Database, db_url: str, socialaftale: Bundle, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db, smtp_server.url, AFTALEFLOW_SECRET_KEY=SECRET)
    deliver = deliver_callback(settings, db)
    run_until(db, socialaftale, BEFORE_KKR)
    tick_until(db, BEFORE_KKR, KKR_LATE - timedelta(hours=1), deliver)
    assert mails(db, "invitation", QUESTIONNAIRE) == []  # not on the January plan's 1 April

    # 1. KKR's decision, three weeks late, with three focus areas
    service(db).record_outcome(
        KEY, "kkr-igangsaetter", outcome="approved", values={"focus_areas": CHOSEN},
        at=KKR_LATE, actor="anne", reason="KKR's møde blev udsat",
    )  # fmt: skip

    # 2. a question added before the questionnaire is sent
    old, year, _ = current(db, KEY)
    new = load_new_version(old, questionnaire_file(tmp_path), year)
    migrated_at = KKR_LATE + timedelta(hours=1)
    apply_migration(service(db), KEY, new, at=migrated_at, actor="anne", reason="Nyt spørgsmål")

    # the questionnaire goes out six working days after the decision (27 April)
    tick_until(db, migrated_at, datetime(2022, 4, 27, 12, 0, tzinfo=TZ), deliver)
    invitations = mails(db, "invitation", QUESTIONNAIRE)
    assert len(invitations) == 12 and all(m.status == "sent" for m in invitations)
    first_to_laeso = [r for r in received(smtp_server, "invitation") if OLD in r.rcpt_tos]
    assert len(first_to_laeso) == 1

    # 3. Læsø's committee secretary replaced mid-questionnaire; the new one answers
    replaced_at = datetime(2022, 4, 28, 10, 0, tzinfo=TZ)
    service(db).contacts.replace(
        KEY, "laeso", "committee_secretary", OLD, name="Ny sekretær for Socialudvalget",
        address=NEW, at=replaced_at, actor="anne", reason="Udvalgssekretæren er stoppet",
        revoke_old=True,
    )  # fmt: skip
    deliver(replaced_at)
    (to_new,) = [r for r in received(smtp_server, "invitation") if NEW in r.rcpt_tos]
    found = LINK.search(to_new.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert found
    app = build_app(db_url, tmp_path / "uploads", Clock(replaced_at + timedelta(hours=1)))
    try:
        data = {**answer_for("laeso", 0), "vision-eksempel": "Borgerrådet på Læsø"}
        assert answer_by_link(app.test_client(), found.group(1), data) == 303
    finally:
        close_app(app)
    for i, party in enumerate(socialaftale.participants):
        if party not in ("laeso", "morso"):
            service(db).submit_answer(
                KEY, QUESTIONNAIRE, party, answer_for(party, i),
                at=datetime(2022, 5, 2, 10, 0, tzinfo=TZ), actor=party,
            )  # fmt: skip

    # 4. the dialogue forum moves a week, after its invitations went out
    forum_open = datetime(2022, 6, 7, 12, 0, tzinfo=TZ)
    tick_until(db, datetime(2022, 5, 2, 12, 0, tzinfo=TZ), forum_open, deliver)
    invited = [
        vevent(r)
        for r in received(smtp_server, "meeting_invitation")
        if f"/{FORUM}/" in str(r.message["X-Aftaleflow-Key"])
    ]
    assert len(invited) == 12 and {int(ev["SEQUENCE"]) for ev in invited} == {0}
    moved_at = datetime(2022, 6, 7, 13, 0, tzinfo=TZ)
    service(db).move_meeting(
        KEY, FORUM, None, to="2022-06-22T14:00", location=None, at=moved_at, actor="anne",
        reason="Formanden er forhindret den 15.",
    )  # fmt: skip
    deliver(moved_at)
    updates = [vevent(r) for r in received(smtp_server, "meeting_update")]
    assert len(updates) == 12
    assert {str(ev["UID"]) for ev in updates} == {str(ev["UID"]) for ev in invited}
    assert {int(ev["SEQUENCE"]) for ev in updates} == {1}
    assert {ev["DTSTART"].dt for ev in updates} == {datetime(2022, 6, 22, 14, 0, tzinfo=TZ)}

    # 5. the rest of the year
    simulate_from(service(db), KEY, moved_at + timedelta(hours=1), on_tick=deliver)
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        assert row.status == "completed"
        report = compiled_report(s, row, bound_for(row), QUESTIONNAIRE)

    # the audit trail holds every change, with who and why
    trail = {(e.kind, e.actor, e.reason) for e in events(db)}
    for change in (
        ("outcome_recorded", "anne", "KKR's møde blev udsat"),
        (MIGRATED, "anne", "Nyt spørgsmål"),
        ("contact_replaced", "anne", "Udvalgssekretæren er stoppet"),
        ("meeting_moved", "anne", "Formanden er forhindret den 15."),
    ):
        assert change in trail, change
    (migrated,) = [e for e in events(db) if e.kind == MIGRATED]
    assert (migrated.data["old_hash"], migrated.data["new_hash"]) == (old.hash, new.hash)

    # no mail went out on the old plan after a change
    with db.sessions() as s:
        sent = list(s.scalars(select(OutboxRow).where(OutboxRow.status == "sent")))
    to_old = [m for m in sent if any(r["email"] == OLD for r in m.recipients)]
    assert all(m.sent_at is not None and m.sent_at < replaced_at for m in to_old)
    assert [m for m in sent if m.stage_id == FORUM and m.kind == "meeting_invitation"
            and m.sent_at is not None and m.sent_at > moved_at] == []  # fmt: skip
    reports = received(smtp_server, "forum_report")
    assert reports and all(
        "22. juni 2022" in r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for r in reports
    )

    # the report shows the questions each party answered
    lines = {x.party: x for x in report.synthesis.coverage.lines}
    assert ADDED in lines["laeso"].answered
    assert ADDED not in lines["aalborg"].answered
    assert lines["aalborg"].answered[0].startswith("I hvilken grad kan udvalget")
    assert lines["morso"].status == "answered"  # in the simulated rest of the year
    assert {x.questionnaire_version for x in lines.values()} == {1}
