"""The live plan, decided without I/O: a moved meeting is at its new time with a higher
SEQUENCE and what is timed from it follows (the forum report), a cancelled one is out of the
plan and marked cancelled in the calendar feed, a stage deadline moved for everyone moves the
reminders; no changes is the bound definition itself."""

from __future__ import annotations

from datetime import date, datetime

import icalendar

from workflow.calendar import TZ, to_local
from workflow.deadlines import effective_deadline
from workflow.feed import process_entries
from workflow.feed_ics import feed_ics
from workflow.live_plan import live, with_deadline, with_event
from workflow.loader import Bundle
from workflow.timeline import bind

FORUM = "dialogforum"
Q = "fagudvalg-spoergsmaal"


def _moved(start: datetime, status: str = "postponed", sequence: int = 1) -> dict[str, object]:
    return {
        "status": status,
        "start": start.isoformat(),
        "end": start.replace(hour=start.hour + 3).isoformat(),
        "location": "Hjørring Rådhus",
        "sequence": sequence,
    }


def test_no_changes_is_the_definition_itself(socialaftale: Bundle) -> None:
    bound = bind(socialaftale, 2022)
    assert live(bound, None) is bound and live(bound, {}) is bound
    assert live(bound, {"events": {}, "deadlines": {}}) is bound


def test_a_moved_forum_takes_its_report_along(socialaftale: Bundle) -> None:
    bound = bind(socialaftale, 2022)
    changes = with_event(None, FORUM, FORUM, _moved(datetime(2022, 6, 22, 14, 0, tzinfo=TZ)))
    moved = live(bound, changes)
    assert live(bound, changes) is moved, "kept"
    (ev,) = moved.stage(FORUM).events
    assert to_local(ev.start) == datetime(2022, 6, 22, 14, 0, tzinfo=TZ)
    assert ev.sequence == 1 and ev.status == "postponed" and ev.location == "Hjørring Rådhus"
    before, after = bound.report_at(bound.stage(FORUM)), moved.report_at(moved.stage(FORUM))
    assert before is not None and after is not None
    assert to_local(before).date() == date(2022, 6, 8)
    assert to_local(after).date() == date(2022, 6, 15)
    assert moved.stage(Q) is bound.stage(Q), "the other stages are untouched"


def test_a_cancelled_meeting_is_out_of_the_plan_and_cancelled_in_the_feed(
    socialaftale: Bundle,
) -> None:
    bound = bind(socialaftale, 2022)
    forum = bound.stage(FORUM).events[0]
    cancelled = {**_moved(forum.start, "cancelled", 2), "end": forum.end.isoformat()}
    gone = live(bound, with_event(None, FORUM, FORUM, cancelled))
    assert gone.stage(FORUM).events == () and gone.report_at(gone.stage(FORUM)) is None
    assert [e.id for e in gone.stage(FORUM).cancelled] == [FORUM]
    names = {p.slug: p.name for p in socialaftale.parties.parties}
    entries = process_entries("k", gone, {}, [], names)
    (entry,) = [e for e in entries if e.stage == FORUM]
    assert entry.kind == "meeting_cancelled" and entry.sequence == 2
    ics = feed_ics(
        entries,
        name="Aftaleflow",
        domain="aftaleflow.example",
        stamp=datetime(2022, 6, 1, tzinfo=TZ),
        summary=lambda e: e.title,
        description=lambda e: "",
    )
    (vevent,) = [
        v
        for v in icalendar.Calendar.from_ical(ics).walk("VEVENT")
        if str(v["UID"]).startswith("k-dialogforum")
    ]
    assert str(vevent["STATUS"]) == "CANCELLED" and int(vevent["SEQUENCE"]) == 2


def test_a_stage_deadline_moved_for_everyone_moves_its_reminders(socialaftale: Bundle) -> None:
    bound = bind(socialaftale, 2022)
    moved = live(bound, with_deadline(None, Q, {"deadline": "2022-05-27", "sequence": 1}))
    stage = moved.stage(Q)
    assert stage.deadline == date(2022, 5, 27)
    first = moved.reminder_moments(stage, stage.deadline)[0]
    assert to_local(first).date() == date(2022, 5, 17)
    # THE deadline of a task: its own extension, else the live stage deadline.
    assert effective_deadline(extended=None, stage=stage.deadline) == date(2022, 5, 27)
    extended = date(2022, 5, 25)
    assert effective_deadline(extended=extended, stage=stage.deadline) == extended
