"""The approval stages of a stored process on the councils' calendars: reads the approval steps
and the calendar file, then plans with ``workflow.approval_risk``. The dashboard's meeting plan,
its process page and ``aftaleflow status`` all ask here, so they never disagree."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.approval_risk import StageRisks, approval_risks, calendar_file
from workflow.calendar import next_office_moment, to_local
from workflow.councils import MeetingCalendars, load_calendars
from workflow.errors import AftaleflowError
from workflow.storage.models import ProcessRow, StageRow, TaskRow
from workflow.timeline import BoundProcess


def calendars_for(row: ProcessRow, bound: BoundProcess) -> tuple[MeetingCalendars | None, str]:
    """The councils' calendars of the process's year, or None and why not (the path looked
    for, or the problem with the file)."""
    path = calendar_file(row.definition_path, bound.year)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None, str(path)
    try:
        return _calendars(str(path), stamp), str(path)
    except AftaleflowError as e:
        return None, str(e)


def calendars_of(definition_path: str, year: int) -> MeetingCalendars | None:
    """The councils' calendars a process plans its approval steps on
    (``workflow.step_plan.CalendarSource``); None without a calendar file or with a problem in
    it (the meeting plan page and ``aftaleflow calendar risks`` say which)."""
    path = calendar_file(definition_path, year)
    try:
        return _calendars(str(path), path.stat().st_mtime_ns)
    except (OSError, AftaleflowError):
        return None


@lru_cache(maxsize=8)
def _calendars(path: str, stamp: int) -> MeetingCalendars:
    """A calendar file read once per version (its modification time): the dashboard asks on
    every process page, and an imported calendar is read again at once."""
    del stamp  # part of the cache key only
    return load_calendars(path)


def stage_risks(s: Session, row: ProcessRow, bound: BoundProcess, today: date) -> list[StageRisks]:
    """The approval stages on the councils' calendars ([] without a calendar)."""
    calendars, _ = calendars_for(row, bound)
    if calendars is None:
        return []
    tasks = list(
        s.scalars(
            select(TaskRow)
            .where(TaskRow.process_id == row.id, TaskRow.kind == "approval")
            .order_by(TaskRow.seq)
        )
    )
    steps = {(t.stage_id, t.party, t.step): (t.status, t.deadline_override) for t in tasks}
    up = bool(row.approval_document_hash)
    return approval_risks(
        bound, calendars, steps, agreement_up=up, today=today, requested=requested(bound, tasks)
    )


def requested(bound: BoundProcess, tasks: list[TaskRow]) -> dict[tuple[str, str, str], date]:
    """The day each approval step's request went out, or, for a step still to ask whose step
    before it is decided, the day it is asked (the engine asks at once): the day its mail
    goes out, in the definition's office hours."""
    out: dict[tuple[str, str, str], date] = {}
    decided: dict[tuple[str, str], datetime] = {}
    for t in tasks:  # in chain order
        before = decided.get((t.stage_id, t.party)) if t.status == "pending" else None
        asked = t.invited_at or before
        if asked is not None:
            sent = next_office_moment(asked, bound.office_hour, bound.office_end)
            out[(t.stage_id, t.party, t.step)] = to_local(sent).date()
        if t.decided_at is not None and t.status in ("approved", "exempt"):
            decided[(t.stage_id, t.party)] = t.decided_at
    return out


def parties_at_risk(s: Session, row: ProcessRow, bound: BoundProcess, today: date) -> list[str]:
    """The names of the parties at risk in an approval stage that is still to come or open."""
    open_or_pending = {
        r.stage_id
        for r in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
        if r.status in ("pending", "open")
    }
    names = {p.slug: p.name for p in bound.bundle.parties.parties}
    return [
        names.get(p.party, p.party)
        for sr in stage_risks(s, row, bound, today)
        if sr.stage.id in open_or_pending
        for p in sr.at_risk
    ]
