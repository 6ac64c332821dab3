"""Binding a definition to a preparation year: relative dates become moments in UTC.

Pure: ``bind(bundle, 2022)`` is the 2022 timeline; ``bind(bundle, 2026)`` the next-but-one.
Reminder and escalation dates are derived from a (possibly extended) deadline here, so the
planner and the dashboard agree on them. ``bind(bundle, 2022, actuals)`` binds a running
process: dates that follow a stage (``{after: kkr-igangsaetter, ...}``) count from its recorded
completion and a decision's recorded values fill the choice lists and the workshops
(``workflow.follows``); ``bound_for(row)`` passes the ones kept on the process row.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from workflow import defaults
from workflow.bind_checks import reminder_problems
from workflow.calendar import (
    add_working_days,
    end_of_day,
    local_to_utc,
    next_working_day,
    office_slot,
    parse_clock,
    to_local,
)
from workflow.definition import (
    ApprovalStage,
    DecisionStage,
    Event,
    MeetingStage,
    QuestionnaireStage,
    ReminderRules,
    Stage,
    SubmissionStage,
    WorkshopStage,
)
from workflow.definition_base import DateExpr
from workflow.definition_follows import After
from workflow.errors import DefinitionError, Problem
from workflow.follows import (
    Recorded,
    Values,
    actuals_key,
    actuals_of,
    chosen_workshops,
    counted,
    decided,
    followed,
    planned_completion,
    value_refs,
    with_choices,
)
from workflow.roll import apply_roll, deadline_roll, resolve_deadline, resolve_event_day

if TYPE_CHECKING:
    from workflow.loader import Bundle


@dataclass(frozen=True)
class BoundEvent:
    id: str
    title: str
    start: datetime
    end: datetime
    location: str
    #: The calendar entry's SEQUENCE: how many times the secretariat changed it.
    sequence: int = 0
    #: '' as planned, else ``moved`` or ``postponed`` (``workflow.live_plan``).
    status: str = ""


@dataclass(frozen=True)
class BoundStage:
    index: int
    definition: Stage
    opens_at: datetime
    closes_at: datetime | None
    send_at: datetime | None = None
    deadline: date | None = None
    #: The meetings or workshops as they will be held (moved ones at their new time).
    events: tuple[BoundEvent, ...] = ()
    #: Those the secretariat cancelled (``workflow.live_plan``): nothing is planned from them.
    cancelled: tuple[BoundEvent, ...] = ()
    planned: bool = False
    """Its dates follow a stage not yet completed: counted from that stage's planned
    completion ("planlagt"); they move when it is recorded (``workflow.follows``)."""
    waits_on: tuple[str, ...] = ()
    """Decision stages whose values it uses and which are not recorded: it cannot open."""

    # kept once read: the planner asks for them thousands of times a year
    @cached_property
    def id(self) -> str:
        return self.definition.id

    @cached_property
    def kind(self) -> str:
        return self.definition.kind

    @cached_property
    def rules(self) -> ReminderRules | None:
        d = self.definition
        return d if isinstance(d, QuestionnaireStage | ApprovalStage) else None


@dataclass(frozen=True)
class BoundProcess:
    bundle: Bundle
    year: int
    stages: tuple[BoundStage, ...]
    office_hour: time
    office_end: time
    actuals: Mapping[str, Recorded] = field(default_factory=dict)
    """The recorded completions the dates and values were bound with (``workflow.follows``)."""

    @property
    def title(self) -> str:
        return self.bundle.process.title_for(self.year)

    def stage(self, sid: str) -> BoundStage:
        return self._stage_index()[sid]

    def _stage_index(self) -> dict[str, BoundStage]:
        by_id: dict[str, BoundStage] | None = self.__dict__.get("_by_id")
        if by_id is None:
            by_id = {s.id: s for s in self.stages}
            object.__setattr__(self, "_by_id", by_id)
        return by_id

    @cached_property
    def followed(self) -> frozenset[str]:
        """The stages whose completion is recorded for others (``workflow.follows``)."""
        return frozenset(followed(self.bundle.process))

    def waiting(self, sid: str) -> tuple[str, str] | None:
        """(Danish, English) "afventer KKR's beslutning" while the stage waits for a
        decision's values; None when it does not."""
        waits = self.stage(sid).waits_on
        if not waits:
            return None
        decision = self.bundle.process.stage(waits[0])
        assert isinstance(decision, DecisionStage)
        return decision.waiting_text()

    def slot(self, d: date) -> datetime:
        return office_slot(d, self.office_hour)

    # ---------------------------------------------------------------- per-task dates

    def _dates(self, what: str, stage: BoundStage | None, deadline: date | None) -> Any:
        """Where a date derived from a stage and a deadline is kept, and its key: the planner
        asks for the same ones again and again. A stage not of this process is not kept."""
        if stage is not None and self._stage_index().get(stage.id) is not stage:
            return {}, None
        memo: dict[tuple[Any, ...], Any] | None = self.__dict__.get("_dates_memo")
        if memo is None:
            memo = {}
            object.__setattr__(self, "_dates_memo", memo)
        return memo, (what, stage.id if stage else None, deadline)

    def reminder_moments(self, stage: BoundStage, deadline: date) -> tuple[datetime, ...]:
        memo, key = self._dates("remind", stage, deadline)
        got: tuple[datetime, ...] | None = memo.get(key)
        if got is None:
            rules = stage.rules
            offsets = sorted(r.offset for r in rules.reminders) if rules else []
            moments = [self.slot(add_working_days(deadline, o)) for o in offsets]
            got = memo[key] = tuple(moments[: rules.max_reminders] if rules else ())
        return got

    def overdue_at(self, deadline: date) -> datetime:
        memo, key = self._dates("overdue", None, deadline)
        got: datetime | None = memo.get(key)
        if got is None:
            got = memo[key] = end_of_day(deadline)
        return got

    def requirements(self, sid: str) -> tuple[str, ...]:
        """The stages ``sid`` waits for (``ProcessDefinition.requirements``), kept."""
        memo, key = self._dates("requires:" + sid, None, None)
        got: tuple[str, ...] | None = memo.get(key)
        if got is None:
            got = memo[key] = tuple(self.bundle.process.requirements(sid))
        return got

    def link_expires_at(self, stage: BoundStage, deadline: date | None) -> datetime | None:
        """When a party's personal link stops working: the link grace period after the later
        of the stage's close and the party's (possibly extended) deadline; None: it does not
        expire by time (an approval stage without a closing date)."""
        ends = [d for d in (stage.closes_at, self.overdue_at(deadline) if deadline else None) if d]
        if stage.closes_at is None:
            return None
        return max(ends) + timedelta(days=self.bundle.process.link_grace_days)

    def report_at(self, stage: BoundStage) -> datetime | None:
        """When a meeting's ``send_report`` mails the report: the office hour N working days
        before the meeting's day (Danish working days); None without the setting."""
        send = getattr(stage.definition, "send_report", None)
        if send is None or not stage.events:
            return None
        day = to_local(stage.events[0].start).date()
        return self.slot(add_working_days(day, -send.working_days_before))

    def escalation_at(self, stage: BoundStage, deadline: date) -> datetime | None:
        memo, key = self._dates("escalate", stage, deadline)
        if key not in memo:
            rules = stage.rules
            if rules is None or rules.escalate_after_working_days is None:
                memo[key] = None
            else:
                days = rules.escalate_after_working_days
                memo[key] = self.slot(add_working_days(deadline, days))
        got: datetime | None = memo[key]
        return got


def _event(ev: Event, stage: Stage, year: int) -> BoundEvent:
    day = resolve_event_day(ev, stage, year)
    start = local_to_utc(day, parse_clock(ev.time))
    return BoundEvent(
        ev.id, ev.title, start, start + timedelta(minutes=ev.duration_minutes), ev.location
    )


def bind(bundle: Bundle, year: int, actuals: Mapping[str, Recorded] | None = None) -> BoundProcess:
    """Resolve every date of the definition for the preparation year ``year``.

    ``actuals``: the recorded completions of stages others follow (``workflow.follows``); a
    date ``{after: STAGE, ...}`` counts from STAGE's recorded completion, else from its planned
    one (the stage is then ``planned``). Problems are raised only for the plan (no actuals): a
    running process's dates are what they are."""
    actuals = actuals or {}
    values: Values = decided(bundle.process, actuals)
    bundle = with_choices(bundle, values)
    proc = bundle.process
    hour = parse_clock(proc.calendar.office_hour)
    end = parse_clock(proc.calendar.office_hours_end)
    problems: list[Problem] = []
    stages: list[BoundStage] = []

    def day(text: str, field: str) -> date:
        try:
            return DateExpr.parse(text).bind(year)
        except ValueError:
            problems.append(Problem(bundle.path, None, f"{text} findes ikke i {year}", field))
            return date(year, 1, 1)

    def deadline_day(text: str, st: Stage, field: str) -> date:
        day(text, field)  # reports a date that does not exist in this year
        try:
            return resolve_deadline(text, st, year)
        except ValueError:
            return date(year, 1, 1)

    def events_of(
        st: Stage, window: tuple[date, date | None], evs: list[tuple[str, Event]]
    ) -> tuple[BoundEvent, ...]:
        first, last = window
        out = []
        for sub, ev in evs:
            try:
                bound_ev = _event(ev, st, year)
            except ValueError:
                problems.append(
                    Problem(bundle.path, None, f"{ev.date} findes ikke i {year}", f"{sub}.date")
                )
                continue
            on = to_local(bound_ev.start).date()
            if on < first or (last is not None and on > last):
                problems.append(
                    Problem(
                        bundle.path,
                        None,
                        f"{ev.title!r} falder {on} i {year} (efter sine regler for ugedag og "
                        f"rulning), uden for fasen ({first} til {last or 'åben slutning'})",
                        f"{sub}.date",
                    )
                )
            out.append(bound_ev)
        return tuple(out)

    done: dict[str, date] = {}  # every earlier stage's completion day, recorded or planned
    planned_ids: set[str] = set()  # stages whose completion is not recorded
    projected: set[str] = set()  # stages with a date counted from a planned completion

    def follow(rule: After, own: dict[str, date], sid: str, field: str) -> date:
        base = own.get(rule.after) if rule.own else done.get(rule.after)
        if base is None:  # the checks refuse this; a definition bound without them is told
            problems.append(Problem(bundle.path, None, f"{rule} kan ikke beregnes", field))
            return own["opens"]
        if not rule.own and rule.after in planned_ids:
            projected.add(sid)
        return counted(base, rule)

    for i, original in enumerate(proc.stages):
        st = original
        if isinstance(st, WorkshopStage) and st.one_per:
            st = chosen_workshops(st, proc, values)
        f = f"stages.{i}"
        opens_day = day(st.opens, f"{f}.opens")
        own = {"opens": opens_day}
        opens_at = office_slot(opens_day, hour)
        send_at: datetime | None = None
        deadline: date | None = None
        events: tuple[BoundEvent, ...] = ()
        if isinstance(st, QuestionnaireStage):
            if isinstance(st.send, After):
                send_day = next_working_day(follow(st.send, own, st.id, f"{f}.send"))
            else:
                send_day = day(st.send, f"{f}.send")
            own["send"] = send_day
            send_at = office_slot(send_day, hour)
            if isinstance(st.deadline, After):
                counted_day = follow(st.deadline, own, st.id, f"{f}.deadline")
                deadline = apply_roll(counted_day, deadline_roll(st))
            elif st.deadline:
                deadline = deadline_day(st.deadline, st, f"{f}.deadline")
            else:
                deadline = add_working_days(send_day, st.deadline_working_days or 0)
            own["deadline"] = deadline
        elif isinstance(st, ApprovalStage):
            deadline = deadline_day(st.deadline, st, f"{f}.deadline")
        closes_at: datetime | None = None
        if isinstance(st.closes, After):
            closes_at = end_of_day(follow(st.closes, own, st.id, f"{f}.closes"))
        else:
            closes_at = end_of_day(day(st.closes, f"{f}.closes")) if st.closes else None
        window = (opens_day, to_local(closes_at).date() if closes_at else None)
        if isinstance(st, QuestionnaireStage):
            if closes_at is None and deadline is not None:
                closes_at = end_of_day(
                    add_working_days(deadline, defaults.CLOSE_AFTER_WORKING_DAYS)
                )
        elif isinstance(st, WorkshopStage):
            workshops = [(f"{f}.workshops.{k}", w) for k, w in enumerate(st.workshops)]
            events = events_of(st, window, workshops)
        elif isinstance(st, MeetingStage | DecisionStage) and st.meeting is not None:
            events = events_of(st, window, [(f"{f}.meeting", st.meeting)])
        if deadline is not None and closes_at is not None and end_of_day(deadline) > closes_at:
            problems.append(
                Problem(
                    bundle.path,
                    None,
                    f"fristen falder {deadline} i {year} (efter sin regel for rulning), efter at "
                    f"fasen lukker ({to_local(closes_at).date()})",
                    f"{f}.deadline",
                )
            )
        elif isinstance(st, SubmissionStage):
            pass
        rec = actuals.get(st.id)
        last = to_local(events[-1].start).date() if events else None
        done[st.id] = planned_completion(opens_day, closes_at, deadline, last)
        if rec is not None:  # a slip moves what follows; an early record keeps the plan
            done[st.id] = max(done[st.id], to_local(rec.at).date())
        else:
            planned_ids.add(st.id)
        waits = tuple(
            ref.partition(".")[0]
            for ref in value_refs(bundle, st.id)
            if ref.partition(".")[0] not in actuals
        )
        stages.append(
            BoundStage(
                i,
                st,
                opens_at,
                closes_at,
                send_at,
                deadline,
                events,
                planned=st.id in projected,
                waits_on=waits,
            )
        )

    bound = BoundProcess(bundle, year, tuple(stages), hour, end, actuals)
    if actuals:
        return bound
    if not problems:
        problems = reminder_problems(bound, year)
    if problems:
        raise DefinitionError(problems)
    return bound


# ---------------------------------------------------------------------- the one cache

_BOUND: OrderedDict[tuple[str, int, str], BoundProcess] = OrderedDict()


def bound_definition(
    definition_hash: str,
    year: int,
    snapshot: Callable[[], str],
    actuals: Mapping[str, Any] | None = None,
    bundle: Bundle | None = None,
) -> BoundProcess:
    """The bound definition a process was started from (never the file as it is now),
    ``snapshot()`` read (or ``bundle`` used) and bound only when it is not cached. Cached by
    (content hash, year, recorded completions ``actuals`` as kept on the process row), which
    name the result exactly; at most ``CACHED_DEFINITIONS``."""
    key = (definition_hash, year, actuals_key(actuals))
    got = _BOUND.get(key)
    if got is None:
        from workflow.loader import Bundle

        if bundle is None:
            base = _BOUND.get((definition_hash, year, ""))
            bundle = base.bundle if base is not None else Bundle.from_snapshot(snapshot())
        got = _BOUND[key] = bind(bundle, year, actuals_of(actuals))
        while len(_BOUND) > defaults.CACHED_DEFINITIONS:
            _BOUND.popitem(last=False)
    else:
        _BOUND.move_to_end(key)
    return got


class _Started(Protocol):
    @property
    def definition_hash(self) -> str: ...
    @property
    def definition_snapshot(self) -> str: ...
    @property
    def year(self) -> int: ...
    @property
    def actuals(self) -> dict[str, Any] | None: ...


def bound_for(row: _Started) -> BoundProcess:
    """The live plan of a process row (``workflow.storage.models.ProcessRow``): the bound
    definition with the completions recorded on it (``actuals``) and the secretariat's changes
    (``workflow.live_plan``)."""
    from workflow.live_plan import live

    bound = bound_definition(
        row.definition_hash, row.year, lambda: row.definition_snapshot, row.actuals
    )
    return live(bound, getattr(row, "plan_changes", None))
