"""Dates and places move (issue 13, item 2): a meeting moved or cancelled reaches every invitee
as a calendar update (the same UID, a higher SEQUENCE; METHOD:CANCEL) through the outbox to a
real SMTP server (aiosmtpd), and nothing goes out on the old plan afterwards; a stage's deadline
moved for everyone re-plans the reminders and tells only the parties that have not answered.
SQLite, and PostgreSQL when it is configured."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select

from aftaleflow.cli_mail import deliver_callback
from tests.browser.support import AFTER_INVITATIONS, KEY, SECRET, run_until
from tests.integration.conftest import Received, SmtpServer, make_settings
from workflow.calendar import TZ, add_working_days
from workflow.errors import GuardRefused
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

FORUM = "dialogforum"
Q = "fagudvalg-spoergsmaal"
#: The forum's stage opens Tuesday 7 June 2022 (invitations at 09:00); it meets on the 15th.
FORUM_OPEN = datetime(2022, 6, 7, 12, 0, tzinfo=TZ)


def _service(db: Database) -> Service:
    return Service(db, link_secret=SECRET)  # a new one each time: as after a restart


def _deliverer(tmp_path: Path, db: Database, smtp: SmtpServer):  # type: ignore[no-untyped-def]
    return deliver_callback(make_settings(tmp_path, db, smtp.url, AFTALEFLOW_SECRET_KEY=SECRET), db)


def _received(smtp: SmtpServer, kind: str) -> list[Received]:
    return [r for r in smtp.received if f"/{kind}/" in str(r.message["X-Aftaleflow-Key"])]


def _calendar(r: Received) -> tuple[icalendar.Calendar, icalendar.Event]:
    (part,) = [p for p in r.message.walk() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    (ev,) = cal.walk("VEVENT")
    return cal, ev


def _mails(db: Database, kind: str) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(s.scalars(select(OutboxRow).where(OutboxRow.kind == kind)))


def _events(db: Database, kind: str) -> list[EventRow]:
    with db.sessions() as s:
        return list(s.scalars(select(EventRow).where(EventRow.kind == kind)))


@pytest.mark.smtp
def test_the_forum_moved_a_week_reaches_every_invitee_and_the_report_follows(
    db: Database, socialaftale: Bundle, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    run_until(db, socialaftale, FORUM_OPEN)
    deliver = _deliverer(tmp_path, db, smtp_server)
    deliver(FORUM_OPEN)
    invitations = {
        r.message["X-Aftaleflow-Key"]: r for r in _received(smtp_server, "meeting_invitation")
    }
    first = [
        _calendar(r)
        for r in invitations.values()
        if f"/{FORUM}/" in str(r.message["X-Aftaleflow-Key"])
    ]
    assert len(first) == 12
    uid = str(first[0][1]["UID"])
    assert {int(ev["SEQUENCE"]) for _, ev in first} == {0}

    at = datetime(2022, 6, 7, 13, 0, tzinfo=TZ)
    ev = _service(db).move_meeting(
        KEY, FORUM, None, to="2022-06-22T14:00", location="Hjørring Rådhus", at=at,
        actor="anne", reason="Formanden er forhindret den 15.",
    )  # fmt: skip
    assert ev.status == "postponed" and ev.sequence == 1
    deliver(at)
    updates = _received(smtp_server, "meeting_update")
    assert len(updates) == 12
    for r in updates:
        cal, vevent = _calendar(r)
        assert str(cal["METHOD"]) == "REQUEST"
        assert str(vevent["UID"]) == uid and int(vevent["SEQUENCE"]) == 1
        assert vevent["DTSTART"].dt == datetime(2022, 6, 22, 14, 0, tzinfo=TZ)
        assert str(vevent["LOCATION"]) == "Hjørring Rådhus"
        assert (
            r.message["Subject"]
            == "Udsat: Socialpolitisk Dialogforum – nu onsdag den 22. juni 2022"
        )
        text = r.message.get_body(("plain",)).get_content()
        assert "Før: onsdag den 15. juni 2022 kl. 14.00" in text
        assert "Nu: onsdag den 22. juni 2022 kl. 14.00" in text and "Hjørring Rådhus" in text

    # The report was planned five working days before the 15th (the 8th); it follows to the 15th.
    for day in (datetime(2022, 6, 8, 9, 0, tzinfo=TZ), datetime(2022, 6, 14, 16, 0, tzinfo=TZ)):
        _service(db).tick(day)
        deliver(day)
    assert _mails(db, "forum_report") == []
    planned = datetime(2022, 6, 15, 9, 0, tzinfo=TZ)
    _service(db).tick(planned)
    deliver(planned)
    reports = _received(smtp_server, "forum_report")
    assert len(reports) == 12
    assert all(
        "onsdag den 22. juni 2022" in r.message.get_body(("plain",)).get_content() for r in reports
    )
    # Nothing went out on the old plan after the change.
    sent_after = [
        m
        for m in _mails(db, "meeting_invitation")
        if m.stage_id == FORUM and m.sent_at and m.sent_at > at
    ]
    assert sent_after == []

    (moved,) = _events(db, "meeting_moved")
    assert moved.actor == "anne" and moved.reason == "Formanden er forhindret den 15."
    assert moved.data["sequence"] == 1 and moved.data["status"] == "postponed"
    assert moved.data["to"]["location"] == "Hjørring Rådhus"
    assert moved.data["from"]["start"].startswith("2022-06-15T12:00")


@pytest.mark.smtp
def test_a_cancelled_forum_sends_a_cancel_and_no_report(
    db: Database, socialaftale: Bundle, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    run_until(db, socialaftale, FORUM_OPEN)
    deliver = _deliverer(tmp_path, db, smtp_server)
    deliver(FORUM_OPEN)
    first = datetime(2022, 6, 7, 13, 0, tzinfo=TZ)
    _service(db).move_meeting(
        KEY, FORUM, None, to="2022-06-16", location=None, at=first, actor="anne", reason="Lokalet",
    )  # fmt: skip
    at = datetime(2022, 6, 7, 14, 0, tzinfo=TZ)
    _service(db).move_meeting(
        KEY, FORUM, None, to=None, location=None, cancel=True, at=at, actor="anne",
        reason="Aflyst af formandskabet",
    )  # fmt: skip
    deliver(at)
    cancels = [
        r
        for r in _received(smtp_server, "meeting_update")
        if r.message["Subject"].startswith("Aflyst")
    ]
    assert len(cancels) == 12
    for r in cancels:
        cal, vevent = _calendar(r)
        assert str(cal["METHOD"]) == "CANCEL" and str(vevent["STATUS"]) == "CANCELLED"
        assert int(vevent["SEQUENCE"]) == 2
    for day in (datetime(2022, 6, 8, 9, 0, tzinfo=TZ), datetime(2022, 6, 16, 9, 0, tzinfo=TZ)):
        _service(db).tick(day)
        deliver(day)
    assert _mails(db, "forum_report") == []
    (event,) = _events(db, "meeting_cancelled")
    assert event.data["sequence"] == 2 and event.reason == "Aflyst af formandskabet"
    with pytest.raises(GuardRefused, match="er aflyst; et aflyst møde kan ikke flyttes"):
        _service(db).move_meeting(
            KEY, FORUM, None, to="2022-06-23", location=None, at=at, actor="anne", reason="igen"
        )


@pytest.mark.smtp
def test_a_stage_deadline_moved_tells_only_those_that_have_not_answered(
    db: Database, socialaftale: Bundle, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    run_until(db, socialaftale, AFTER_INVITATIONS)
    service = _service(db)
    from tests.integration.dashboard_support import answer_for

    answered = ["aalborg", "laeso", "morso"]
    for i, party in enumerate(answered):
        service.submit_answer(
            KEY, Q, party, answer_for(party, i), at=AFTER_INVITATIONS, actor=party
        )
    service.extend(
        KEY, Q, "thisted", date(2022, 5, 25), at=AFTER_INVITATIONS, actor="anne", reason="Ferie"
    )
    at = datetime(2022, 4, 5, 10, 0, tzinfo=TZ)
    got = _service(db).move_deadline(
        KEY, Q, date(2022, 6, 1), at=at, actor="anne", reason="Udvalgene mødes sent i maj"
    )
    assert sorted(got["answered"]) == answered and got["extended"] == ["thisted"]
    assert len(got["told"]) == 8
    deliver = _deliverer(tmp_path, db, smtp_server)
    deliver(at)
    told = _received(smtp_server, "new_deadline")
    assert sorted(r.message["X-Aftaleflow-Key"].split("/")[2] for r in told) == sorted(got["told"])
    for r in told:
        assert r.message["Subject"].startswith("Ny frist:")
        text = r.message.get_body(("plain",)).get_content()
        assert (
            "Før: fredag den 20. maj 2022" in text and "Ny frist: onsdag den 1. juni 2022" in text
        )
        assert "https://aftaleflow.example/svar/" in text

    # The old plan's first reminder (7 working days before 20 May) sends nothing; the new
    # plan's (7 working days before 1 June) reaches the eight, and Thisted on its own plan.
    old_first = datetime.combine(
        add_working_days(date(2022, 5, 20), -7), datetime.min.time(), TZ
    ).replace(hour=9)
    new_first = datetime.combine(
        add_working_days(date(2022, 6, 1), -7), datetime.min.time(), TZ
    ).replace(hour=9)
    _service(db).tick(old_first)
    deliver(old_first)
    reminded = {m.party for m in _mails(db, "reminder")}
    assert reminded <= {"thisted"}
    _service(db).tick(new_first)
    deliver(new_first)
    reminded = {m.party for m in _mails(db, "reminder") if m.send_after >= new_first}
    assert reminded - {"thisted"} == set(got["told"])
    assert not ({m.party for m in _mails(db, "reminder")} & set(answered))
    (event,) = _events(db, "stage_deadline_moved")
    assert event.data["from"] == "2022-05-20" and event.data["to"] == "2022-06-01"
    assert event.reason == "Udvalgene mødes sent i maj" and event.actor == "anne"


def test_refusals_say_why_in_danish(db: Database, socialaftale: Bundle) -> None:
    run_until(db, socialaftale, FORUM_OPEN)
    s = _service(db)
    at = datetime(2022, 6, 7, 13, 0, tzinfo=TZ)

    def move(to: str | None, *, when: datetime = at, stage: str = FORUM, reason: str = "r") -> None:
        s.move_meeting(KEY, stage, None, to=to, location=None, at=when, actor="anne", reason=reason)

    with pytest.raises(GuardRefused, match="ligger i fortiden"):
        move("2022-06-06T14:00")
    with pytest.raises(GuardRefused, match="Skriv hvorfor mødet flyttes"):
        move("2022-06-22T14:00", reason=" ")
    with pytest.raises(GuardRefused, match="uden for fasen"):
        move("2022-07-06T14:00")
    with pytest.raises(
        GuardRefused, match="er afsluttet, så »DAS Social – fokusområder og vision« er holdt"
    ):
        move("2022-06-22T14:00", stage="das-fokus")
    with pytest.raises(GuardRefused, match=re.escape("begyndte 15.06.2022 kl. 14.00 og er holdt")):
        move("2022-06-29T14:00", when=datetime(2022, 6, 15, 15, 0, tzinfo=TZ))
    with pytest.raises(
        GuardRefused, match="Fasen »Spørgsmål til de politiske udvalg« er afsluttet"
    ):
        s.move_deadline(KEY, Q, date(2022, 6, 30), at=at, actor="anne", reason="r")
    with pytest.raises(GuardRefused, match="har ingen frist"):
        s.move_deadline(KEY, FORUM, date(2022, 6, 30), at=at, actor="anne", reason="r")
    assert _events(db, "meeting_moved") == [] and _events(db, "stage_deadline_moved") == []


def test_a_deadline_cannot_move_into_the_past(db: Database, socialaftale: Bundle) -> None:
    run_until(db, socialaftale, AFTER_INVITATIONS)
    with pytest.raises(GuardRefused, match="ligger før i dag"):
        _service(db).move_deadline(
            KEY, Q, date(2022, 4, 1), at=AFTER_INVITATIONS, actor="anne", reason="r"
        )


def test_a_moved_workshop_reaches_the_seated_participants_and_its_sign_up_follows(
    db: Database, tmp_path: Path
) -> None:
    from tests.workshop_support import STAGE, WORKSHOP, workshop_bundle
    from tests.workshop_support import at as local
    from workflow.links import LinkKey, make_token
    from workflow.workshop_service import Workshops
    from workflow.workshops import Participant

    svc = Service(db, link_secret=SECRET)
    key = svc.start(workshop_bundle(tmp_path), 2022, at=local("2022-08-01"))
    svc.tick(local("2022-09-01", 9))
    with db.sessions() as s:
        pid = s.scalar(select(OutboxRow.process_id))
    assert pid is not None
    ws = Workshops(svc)
    aalborg = ws.resolve(
        make_token(SECRET, LinkKey(pid, STAGE, "aalborg", WORKSHOP, 1)), local("2022-09-02")
    )
    ws.sign_up(
        aalborg,
        [Participant("Anna", "Konsulent", "anna@kommune.example")],
        at=local("2022-09-02", 10),
    )

    svc.move_meeting(
        key, STAGE, WORKSHOP, to="2022-09-28", location=None, at=local("2022-09-05"),
        actor="anne", reason="Lokalet er optaget",
    )  # fmt: skip
    updates = [m for m in _mails(db, "meeting_update") if m.step == WORKSHOP]
    assert len(updates) == 3 and {m.seq for m in updates} == {1}
    (to_aalborg,) = [m for m in updates if m.party == "aalborg"]
    assert "anna@kommune.example" in [r["email"] for r in to_aalborg.recipients]
    assert to_aalborg.context["event"]["start"].startswith("2022-09-28T07:30")
    # A seat given up after the move is cancelled in the calendar past the move's SEQUENCE.
    gone = next(r for r in ws.party_list(aalborg) if r.name == "Anna")
    ws.cancel(aalborg, gone.seq, at=local("2022-09-13"))
    (cancel,) = _mails(db, "workshop_cancellation")
    assert cancel.context["event"]["sequence"] == 2
    assert cancel.context["event"]["start"].startswith("2022-09-28T07:30")


def test_the_commands_move_cancel_and_refuse_in_one_danish_line(
    db: Database,
    socialaftale: Bundle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from aftaleflow.cli import main

    run_until(db, socialaftale, AFTER_INVITATIONS)
    monkeypatch.setenv("AFTALEFLOW_DATABASE_URL", db.url)
    monkeypatch.setenv("AFTALEFLOW_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AFTALEFLOW_SECRET_KEY", SECRET)
    at = ["--at", "2022-04-05T10:00"]

    code = main(["meeting", "move", FORUM, "--to", "2022-06-22T14:00", "--reason", "Ferie", *at])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "»Socialpolitisk Dialogforum« er udsat til onsdag den 22. juni 2022 kl. 14.00" in out
    code = main(["meeting", "move", FORUM, "--location", "Hjørring", "--reason", "Sal", *at])
    assert code == 0 and "(kalenderens SEQUENCE 2)" in capsys.readouterr().out
    code = main(["meeting", "move", FORUM, "--to", "2022-04-01", "--reason", "r", *at])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(
        "Fejl: Det nye tidspunkt 01.04.2022 kl. 14.00 ligger i fortiden"
    )
    code = main(["stage", "deadline", Q, "--to", "2022-05-27", "--reason", "Udvalg", *at])
    out = capsys.readouterr().out
    assert code == 0 and "Fristen for fagudvalg-spoergsmaal er nu 27.05.2022: 12 parter" in out
    code = main(["meeting", "cancel", FORUM, "--reason", "Aflyst", *at])
    assert code == 0 and "er aflyst" in capsys.readouterr().out
    kinds = [e.kind for e in _events(db, "meeting_moved") + _events(db, "meeting_cancelled")]
    assert kinds == ["meeting_moved", "meeting_moved", "meeting_cancelled"]
    assert len(_events(db, "stage_deadline_moved")) == 1


def test_an_unknown_stage_or_workshop_is_named_with_what_there_is(
    db: Database, socialaftale: Bundle
) -> None:
    from workflow.errors import NotFound

    run_until(db, socialaftale, AFTER_INVITATIONS)
    s = _service(db)
    at = AFTER_INVITATIONS
    with pytest.raises(NotFound, match="ingen fase 'dialogforom'"):
        s.move_meeting(KEY, "dialogforom", None, to="2022-06-22", location=None, at=at,
                       actor="anne", reason="r")  # fmt: skip
    with pytest.raises(NotFound, match="ingen fase"):
        s.move_deadline(KEY, "nope", date(2022, 6, 1), at=at, actor="anne", reason="r")
    with pytest.raises(GuardRefused, match="har flere møder; vælg et af dem: socialpsykiatri"):
        s.move_meeting(KEY, "workshops", None, to="2022-09-22", location=None, at=at,
                       actor="anne", reason="r")  # fmt: skip
    with pytest.raises(GuardRefused, match="har intet møde 'x'"):
        s.move_meeting(KEY, "workshops", "x", to="2022-09-22", location=None, at=at,
                       actor="anne", reason="r")  # fmt: skip
