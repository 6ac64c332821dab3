"""Issue 14, the first must-show: the 2022 cycle on the shipped calendar (SQLite and
PostgreSQL, a real SMTP server). Each kommune's socialudvalg step is asked of the
socialudvalg's secretary in time for its November meeting, its byråd step of the byråd's
secretariat in time for the byråd's next meeting (late November, Læsø's 14 December); Læsø,
whose byråd meets after the stage's deadline, is flagged on the dashboard and in ``status``
three weeks before that deadline; and no mail quotes a deadline already past."""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from aftaleflow.cli_common import App
from aftaleflow.cli_mail import deliver_callback
from aftaleflow.cli_process import status
from aftaleflow.config import Settings, from_env
from tests.browser.support import SECRET, WALL_START, Clock, build_app
from tests.integration.dashboard_support import ADMIN, ADMIN_PASSWORD, add_users, csrf_token
from web import close_app
from workflow.calendar import TZ, add_working_days, local_to_utc, to_local
from workflow.councils import agenda_deadline, load_calendars
from workflow.councils_plan import first_open_agenda
from workflow.dates import format_date
from workflow.loader import Bundle, load_bundle
from workflow.risk_reads import calendars_of, parties_at_risk, stage_risks
from workflow.service import Service, bound_for
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, TaskRow

from .conftest import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "definitions/processes/socialaftale.yaml"
CALENDARS = load_calendars(ROOT / "definitions/calendars/2022.yaml")
APPROVAL = "politisk-godkendelse"
STAGE_DEADLINE = date(2022, 11, 30)
#: Who each step is asked of (``step_recipients`` in the shipped definition).
ROLE = {
    "socialudvalg": "committee_secretary",
    "byraad": "council_secretariat",
    "regionsraad": "council_secretariat",
}
LATE = frozenset({"laeso", "morso"})
#: Three weeks before the stage's deadline.
THREE_WEEKS_BEFORE = datetime(2022, 11, 9, 12, 0, tzinfo=TZ)


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.smtp
def test_each_step_is_asked_of_its_body_in_time_for_its_meeting(
    mail_db: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    service = Service(mail_db, link_secret=mail_settings.secret_key, calendars=calendars_of)
    bundle = load_bundle(DEFINITION)
    result = simulate(
        service, bundle, 2022, late=LATE, on_tick=deliver_callback(mail_settings, mail_db)
    )
    assert result.final_status == "completed"
    with mail_db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        requested = {
            (e.party, e.step): e
            for e in s.scalars(
                select(EventRow).where(EventRow.kind == "approval_requested").order_by(EventRow.id)
            )
        }
        skipped = list(s.scalars(select(EventRow).where(EventRow.kind == "reminder_skipped")))
        tasks = {
            (t.party, t.step): t
            for t in s.scalars(select(TaskRow).where(TaskRow.stage_id == APPROVAL))
        }
    sent = [r for r in rows if r.status == "sent"]
    by_id = {r.message.get("Message-ID"): r for r in smtp_server.received}
    parties = bundle.parties

    requests = [r for r in sent if r.kind == "approval_request"]
    assert len(requests) == 11 * 2 + 1
    meetings: dict[tuple[str, str], date] = {}
    for row in requests:
        envelope = by_id[row.message_id]
        # asked of the body's own secretary: the socialudvalg's, or the council secretariat
        wanted = [c.email for c in parties.get(row.party).addresses(ROLE[row.step])]
        assert sorted(envelope.rcpt_tos) == sorted(wanted), (row.party, row.step)
        # in time for the body's first meeting whose agenda is still open on the day it went
        sent_on = to_local(row.sent_at or row.created_at).date()
        meeting = first_open_agenda(CALENDARS.of(row.party, row.step), sent_on)
        assert meeting is not None, (row.party, row.step, sent_on)
        assert sent_on <= agenda_deadline(meeting)
        meetings[(row.party, row.step)] = meeting.date
        # the step's own deadline: the meeting plus two working days for the minutes
        step_deadline = add_working_days(meeting.date, 2)
        assert row.context["deadline"] == step_deadline.isoformat()
        assert tasks[(row.party, row.step)].step_deadline == step_deadline
        assert requested[(row.party, row.step)].data["meeting"] == meeting.date.isoformat()
        text = _text(envelope.message)
        assert f"Frist: {format_date(step_deadline)}" in text
        agenda = format_date(agenda_deadline(meeting))
        assert f"Møde: {format_date(meeting.date)} (dagsordensfrist {agenda})" in text

    kommuner = [p for p in bundle.participants if parties.get(p).kind == "kommune"]
    assert all(meetings[(p, "socialudvalg")].month == 11 for p in kommuner)
    # the byråd step is asked after the socialudvalg decided, for the byråd's next meeting
    for p in kommuner:
        assert meetings[(p, "byraad")] > meetings[(p, "socialudvalg")]
        assert meetings[(p, "byraad")].month in (11, 12)
    assert meetings[("laeso", "byraad")] == date(2022, 12, 14)
    assert meetings[("aalborg", "byraad")] == date(2022, 11, 28)
    assert meetings[("region-nordjylland", "regionsraad")] == date(2022, 11, 29)

    # reminders go to the step's recipients too, and quote the step's own deadline
    reminders = [r for r in sent if r.kind == "reminder" and r.stage_id == APPROVAL]
    assert reminders
    for row in reminders:
        wanted = [c.email for c in parties.get(row.party).addresses(ROLE[row.step])]
        assert sorted(by_id[row.message_id].rcpt_tos) == sorted(wanted)
        assert row.context["deadline"] == tasks[(row.party, row.step)].step_deadline.isoformat()

    # no mail asks for something by a deadline that has already passed when it is sent; only
    # a reminder after the deadline (the stage's after_working_days rule, to a late party)
    # names a past one, and says the party is late
    quoted = [r for r in sent if r.context.get("deadline")]
    assert len(quoted) > len(requests)
    for row in quoted:
        sent_on = to_local(row.sent_at or row.created_at).date()
        if date.fromisoformat(row.context["deadline"]) < sent_on:
            assert row.kind in ("reminder", "escalation"), row.idempotency_key
            assert row.party in LATE and row.context["working_days_late"] > 0
            assert "forsinket" in _text(by_id[row.message_id].message)
    # and no approval reminder was caught up after downtime
    assert not [e for e in skipped if e.stage_id == APPROVAL and "nedetid" in e.reason]


def test_laeso_is_flagged_three_weeks_before_the_deadline(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    db.migrate()
    service = Service(db, link_secret=SECRET, calendars=calendars_of)
    simulate(service, socialaftale, 2022, until=THREE_WEEKS_BEFORE)
    today = THREE_WEEKS_BEFORE.date()
    assert (STAGE_DEADLINE - today).days >= 21
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        assert parties_at_risk(s, row, bound_for(row), today) == ["Læsø Kommune"]
        key = row.key

    # in `aftaleflow status`
    settings = from_env(
        {"AFTALEFLOW_VAR_DIR": str(tmp_path / "var"), "AFTALEFLOW_DATABASE_URL": db_url}
    )
    app = App(settings)
    try:
        out = CliRunner().invoke(status, [key, "--at", today.isoformat()], obj=app)
    finally:
        app.close()
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "Risiko i godkendelsen: Læsø Kommune kan ikke nå fristen efter mødeplanen" in text
    assert "Aalborg Kommune kan" not in text

    # and on the dashboard's process page; the web's service plans on the calendars too
    add_users(db, local_to_utc(today, THREE_WEEKS_BEFORE.timetz().replace(tzinfo=None)))
    web = build_app(
        db_url, tmp_path / "uploads", Clock(THREE_WEEKS_BEFORE), wall_clock=Clock(WALL_START)
    )
    try:
        client = web.test_client()
        token = csrf_token(client.get("/sekretariat/login").text)
        client.post(
            "/sekretariat/login",
            data={"csrf_token": token, "name": ADMIN, "password": ADMIN_PASSWORD},
        )
        page = client.get(f"/sekretariat/proces/{key}")
        assert page.status_code == 200
        notice = page.text.split('data-testid="plan-risk"')[1].split("</div>")[0]
        assert "Læsø Kommune" in notice and "Aalborg" not in notice
        assert web.extensions["aftaleflow"].responses.service.calendars is calendars_of
    finally:
        close_app(web)


REQUESTS_OUT = datetime(2022, 11, 7, 12, 0, tzinfo=TZ)


def _started(db: Database, socialaftale: Bundle) -> str:
    """The 2022 cycle until the approval stage has asked every socialudvalg (nobody has
    decided yet)."""
    db.migrate()
    simulate(
        Service(db, link_secret=SECRET, calendars=calendars_of),
        socialaftale,
        2022,
        until=REQUESTS_OUT,
    )
    with db.sessions() as s:
        key = s.scalar(select(ProcessRow.key))
    assert key is not None
    return key


def _approve(svc: Service, key: str, party: str, step: str, at: datetime) -> None:
    svc.record_approval(
        key, APPROVAL, party, step, decision="approved", at=at, actor=party,
        decision_text="Godkendt", agenda_item="1",
    )  # fmt: skip


def _mails(db: Database, party: str, step: str) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(
            s.scalars(
                select(OutboxRow)
                .where(OutboxRow.party == party, OutboxRow.step == step)
                .order_by(OutboxRow.id)
            )
        )


def test_a_byraad_step_asked_on_5_december_is_due_at_its_december_meeting(
    db: Database, socialaftale: Bundle
) -> None:
    """Today's bug: asked on 5 December, told "Frist: onsdag den 30. november 2022", and its
    reminders logged as caught up after downtime. Now: the byråd's meeting of 12 December
    (its agenda closes that day), due 14 December, reminded on 7 December."""
    key = _started(db, socialaftale)
    svc = Service(db, link_secret=SECRET, calendars=calendars_of)
    svc.tick(datetime(2022, 12, 5, 9, 0, tzinfo=TZ))  # after downtime since 7 November
    for day in range(5, 21):  # the scheduler ticks every morning from 5 December
        at = datetime(2022, 12, day, 9, 0, tzinfo=TZ)
        svc.tick(at)
        if day == 5:
            _approve(svc, key, "aalborg", "socialudvalg", at.replace(hour=10))
        if day == 8:  # Læsø's socialudvalg: its byråd's last agenda closed the day before
            _approve(svc, key, "laeso", "socialudvalg", at.replace(hour=10))

    with db.sessions() as s:
        tasks = {
            (t.party, t.step): t
            for t in s.scalars(select(TaskRow).where(TaskRow.stage_id == APPROVAL))
        }
        events = list(s.scalars(select(EventRow).order_by(EventRow.id)))
    assert tasks[("aalborg", "byraad")].step_deadline == date(2022, 12, 14)
    request, *reminders = _mails(db, "aalborg", "byraad")
    assert request.kind == "approval_request"
    assert request.context["deadline"] == "2022-12-14"
    assert [r["email"] for r in request.recipients] == ["byraad@aalborg.example"]
    assert to_local(request.send_after).date() == date(2022, 12, 5)
    # five working days before 14 December is 7 December, under two days after the request
    # (the stage's min_gap_days): skipped for that, not "caught up after downtime"
    skipped = [
        e
        for e in events
        if e.kind == "reminder_skipped" and (e.party, e.step) == ("aalborg", "byraad")
    ]
    assert [(e.data["n"], e.reason) for e in skipped] == [(1, "under 2 dage siden sidste mail")]
    assert [(r.kind, r.context["deadline"], to_local(r.send_after).date()) for r in reminders] == [
        ("reminder", "2022-12-14", date(2022, 12, 16)),  # two working days after, late
    ]
    asked = next(
        e
        for e in events
        if e.kind == "approval_requested" and (e.party, e.step) == ("aalborg", "byraad")
    )
    assert asked.data["meeting"] == "2022-12-12" and asked.data["agenda_deadline"] == "2022-12-05"

    # no meeting with an open agenda is left: the stage's deadline has passed, so ten working
    # days from the request (never a past day), and the meeting plan flags Læsø
    laeso = next(
        e
        for e in events
        if e.kind == "approval_requested" and (e.party, e.step) == ("laeso", "byraad")
    )
    assert laeso.data["meeting"] is None
    assert tasks[("laeso", "byraad")].step_deadline == date(2022, 12, 22)
    (laeso_request, *_) = _mails(db, "laeso", "byraad")
    assert laeso_request.context["deadline"] == "2022-12-22"
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        assert "Læsø Kommune" in parties_at_risk(s, row, bound_for(row), date(2022, 12, 8))
        # the meeting plan follows what happened, so it agrees with the engine
        (risks,) = stage_risks(s, row, bound_for(row), date(2022, 12, 8))
    aalborg = next(p for p in risks.parties if p.party == "aalborg")
    byraad = aalborg.steps[1].plan
    assert byraad.meeting is not None and byraad.meeting.date == date(2022, 12, 12)
    assert byraad.deadline == tasks[("aalborg", "byraad")].step_deadline
    assert aalborg.at_risk  # its byråd meets after 30 November


def test_without_a_calendar_a_step_keeps_the_stage_deadline(
    db: Database, socialaftale: Bundle
) -> None:
    key = _started(db, socialaftale)
    svc = Service(db, link_secret=SECRET)  # no calendar source: the rule before calendars
    _approve(svc, key, "aalborg", "socialudvalg", datetime(2022, 11, 8, 10, 0, tzinfo=TZ))
    with db.sessions() as s:
        task = s.scalar(select(TaskRow).where(TaskRow.party == "aalborg", TaskRow.step == "byraad"))
    assert task is not None and task.step_deadline is None
    (request,) = _mails(db, "aalborg", "byraad")
    assert request.context["deadline"] == STAGE_DEADLINE.isoformat()
    # the step's recipients come from the definition, calendar or not
    assert [r["email"] for r in request.recipients] == ["byraad@aalborg.example"]
    (first,) = [m for m in _mails(db, "aalborg", "socialudvalg") if m.kind == "approval_request"]
    assert sorted(r["email"] for r in first.recipients) == [
        "socialudvalg@aalborg.example",
        "udvalgsassistent@aalborg.example",
    ]


def test_a_postponed_step_is_planned_again_for_the_next_meeting(
    db: Database, socialaftale: Bundle
) -> None:
    key = _started(db, socialaftale)
    svc = Service(db, link_secret=SECRET, calendars=calendars_of)
    _approve(svc, key, "aalborg", "socialudvalg", datetime(2022, 11, 15, 10, 0, tzinfo=TZ))
    (request,) = _mails(db, "aalborg", "byraad")
    assert request.context["deadline"] == "2022-11-30"  # the meeting of 28 November
    svc.record_approval(
        key, APPROVAL, "aalborg", "byraad", decision="postponed",
        at=datetime(2022, 11, 29, 10, 0, tzinfo=TZ), actor="aalborg",
        decision_text="Udsat til næste møde", agenda_item="4",
    )  # fmt: skip
    with db.sessions() as s:
        task = s.scalar(select(TaskRow).where(TaskRow.party == "aalborg", TaskRow.step == "byraad"))
        event = s.scalar(select(EventRow).where(EventRow.kind == "approval_postponed"))
    assert task is not None and task.status == "postponed"
    assert task.step_deadline == date(2022, 12, 14) and task.reminders_done == 0
    assert event is not None and event.data["meeting"] == "2022-12-12"
    # its reminders now count towards 14 December: five working days before is 7 December
    svc.tick(datetime(2022, 12, 7, 9, 0, tzinfo=TZ))
    reminders = [m for m in _mails(db, "aalborg", "byraad") if m.kind == "reminder"]
    assert [(m.context["deadline"], to_local(m.send_after).date()) for m in reminders] == [
        ("2022-12-14", date(2022, 12, 7))
    ]


def test_an_extension_that_ran_out_before_the_step_was_asked_is_not_quoted(
    db: Database, socialaftale: Bundle
) -> None:
    key = _started(db, socialaftale)
    svc = Service(db, link_secret=SECRET, calendars=calendars_of)
    svc.extend(
        key, APPROVAL, "aalborg", date(2022, 12, 2),
        at=datetime(2022, 11, 10, 10, 0, tzinfo=TZ), actor="anne", reason="KKR aftalte det",
    )  # fmt: skip
    _approve(svc, key, "aalborg", "socialudvalg", datetime(2022, 12, 5, 10, 0, tzinfo=TZ))
    (request,) = _mails(db, "aalborg", "byraad")
    assert request.context["deadline"] == "2022-12-14"  # not the extension of 2 December
    with db.sessions() as s:
        event = s.scalar(
            select(EventRow).where(EventRow.kind == "approval_requested", EventRow.step == "byraad")
        )
    assert event is not None and event.data["extension_passed"] == "2022-12-02"
    # an extension still ahead when the step is asked wins over the step's own deadline
    svc.extend(
        key, APPROVAL, "thisted", date(2022, 12, 16),
        at=datetime(2022, 11, 10, 10, 0, tzinfo=TZ), actor="anne", reason="KKR aftalte det",
    )  # fmt: skip
    _approve(svc, key, "thisted", "socialudvalg", datetime(2022, 12, 5, 11, 0, tzinfo=TZ))
    (thisted,) = _mails(db, "thisted", "byraad")
    assert thisted.context["deadline"] == "2022-12-16"
