"""Decisions taken in one place, and the logs that say what happened: a retry waits for the
office hours of the mail's own definition; "overdue" is the planner's ``past_deadline`` for the
response page and the dashboard alike; a failed mail, a retry and a caught-up tick are
logged with their ``action`` key."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from notifications.sender import deliver_due
from notifications.transports import SmtpTransport
from workflow import queries
from workflow.calendar import local_to_utc, to_local
from workflow.link_target import LATE, OPEN
from workflow.links import LinkKey, make_token
from workflow.loader import Bundle
from workflow.mail import office_hours
from workflow.planner import past_deadline
from workflow.responses import Responses
from workflow.service import Service, bound_for
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow, ProcessRow

from .conftest import SmtpServer, make_settings

#: Monday 4 April 2022, 09:00 Danish time.
MONDAY_9 = datetime(2022, 4, 4, 7, 0, tzinfo=UTC)


def _actions(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(getattr(r, "action", "")) for r in caplog.records]


def _queue(db: Database, key: str, email: str, hours: list[str]) -> None:
    context = {
        "process_id": None, "title": "T", "stage_id": "s", "stage_name": "S", "party": "laeso",
        "party_name": "Læsø Kommune", "step": "", "planned_at": MONDAY_9.isoformat(),
        "secretariat": {"name": "Sekretariatet", "email": "sekretariat@nordjylland.example"},
        "deadline": "2022-05-20", "working_days_late": 1, "committee": [],
        "office_hours": hours,
    }  # fmt: skip
    with db.transaction() as s:
        s.add(
            OutboxRow(
                idempotency_key=key,
                kind="escalation",
                party="laeso",
                recipients=[{"name": "Direktør", "email": email}],
                context=context,
                created_at=MONDAY_9,
                send_after=MONDAY_9,
                next_attempt_at=MONDAY_9,
                status="queued",
            )
        )


@pytest.mark.smtp
def test_a_retry_waits_for_the_office_hours_of_its_definition_and_is_logged(
    mail_db: Database,
    tmp_path: Path,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(tmp_path, mail_db, smtp_server.url)
    # office hours 07:00-09:00: at 09:00 a retry in a minute waits for tomorrow 07:00
    _queue(mail_db, "early", "direktoer@laeso.example", ["07:00", "09:00"])
    _queue(mail_db, "usual", "direktoer@morso.example", ["09:00", "16:00"])
    _queue(mail_db, "refused", "direktoer@brs.example", ["09:00", "16:00"])
    smtp_server.handler.tempfail_rcpt = {"direktoer@laeso.example", "direktoer@morso.example"}
    smtp_server.handler.refuse = {"direktoer@brs.example": "550 5.1.1 No such user"}
    assert settings.smtp_url
    transport = SmtpTransport(settings.smtp_url, local_hostname=settings.mail_domain)
    with caplog.at_level(logging.INFO, logger="aftaleflow.mail"):
        report = deliver_due(mail_db, transport, settings, MONDAY_9)
    nexts = {d.key: d.next_attempt_at for d in report.deliveries}
    tuesday_7 = local_to_utc(to_local(MONDAY_9).date() + timedelta(days=1), time(7, 0))
    assert nexts["early"] == tuesday_7
    assert nexts["usual"] == MONDAY_9 + timedelta(minutes=1)
    assert {"mail_retry", "mail_failed"} <= set(_actions(caplog))
    assert office_hours({}) == (time(9, 0), time(16, 0)), "rows without them: the defaults"


def test_the_outbox_context_holds_the_definitions_office_hours(
    db: Database, socialaftale: Bundle
) -> None:
    simulate(Service(db, link_secret="s" * 32), socialaftale, 2022, until=MONDAY_9)
    with db.sessions() as s:
        contexts = list(s.scalars(select(OutboxRow.context)))
    assert contexts
    assert {tuple(c["office_hours"]) for c in contexts} == {("09:00", "16:00")}


def test_a_tick_that_catches_up_logs_it(
    db: Database, socialaftale: Bundle, caplog: pytest.LogCaptureFixture
) -> None:
    svc = Service(db, link_secret="s" * 32)
    svc.start(socialaftale, 2022, at=datetime(2022, 1, 9, 23, 0, tzinfo=UTC), actor="test")
    with caplog.at_level(logging.INFO, logger="aftaleflow.service"):
        svc.tick(datetime(2022, 1, 12, 12, 0, tzinfo=UTC))  # two days after the first stage
    assert "caught_up" in _actions(caplog)


def test_overdue_is_one_decision_for_the_response_page_and_the_dashboard(
    db: Database, socialaftale: Bundle
) -> None:
    """Exactly at ``overdue_at`` a task is not yet overdue; one second later it is: the same
    for the planner's ``past_deadline``, a personal link's phase and the dashboard's list."""
    stage = "fagudvalg-spoergsmaal"  # late answers are taken (and marked late)
    svc = Service(db, link_secret="s" * 32)
    simulate(svc, socialaftale, 2022, until=datetime(2022, 4, 4, 7, 30, tzinfo=UTC))
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        bound = bound_for(row)
        pid = row.id
    deadline = bound.stage(stage).deadline
    assert deadline is not None
    boundary = bound.overdue_at(deadline)
    token = make_token(svc.link_secret, LinkKey(pid, stage, "aalborg", "", 1))
    responses = Responses(svc)

    def listed(at: datetime) -> bool:
        with db.sessions() as s:
            row = s.scalar(select(ProcessRow))
            assert row is not None
            overdue = queries.overdue_tasks(s, row, bound, at)
        return any(o.party == "aalborg" and o.stage_id == stage for o in overdue)

    assert not past_deadline(bound, deadline, boundary)
    assert responses.resolve(token, boundary).phase == OPEN
    assert not listed(boundary)
    after = boundary + timedelta(seconds=1)
    assert past_deadline(bound, deadline, after)
    assert responses.resolve(token, after).phase == LATE
    assert listed(after)
