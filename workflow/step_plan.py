"""An approval step's own deadline, planned on its body's meeting calendar when the step is
requested (issue 14). Pure: the body's meetings and dates in, the step's plan out.

A step is requested when its stage opens (the first step of a chain) or when the step before
it is approved (the later ones), and asks for the body's first meeting whose agenda still
takes an item on the day the request goes out; its deadline is that meeting plus the stage's
``minutes_working_days`` (the minutes reach the secretariat). A body without a calendar keeps
the stage's deadline (the rule before calendars). A body whose calendar has no meeting with an
open agenda left gets the stage's deadline, but never fewer than
``defaults.NO_MEETING_WORKING_DAYS`` working days after the request: a mail never quotes a
day already past, and the meeting plan flags the party (``workflow.approval_risk``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.calendar import add_working_days
from workflow.councils import Meeting, MeetingCalendars, agenda_deadline
from workflow.councils_plan import first_open_agenda
from workflow.defaults import NO_MEETING_WORKING_DAYS

#: Where the engine finds the councils' calendars of a process: (definition path, year) →
#: the year's calendars, or None without a (valid) calendar file. The entry points pass
#: ``workflow.risk_reads.calendars_of``; the core reads no files itself.
CalendarSource = Callable[[str, int], MeetingCalendars | None]


@dataclass(frozen=True)
class StepDeadline:
    """A requested step's plan: its deadline and the meeting it asks for (None: no meeting
    with an open agenda is left in the calendar)."""

    deadline: date
    meeting: Meeting | None

    def event_data(self) -> dict[str, Any]:
        """What the ``approval_requested`` event records of the plan."""
        if self.meeting is None:
            return {"step_deadline": self.deadline.isoformat(), "meeting": None}
        return {
            "step_deadline": self.deadline.isoformat(),
            "meeting": self.meeting.date.isoformat(),
            "agenda_deadline": agenda_deadline(self.meeting).isoformat(),
        }


def plan_requested_step(
    meetings: Sequence[Meeting],
    request_day: date,
    stage_deadline: date | None,
    minutes_working_days: int,
) -> StepDeadline | None:
    """The plan of a step requested on ``request_day`` (the day its mail goes out); None when
    the body has no calendar (the stage's deadline holds)."""
    if not meetings:
        return None
    meeting = first_open_agenda(meetings, request_day)
    if meeting is not None:
        return StepDeadline(add_working_days(meeting.date, minutes_working_days), meeting)
    floor = add_working_days(request_day, NO_MEETING_WORKING_DAYS)
    return StepDeadline(max(stage_deadline or floor, floor), None)
