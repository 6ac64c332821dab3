"""A simulated year sends nothing on a weekend or a Danish holiday, and quotes no deadline on one."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.conftest import SOCIALAFTALE
from workflow.calendar import is_working_day, to_local
from workflow.loader import load_bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow


@pytest.mark.parametrize("year", [2022, 2024, 2026])
def test_a_simulated_year_mails_and_meets_on_working_days_only(db_url: str, year: int) -> None:
    bundle = load_bundle(SOCIALAFTALE, reference_year=year)
    db = Database(db_url)
    # one late party: its reminders and escalation are part of the year too
    simulate(Service(db, link_secret="test-secret"), bundle, year, late=frozenset({"laeso"}))
    with db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow)))
    db.dispose()
    kinds = {r.kind for r in rows}
    assert {"invitation", "reminder", "escalation", "meeting_invitation"} <= kinds
    assert {"approval_request", "submission"} <= kinds
    on_off_days: list[tuple[str, str, date]] = []
    for r in rows:
        sent = to_local(r.send_after).date()
        if not is_working_day(sent):
            on_off_days.append((r.kind, "sent", sent))
        if r.context.get("deadline"):
            quoted = date.fromisoformat(str(r.context["deadline"])[:10])
            if not is_working_day(quoted):
                on_off_days.append((r.kind, "deadline", quoted))
        event = r.context.get("event")
        if event:
            held = to_local(datetime.fromisoformat(event["start"])).date()
            if not is_working_day(held):
                on_off_days.append((r.kind, "event", held))
    assert on_off_days == []
    assert sum(1 for r in rows if r.context.get("event")) >= 5
