"""Issue 13, items 4 and 5 on the real engine (SQLite, and PostgreSQL when configured): KKR's
decision recorded three weeks late with three focus areas moves the questionnaire (sent six
working days after it, due eight weeks after it) and its reminders, nobody is escalated
early, the form's choice list and the workshops are the three areas; before the decision the
dependent stages say "afventer KKR's beslutning" and refuse to open."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.support import KEY, QUESTIONNAIRE, SECRET, token
from workflow.calendar import TZ, local_to_utc
from workflow.errors import GuardRefused
from workflow.loader import Bundle
from workflow.queries import StageStatus, process_status
from workflow.service import Service, bound_for
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow

from .dashboard_support import PROCESS, answer_for, dashboard

#: The day before KKR meets (25 March 2022): DAS has met, KKR's stage is open.
BEFORE_KKR = datetime(2022, 3, 24, 10, 0, tzinfo=TZ)
#: Three weeks late: Friday 15 April is Langfredag, so the Tuesday after Easter.
LATE = datetime(2022, 4, 19, 10, 0, tzinfo=TZ)
CHOSEN = ["socialpsykiatri", "velfaerdsteknologi", "rehabilitering"]
LATE_PARTIES = {"laeso", "morso"}


def local(d: str, hour: int = 9) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


def tick_days(svc: Service, start: datetime, end: datetime) -> None:
    """The scheduler's tick every six hours from ``start`` (09:00: the office hour) to ``end``."""
    day = start
    while day <= end:
        svc.tick(day)
        day += timedelta(hours=6)


def mails(db: Database, kind: str, stage: str = QUESTIONNAIRE) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(
            s.scalars(
                select(OutboxRow)
                .where(OutboxRow.kind == kind, OutboxRow.stage_id == stage)
                .order_by(OutboxRow.id)
            )
        )


def stages(db: Database) -> dict[str, StageStatus]:
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        return {x.id: x for x in process_status(s, KEY, bound_for(row)).stages}


def test_kkr_three_weeks_late_moves_the_questionnaire_and_decides_the_workshops(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    svc = Service(db, link_secret=SECRET)
    with dashboard(db_url, db, socialaftale, tmp_path, BEFORE_KKR) as d:
        d.login()
        # nobody records KKR's decision: the tick runs on to the day it is recorded
        tick_days(svc, BEFORE_KKR, LATE - timedelta(hours=1))
        d.clock.set(LATE)
        assert mails(db, "invitation") == []  # today: invitations on 4 April, 4 days to go
        page = d.client.get(PROCESS).text
        for sid in (QUESTIONNAIRE, "workshops"):
            assert f'data-testid="waiting-{sid}">afventer KKR&#39;s beslutning<' in page, sid
        assert 'data-testid="planned-fagudvalg-spoergsmaal"' in page
        with pytest.raises(GuardRefused, match="afventer KKR's beslutning"):
            svc.open_stage(KEY, QUESTIONNAIRE, at=LATE, actor="t", reason="nu")
        refused = d.form(f"{PROCESS}/fase/{QUESTIONNAIRE}/aabn", {"reason": "nu"})
        assert refused.status_code == 409 and "afventer KKR&#39;s beslutning" in refused.text

        # the decision with three focus areas, through the dashboard's form (one refused first)
        url = f"{PROCESS}/fase/kkr-igangsaetter/resultat"
        form = d.client.get(url).text
        assert form.count('name="value_focus_areas"') == 5
        none = d.form(url, {"outcome": "approved", "reason": "KKR's møde"})
        assert none.status_code == 409 and "vælg 1 til 5 (valgt: 0)" in none.text
        done = d.form(
            url, {"outcome": "approved", "value_focus_areas": CHOSEN, "reason": "KKR's møde"}
        )
        assert done.status_code in (302, 303), done.text
        (recorded,) = d.events("outcome_recorded")[-1:]
        assert recorded.stage_id == "kkr-igangsaetter"
        assert recorded.data["values"] == {"focus_areas": CHOSEN}
        page = d.client.get(PROCESS).text
        assert "waiting-fagudvalg-spoergsmaal" not in page and "waiting-workshops" not in page
        assert "Fokusområder: Sammen om en stærk socialpsykiatri, Velfærdsteknologi" in page

        # the questionnaire: six working days later, due eight weeks after the decision
        tick_days(svc, local("2022-04-20"), local("2022-04-28", 10))
        invitations = mails(db, "invitation")
        assert len(invitations) == 12
        assert {m.send_after for m in invitations} == {local("2022-04-27")}
        status = stages(db)[QUESTIONNAIRE]
        assert status.deadline == date(2022, 6, 14)
        assert not status.planned

        # the form's choice list is the three areas KKR chose
        d.clock.set(datetime(2022, 4, 28, 10, 0, tzinfo=TZ))
        form_page = d.client.get(f"/svar/{token(db, 'laeso')}").text
        offered = re.findall(r'name="fokusomraader-prioritet"[^>]*value="([^"]+)"', form_page)
        offered = offered or re.findall(
            r'value="([^"]+)"[^>]*name="fokusomraader-prioritet"', form_page
        )
        assert offered == CHOSEN, offered
        assert "Velfærdsteknologi" in form_page

        # ten parties answer; two are late: reminded from the new deadline, escalated after it
        at = local("2022-05-02", 10)
        for i, party in enumerate(socialaftale.participants):
            if party not in LATE_PARTIES:
                svc.submit_answer(
                    KEY, QUESTIONNAIRE, party, answer_for(party, i), at=at, actor=party
                )
        tick_days(svc, local("2022-05-03"), local("2022-06-16", 23))
        assert mails(db, "escalation") == []  # not on 25 May, as with the written deadline
        reminders = mails(db, "reminder")
        assert {m.party for m in reminders} == LATE_PARTIES
        assert sorted({m.send_after for m in reminders}) == [
            local("2022-06-02"),  # 7 working days before 14 June (over 2. pinsedag)
            local("2022-06-10"),
            local("2022-06-15"),
        ]
        tick_days(svc, local("2022-06-17"), local("2022-06-17", 12))
        assert {m.party for m in mails(db, "escalation")} == LATE_PARTIES

        # the workshops: one per chosen area, from 1 September
        tick_days(svc, local("2022-06-17", 12), local("2022-06-29", 12))
        svc.record_outcome(
            KEY, "dialogforum", outcome="held", at=local("2022-06-29", 12), actor="t"
        )
        tick_days(svc, local("2022-06-29", 12), local("2022-09-01", 12))
        d.clock.set(datetime(2022, 9, 1, 12, 0, tzinfo=TZ))
        with db.sessions() as s:
            row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
            assert row is not None
            events = [e.id for e in bound_for(row).stage("workshops").events]
        assert events == ["socialpsykiatri", "velfaerdsteknologi", "rehabilitering"]
        workshops = d.client.get(f"{PROCESS}/workshops").text
        assert "Workshop – Velfærdsteknologi" in workshops
        assert "Workshop – Rehabilitering" in workshops
        assert "Workshop – Den gode alderdom" not in workshops
        with db.sessions() as s:
            opened = s.scalar(
                select(EventRow).where(
                    EventRow.kind == "stage_opened", EventRow.stage_id == "workshops"
                )
            )
        assert opened is not None
