"""What the secretariat's calendar holds: every meeting, workshop, deadline and planned reminder
of a running process, as plain entries (the ``.ics`` feed and the month view draw them).

Pure: the bound definition and what the tasks are now in, entries out. Meetings and workshops
are timed (their moments are UTC; the feed writes them in Europe/Copenhagen), deadlines are
all-day, and a planned reminder is the office-hours moment it will go out, one entry per stage
and moment naming the parties it will reach. A stage that has not opened yet reminds everybody
on its own schedule; an open stage only the parties still waiting, from their (possibly
extended) deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflow.calendar import to_local
from workflow.timeline import BoundProcess, BoundStage

#: Task states that still get reminders.
WAITING = frozenset({"pending", "invited", "opened", "draft", "overdue", "requested", "postponed"})
#: How long a planned reminder lasts in a calendar (it is a moment, not a meeting).
REMINDER_LENGTH = timedelta(minutes=15)


@dataclass(frozen=True)
class FeedTask:
    """What the calendar reads of a task; ``deadline`` is the party's own (extended) one."""

    stage: str
    party: str
    status: str
    deadline: date | None
    reminders_done: int
    extended: bool = False


@dataclass(frozen=True)
class FeedEntry:
    """One calendar entry: timed (``start``/``end`` moments) or all-day (``day``)."""

    uid: str
    kind: str  # meeting | meeting_cancelled | deadline | deadline_extended | reminder
    title: str
    process: str
    stage: str
    start: datetime | None = None
    end: datetime | None = None
    day: date | None = None
    location: str = ""
    parties: tuple[str, ...] = ()
    #: A meeting's calendar SEQUENCE: how many times it was moved or cancelled.
    sequence: int = 0

    @property
    def sort_key(self) -> tuple[date, str, str]:
        when = self.day if self.day is not None else _local_day(self.start)
        clock = f"{self.start:%H%M}" if self.start is not None else ""
        return (when, clock, self.uid)


def _local_day(moment: datetime | None) -> date:
    return to_local(moment).date() if moment is not None else date.min


def process_entries(
    key: str,
    bound: BoundProcess,
    stage_status: Mapping[str, str],
    tasks: Iterable[FeedTask],
    party_names: Mapping[str, str],
) -> list[FeedEntry]:
    """The calendar of one process, sorted by day and time."""
    by_stage: dict[str, list[FeedTask]] = {}
    for t in tasks:
        by_stage.setdefault(t.stage, []).append(t)
    out: list[FeedEntry] = []
    for bst in bound.stages:
        status = stage_status.get(bst.id, "pending")
        if status == "cancelled":
            continue
        out += _meetings(key, bst)
        out += _deadlines(key, bst, by_stage.get(bst.id, []), party_names)
        if status in ("pending", "open"):
            out += _reminders(key, bound, bst, status, by_stage.get(bst.id, []), party_names)
    out.sort(key=lambda e: e.sort_key)
    return out


def _meetings(key: str, bst: BoundStage) -> list[FeedEntry]:
    """The stage's meetings where they are now (moved ones at their new time), and those
    cancelled, marked so (the feed says STATUS:CANCELLED)."""
    held = [(ev, "meeting") for ev in bst.events]
    return [
        FeedEntry(
            uid=f"{key}-{bst.id}-{ev.id}",
            kind=kind,
            title=ev.title or bst.definition.name,
            process=key,
            stage=bst.id,
            start=ev.start,
            end=ev.end,
            location=ev.location,
            sequence=ev.sequence,
        )
        for ev, kind in held + [(ev, "meeting_cancelled") for ev in bst.cancelled]
    ]


def _deadlines(
    key: str, bst: BoundStage, tasks: list[FeedTask], names: Mapping[str, str]
) -> list[FeedEntry]:
    out: list[FeedEntry] = []
    name = bst.definition.name
    if bst.deadline is not None:
        uid = f"{key}-{bst.id}-deadline"
        out.append(FeedEntry(uid, "deadline", name, key, bst.id, day=bst.deadline))
    for t in tasks:
        if t.extended and t.deadline is not None and t.status in WAITING:
            party = names.get(t.party, t.party)
            out.append(
                FeedEntry(
                    f"{key}-{bst.id}-{t.party}-deadline",
                    "deadline_extended",
                    name,
                    key,
                    bst.id,
                    day=t.deadline,
                    parties=(party,),
                )
            )
    return out


def _reminders(
    key: str,
    bound: BoundProcess,
    bst: BoundStage,
    status: str,
    tasks: list[FeedTask],
    names: Mapping[str, str],
) -> list[FeedEntry]:
    if bst.rules is None or bst.deadline is None:
        return []
    planned: dict[datetime, list[str]] = {}
    if status == "pending" or not tasks:
        everyone = [names.get(p, p) for p in bound.bundle.participants]
        for moment in bound.reminder_moments(bst, bst.deadline):
            planned[moment] = everyone
    else:
        for t in tasks:
            if t.status not in WAITING or t.deadline is None:
                continue
            for moment in bound.reminder_moments(bst, t.deadline)[t.reminders_done :]:
                planned.setdefault(moment, []).append(names.get(t.party, t.party))
    return [
        FeedEntry(
            uid=f"{key}-{bst.id}-reminder-{moment:%Y%m%dT%H%M}",
            kind="reminder",
            title=bst.definition.name,
            process=key,
            stage=bst.id,
            start=moment,
            end=moment + REMINDER_LENGTH,
            parties=tuple(dict.fromkeys(parties)),
        )
        for moment, parties in sorted(planned.items())
    ]
