"""Planning an approval chain on the councils' calendars. Pure: dates in, plans out.

Issue 14's rule: each step of a party's chain (socialudvalg → byråd, or regionsråd) is
requested when the stage opens (the first step) or when the step before it is done (the
later ones), for the body's first meeting whose agenda is still open on that day; its deadline
is that meeting plus ``minutes_working_days`` for the minutes. A body without a calendar keeps
the stage's one deadline. The meeting plan (``aftaleflow calendar risks``, the dashboard, ``status``)
plans here; the engine plans each step as it asks for it with the same rule (``workflow.step_plan``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from workflow.calendar import add_working_days, next_working_day
from workflow.councils import Meeting, MeetingCalendars, agenda_deadline

#: Working days after a meeting that its minutes (and so the decision) reach the secretariat.
DEFAULT_MINUTES_WORKING_DAYS = 2


def next_meeting(calendars: MeetingCalendars, party: str, body: str, after: date) -> Meeting | None:
    """The first meeting of ``party``'s ``body`` strictly after the day ``after``."""
    return first_after(calendars.of(party, body), after)


def first_after(meetings: Sequence[Meeting], after: date) -> Meeting | None:
    return next((m for m in meetings if m.date > after), None)


def first_open_agenda(meetings: Sequence[Meeting], request: date) -> Meeting | None:
    """The first meeting whose agenda still takes an item sent on ``request``."""
    return next((m for m in meetings if agenda_deadline(m) >= request), None)


@dataclass(frozen=True)
class StepPlan:
    """One step of a chain: when to ask, for which meeting, and the step's own deadline.

    ``meeting`` is None when the body has no calendar (``deadline`` is then the stage's) or
    when no meeting with an open agenda is left in the calendar (``deadline`` is None; the
    steps after it have no ``request`` either).
    """

    body: str
    request: date | None
    meeting: Meeting | None
    agenda_deadline: date | None
    deadline: date | None
    has_calendar: bool

    def late_for(self, stage_deadline: date) -> bool:
        """True when this step cannot be done by the stage's deadline on this plan."""
        if self.deadline is None:
            return True
        return self.meeting is not None and self.meeting.date > stage_deadline


def plan_steps(
    chain: Sequence[str],
    calendars: Mapping[str, Sequence[Meeting]],
    opens: date,
    deadline: date,
    minutes_working_days: int = DEFAULT_MINUTES_WORKING_DAYS,
    requested: Mapping[str, date] | None = None,
) -> list[StepPlan]:
    """Plan ``chain`` (bodies in order) for one party; ``calendars`` maps its bodies to their
    meetings (``MeetingCalendars.for_party``); ``opens`` and ``deadline`` are the stage's.
    ``requested`` maps a body to the day its request went out (or, for a step still to ask,
    the day the step before it was decided): the plan follows what happened, as the engine
    did (``workflow.step_plan``), and plans the rest from there."""
    plans: list[StepPlan] = []
    request: date | None = next_working_day(opens)
    for body in chain:
        if requested and body in requested:
            request = requested[body]
        meetings = calendars.get(body) or ()
        if request is None:  # the step before has no meeting left: this one cannot be planned
            plans.append(StepPlan(body, None, None, None, None, bool(meetings)))
            continue
        if not meetings:
            plans.append(StepPlan(body, request, None, None, deadline, False))
            continue
        meeting = first_open_agenda(meetings, request)
        if meeting is None:
            plans.append(StepPlan(body, request, None, None, None, True))
            request = None
            continue
        done = add_working_days(meeting.date, minutes_working_days)
        plans.append(StepPlan(body, request, meeting, agenda_deadline(meeting), done, True))
        request = done
    return plans


@dataclass(frozen=True)
class PartyPlan:
    party: str
    steps: tuple[StepPlan, ...]
    stage_deadline: date

    @property
    def at_risk(self) -> bool:
        return any(s.late_for(self.stage_deadline) for s in self.steps)


def plan_parties(
    calendars: MeetingCalendars,
    chains: Mapping[str, Sequence[str]],
    opens: date,
    deadline: date,
    minutes_working_days: int = DEFAULT_MINUTES_WORKING_DAYS,
) -> list[PartyPlan]:
    """Every party's plan; ``chains`` maps a party slug to its chain of bodies."""
    return [
        PartyPlan(
            party,
            tuple(
                plan_steps(chain, calendars.for_party(party), opens, deadline, minutes_working_days)
            ),
            deadline,
        )
        for party, chain in chains.items()
    ]
