"""Ticks are idempotent, and a tick after downtime catches up with every missed action once."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from workflow.calendar import local_to_utc
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, TaskRow

Q = "fagudvalg-spoergsmaal"

#: KKR's focus areas (``decides`` in socialaftale.yaml), recorded with its decision.
AREAS = {"focus_areas": ["den-gode-alderdom", "socialpsykiatri", "effektive-loesninger"]}


def at(d: str, hour: int = 12) -> datetime:
    from datetime import time

    return local_to_utc(date.fromisoformat(d), time(hour))


def _through_meetings(svc: Service, bundle: Bundle) -> str:
    """Start 2022 and record the two meetings before the questionnaire."""
    key = svc.start(bundle, 2022, at=at("2022-01-03"))
    svc.tick(at("2022-01-10"))
    svc.record_outcome(key, "das-fokus", outcome="held", at=at("2022-03-03", 16), actor="t")
    svc.tick(at("2022-03-04"))
    svc.record_outcome(
        key,
        "kkr-igangsaetter",
        outcome="approved",
        at=at("2022-03-25", 13),
        actor="t",
        values=AREAS,
    )
    return key


def _snapshot(db: Database) -> dict[str, Any]:
    with db.sessions() as s:
        return {
            "events": s.scalar(select(func.count()).select_from(EventRow)),
            "outbox": sorted(s.scalars(select(OutboxRow.idempotency_key))),
            "tasks": sorted(
                (t.party, t.status, t.reminders_done, t.escalated)
                for t in s.scalars(select(TaskRow))
            ),
        }


def test_ticking_twice_at_the_same_moment_changes_nothing(
    db: Database, socialaftale: Bundle
) -> None:
    svc = Service(db, link_secret="s")
    _through_meetings(svc, socialaftale)
    moment = at("2022-04-04", 9)
    first = svc.tick(moment)
    assert Counter(a.action.kind for a in first.applied) == {"open_stage": 1, "invite": 12}
    before = _snapshot(db)
    second = svc.tick(moment)
    assert second.applied == []
    assert _snapshot(db) == before


def _run_until(svc: Service, end: datetime) -> None:
    while (due := svc.next_due()) is not None and due <= end:
        svc.tick(due)


def _decisions(db: Database) -> Counter[tuple[str, str, int]]:
    with db.sessions() as s:
        return Counter(
            (e.party, e.kind, int(e.data.get("n", 0)))
            for e in s.scalars(select(EventRow).where(EventRow.stage_id == Q))
        )


def test_a_tick_after_30_days_of_downtime_catches_up_once(
    db: Database, socialaftale: Bundle, tmp_path: Any, backend: str
) -> None:
    from tests.conftest import make_database

    # Reference: a scheduler that never stopped, in a database of its own.
    ref_db, _ = make_database(backend, tmp_path / "ref")
    ref = Service(ref_db, link_secret="s")
    _through_meetings(ref, socialaftale)
    _run_until(ref, at("2022-05-26", 10))

    # The same process, with the scheduler down from 5 April to 26 May (51 days).
    svc = Service(db, link_secret="s")
    _through_meetings(svc, socialaftale)
    _run_until(svc, at("2022-04-05"))
    report = svc.tick(at("2022-05-26", 10))
    per_kind = Counter(a.action.kind for a in report.applied)
    assert per_kind == {"skip_reminder": 24, "mark_overdue": 12, "remind": 12, "escalate": 12}
    assert all(a.late_by > timedelta(0) for a in report.applied)
    assert {a.action.n for a in report.applied if a.action.kind == "skip_reminder"} == {1, 2}
    assert svc.tick(at("2022-05-26", 10)).applied == []

    # Every decision the reference took, the caught-up run took once too.
    caught_up, reference = _decisions(db), _decisions(ref_db)
    for party in socialaftale.participants:
        for n in (1, 2, 3):
            assert (
                caught_up[(party, "reminded", n)] + caught_up[(party, "reminder_skipped", n)] == 1
            )
            assert reference[(party, "reminded", n)] == 1
        assert caught_up[(party, "escalated", 0)] == reference[(party, "escalated", 0)] == 1
        assert caught_up[(party, "overdue", 0)] == 1

    # Nothing is sent twice, and the rest of the stage runs on as usual.
    _run_until(svc, at("2022-06-10"))
    with db.sessions() as s:
        mails = Counter(
            (m.party, m.kind) for m in s.scalars(select(OutboxRow).where(OutboxRow.stage_id == Q))
        )
        late_events = [e for e in s.scalars(select(EventRow).where(EventRow.kind == "escalated"))]
    assert all(n == 1 for n in mails.values())
    assert mails[("laeso", "reminder")] == 1 and mails[("laeso", "escalation")] == 1
    assert all(e.data["late_by_s"] > 0 for e in late_events)
    ref_db.dispose()


def test_an_extension_moves_the_partys_pending_reminders(
    db: Database, socialaftale: Bundle
) -> None:
    svc = Service(db, link_secret="s")
    key = _through_meetings(svc, socialaftale)
    _run_until(svc, at("2022-04-05"))
    # Laeso's deadline moves from 20 May to 3 June: its reminders move with it.
    svc.extend(key, Q, "laeso", date(2022, 6, 3), at=at("2022-04-06"), actor="t", reason="test")
    _run_until(svc, at("2022-06-02"))

    def reminders(party: str) -> list[str]:
        with db.sessions() as s:
            rows = s.scalars(
                select(OutboxRow)
                .where(OutboxRow.party == party, OutboxRow.kind == "reminder")
                .order_by(OutboxRow.seq)
            )
            return [m.send_after.date().isoformat() for m in rows]

    assert reminders("aalborg") == ["2022-05-10", "2022-05-18", "2022-05-23"]
    # 7 and 2 working days before 3 June (Kristi himmelfart 26 May is skipped)
    assert reminders("laeso") == ["2022-05-24", "2022-06-01"]
    with db.sessions() as s:
        laeso = s.scalar(select(TaskRow).where(TaskRow.party == "laeso", TaskRow.stage_id == Q))
        ext = s.scalar(select(EventRow).where(EventRow.kind == "deadline_extended"))
    assert laeso is not None and laeso.status == "invited"
    assert ext is not None and ext.data == {"from": "2022-05-20", "to": "2022-06-03"}
    assert ext.reason == "test"


def test_catching_up_across_a_stage_close_applies_what_fell_due_before_it(
    db: Database, socialaftale: Bundle
) -> None:
    svc = Service(db, link_secret="s")
    _through_meetings(svc, socialaftale)
    _run_until(svc, at("2022-04-05"))
    report = svc.tick(at("2022-06-05", 10))  # down from 5 April until after the 3 June close
    kinds = [a.action.kind for a in report.applied]
    assert Counter(kinds) == {
        "skip_reminder": 24,
        "mark_overdue": 12,
        "remind": 12,
        "escalate": 12,
        "complete_stage": 1,
    }
    assert kinds[-1] == "complete_stage"  # everything that fell due before the close came first
    with db.sessions() as s:
        mails = Counter(
            (m.kind, m.status)
            for m in s.scalars(
                select(OutboxRow).where(OutboxRow.stage_id == Q, OutboxRow.kind != "invitation")
            )
        )
    # the late reminder was overtaken by the close and never goes out; the escalations do
    assert mails == {("reminder", "cancelled"): 12, ("escalation", "queued"): 12}


def test_catch_up_skips_invitations_to_meetings_that_are_over(
    db: Database, socialaftale: Bundle
) -> None:
    """Issue 11 point 6: a scheduler started late (6 November) opens the June dialogue forum
    and the autumn workshops on catch-up: their meetings are over, so nobody is invited;
    the skip is in the audit log. A meeting still ahead is invited to as before."""
    svc = Service(db, link_secret="s")
    key = _through_meetings(svc, socialaftale)
    svc.tick(at("2022-11-06"))
    svc.record_outcome(key, "dialogforum", outcome="held", at=at("2022-11-06", 13), actor="t")
    svc.tick(at("2022-11-06", 14))
    with db.sessions() as s:
        invitations = s.scalar(
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.kind == "meeting_invitation")
        )
        skipped = s.scalars(
            select(EventRow).where(EventRow.kind == "meeting_invitations_skipped")
        ).all()
    assert invitations == 0
    assert [e.stage_id for e in skipped] == ["dialogforum", "workshops"]
    assert all(e.data["events"] for e in skipped)

    other = svc.start(socialaftale, 2022, at=at("2022-01-03"), key="i-tide")
    svc.tick(at("2022-01-10"))
    svc.record_outcome(other, "das-fokus", outcome="held", at=at("2022-03-03", 16), actor="t")
    svc.tick(at("2022-03-04"))
    svc.record_outcome(
        other,
        "kkr-igangsaetter",
        outcome="approved",
        at=at("2022-03-25", 13),
        actor="t",
        values=AREAS,
    )
    while (due := svc.next_due()) is not None and due <= at("2022-06-08"):
        svc.tick(due)
    with db.sessions() as s:
        in_time = s.scalar(
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.kind == "meeting_invitation", OutboxRow.stage_id == "dialogforum")
        )
    assert in_time, "a meeting still ahead is invited to"
