"""What a definition date does when it falls on a weekend or a Danish holiday. Pure.

A date in a definition is written relative to the preparation year (``Y-11-30``), so the same
line lands on a Wednesday in 2022 and on a Saturday in 2024. Two rules make it safe:

* ``weekday`` (meetings and workshops): the event is on the first such weekday on or after the
  written date. Fora meet on a fixed weekday ("DAS Social: the first Thursday of March"), so
  ``date: Y-03-01, weekday: thursday`` says what the secretariat means in every year.
* ``roll`` (per date, or per stage for all its dates): ``next_working_day``,
  ``previous_working_day`` or ``keep``. Deadlines roll to the next working day unless they say
  otherwise; meetings and workshops keep their day by default (somebody booked a room), and
  ``aftaleflow check --year`` warns when that day is not a working day.

``resolve_deadline`` and ``resolve_event_day`` are the one place these rules are applied:
``workflow.timeline.bind`` calls them, and so does ``date_hits`` (the report of ``check``), so
the report and the bound process never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from workflow.calendar import holiday_name, is_working_day, next_working_day
from workflow.definition import (
    WEEKDAYS,
    ApprovalStage,
    DecisionStage,
    Event,
    MeetingStage,
    QuestionnaireStage,
    Roll,
    StageBase,
    WorkshopStage,
)
from workflow.definition_base import DateExpr
from workflow.definition_follows import After

if TYPE_CHECKING:
    from workflow.definition import ProcessDefinition

#: Deadlines on a non-working day move to the next working day: nobody loses a day.
DEADLINE_ROLL: Roll = "next_working_day"
#: Meetings and workshops stay where they are written (a room is booked); ``check`` warns.
EVENT_ROLL: Roll = "keep"

DA_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def previous_working_day(d: date) -> date:
    """``d`` itself if it is a working day, else the working day before it."""
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d


def apply_roll(d: date, roll: Roll) -> date:
    if roll == "next_working_day":
        return next_working_day(d)
    if roll == "previous_working_day":
        return previous_working_day(d)
    return d


def on_or_after_weekday(d: date, weekday: str) -> date:
    """The first ``weekday`` (``"monday"`` … ``"friday"``) on or after ``d``."""
    target = WEEKDAYS.index(weekday)
    return d + timedelta(days=(target - d.weekday()) % 7)


def why_not_working(d: date) -> str | None:
    """``"2. pinsedag"``-style holiday name, ``"lørdag"``/``"søndag"``, or None on a working day."""
    if is_working_day(d):
        return None
    return holiday_name(d) or DA_WEEKDAYS[d.weekday()]


def event_roll(ev: Event, stage: StageBase) -> Roll:
    return ev.roll or stage.roll or EVENT_ROLL


def deadline_roll(stage: StageBase) -> Roll:
    return stage.roll or DEADLINE_ROLL


def written_event_day(ev: Event, year: int) -> date:
    """The event's day before its roll: the written date, moved to its weekday if it has one."""
    day = DateExpr.parse(ev.date).bind(year)
    return on_or_after_weekday(day, ev.weekday) if ev.weekday else day


def resolve_event_day(ev: Event, stage: StageBase, year: int) -> date:
    return apply_roll(written_event_day(ev, year), event_roll(ev, stage))


def resolve_deadline(text: str, stage: StageBase, year: int) -> date:
    return apply_roll(DateExpr.parse(text).bind(year), deadline_roll(stage))


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class DateHit:
    """One date of a bound definition that falls on a weekend or a holiday, and what happens.

    ``what`` is ``deadline``, ``meeting``, ``workshop``, ``send``, ``opens`` or ``closes``;
    ``outcome`` the day it has after its rule (``rule``); ``warning`` is set when people would
    still be expected to act or meet on a non-working day.
    """

    stage: str
    field: str
    what: str
    title: str
    written: date
    reason: str
    rule: str
    outcome: date
    warning: bool = False


def _events(stage: StageBase) -> list[tuple[str, str, Event]]:
    if isinstance(stage, WorkshopStage):
        return [(f"workshops.{k}", "workshop", w) for k, w in enumerate(stage.workshops)]
    if isinstance(stage, MeetingStage | DecisionStage) and stage.meeting is not None:
        return [("meeting", "meeting", stage.meeting)]
    return []


@dataclass(frozen=True)
class WeekdayPlacement:
    """A meeting or workshop placed by its ``weekday`` rule: ``anchor`` is the written date."""

    stage: str
    field: str
    title: str
    anchor: date
    weekday: str
    day: date


def weekday_placements(process: ProcessDefinition, year: int) -> list[WeekdayPlacement]:
    """Every event with a ``weekday`` rule and the day it lands on in ``year`` (before rolls)."""
    out = []
    for i, st in enumerate(process.stages):
        for sub, _what, ev in _events(st):
            if ev.weekday:
                anchor = DateExpr.parse(ev.date).bind(year)
                day = written_event_day(ev, year)
                out.append(
                    WeekdayPlacement(
                        st.id, f"stages.{i}.{sub}.date", ev.title, anchor, ev.weekday, day
                    )
                )
    return sorted(out, key=lambda w: w.day)


def _day(
    sid: str,
    field: str,
    v: object,
    own: dict[str, date],
    done: dict[str, date],
    out: dict[tuple[str, str], date],
    year: int,
) -> date | None:
    """A written date bound to ``year``, or a followed one counted (and noted in ``out``)."""
    from workflow.follows import counted

    if isinstance(v, After):
        base = own.get(v.after) if v.own else done.get(v.after)
        if base is None:
            return None
        out[(sid, field)] = counted(base, v)
        return out[(sid, field)]
    return DateExpr.parse(v).bind(year) if isinstance(v, str) else None


def followed_days(process: ProcessDefinition, year: int) -> dict[tuple[str, str], date]:
    """The planned day of every date that follows another (``{after: ...}``), before its
    roll, keyed by (stage, field): counted from the planned completions as ``bind`` does."""
    from workflow.follows import chosen_workshops, decided, planned_completion

    values = decided(process, {})
    done: dict[str, date] = {}
    out: dict[tuple[str, str], date] = {}
    for st in process.stages:
        own: dict[str, date] = {"opens": DateExpr.parse(st.opens).bind(year)}

        deadline: date | None = None
        if isinstance(st, QuestionnaireStage):
            send = _day(st.id, "send", st.send, own, done, out, year)
            own["send"] = next_working_day(send) if send else own["opens"]
            written = _day(st.id, "deadline", st.deadline, own, done, out, year)
            if written is not None:
                deadline = apply_roll(written, deadline_roll(st))
            own["deadline"] = deadline or own["send"]
        elif isinstance(st, ApprovalStage):
            deadline = resolve_deadline(st.deadline, st, year)
        closes = _day(st.id, "closes", st.closes, own, done, out, year)
        shown = chosen_workshops(st, process, values) if isinstance(st, WorkshopStage) else st
        last = max((resolve_event_day(ev, st, year) for _, _, ev in _events(shown)), default=None)
        done[st.id] = planned_completion(own["opens"], None, deadline, last)
        if closes is not None and last is None and deadline is None:
            done[st.id] = closes
    return out


def date_hits(process: ProcessDefinition, year: int) -> list[DateHit]:
    """Every date of ``process`` bound to ``year`` that is not a working day, in date order.

    Window edges are listed too: a stage that opens on a holiday sends its mails at the next
    working day's office hour (``office_slot``); a stage that closes on one closes at the end
    of that day, when nothing is sent.
    """
    hits: list[DateHit] = []
    follows = followed_days(process, year)

    def add(
        stage: StageBase, field: str, what: str, title: str, d: date, rule: str, out: date
    ) -> None:
        reason = why_not_working(d)
        if reason is None:
            return
        warn = what in ("meeting", "workshop", "deadline") and not is_working_day(out)
        hits.append(DateHit(stage.id, field, what, title, d, reason, rule, out, warn))

    for i, st in enumerate(process.stages):
        f = f"stages.{i}"
        opens = DateExpr.parse(st.opens).bind(year)
        add(st, f"{f}.opens", "opens", st.name, opens, "office_slot", next_working_day(opens))
        # a date that follows another ({after: ...}): its planned day, counted as bind does
        if isinstance(st, QuestionnaireStage):
            send = follows.get((st.id, "send")) or DateExpr.parse(str(st.send)).bind(year)
            add(st, f"{f}.send", "send", st.name, send, "office_slot", next_working_day(send))
        if isinstance(st, QuestionnaireStage | ApprovalStage) and st.deadline:
            written = follows.get((st.id, "deadline")) or DateExpr.parse(str(st.deadline)).bind(
                year
            )
            rule = deadline_roll(st)
            add(st, f"{f}.deadline", "deadline", st.name, written, rule, apply_roll(written, rule))
        for sub, what, ev in _events(st):
            written = written_event_day(ev, year)
            rule = event_roll(ev, st)
            out = apply_roll(written, rule)
            add(st, f"{f}.{sub}.date", what, ev.title, written, rule, out)
        if st.closes:
            closes = follows.get((st.id, "closes")) or DateExpr.parse(str(st.closes)).bind(year)
            add(st, f"{f}.closes", "closes", st.name, closes, "keep", closes)
    return sorted(hits, key=lambda h: (h.written, h.field))
