"""The live plan: the bound definition with the secretariat's changes since the start.

A meeting or a workshop moved, postponed or cancelled, and a stage's deadline moved for every
party, are kept on the process row (``processes.plan_changes``, one record per meeting and per
stage: the newest change; the audit log holds every one). ``live(bound, changes)`` is the
timeline as it now stands: a moved meeting is at its new time and place with a higher calendar
SEQUENCE, a cancelled one is out of ``events`` (in ``cancelled``), a moved stage deadline is the
stage's deadline. Everything timed from a meeting or a deadline (invitations, the forum report,
sign-up reminders, reminders and escalations, the calendar feed) reads this, so it follows.
Pure: no I/O.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from workflow import defaults
from workflow.timeline import BoundEvent, BoundProcess, BoundStage

#: What became of a meeting: moved (earlier, or elsewhere on the same day), postponed (later),
#: cancelled.
MOVED, POSTPONED, CANCELLED = "moved", "postponed", "cancelled"

#: (the bound definition's id, the changes) → (that bound definition, the live plan).
_LIVE: OrderedDict[tuple[int, str], tuple[BoundProcess, BoundProcess]] = OrderedDict()


def event_key(stage_id: str, event_id: str) -> str:
    """Where a meeting's change is kept in ``plan_changes['events']``."""
    return f"{stage_id}/{event_id}"


def live(bound: BoundProcess, changes: Mapping[str, Any] | None) -> BoundProcess:
    """``bound`` with ``changes`` applied (``bound`` itself without any); kept per content."""
    if not changes or not (changes.get("events") or changes.get("deadlines")):
        return bound
    key = (id(bound), json.dumps(changes, sort_keys=True))
    got = _LIVE.get(key)
    if got is None or got[0] is not bound:
        got = _LIVE[key] = (bound, _apply(bound, changes))
        while len(_LIVE) > defaults.CACHED_DEFINITIONS:
            _LIVE.popitem(last=False)
    else:
        _LIVE.move_to_end(key)
    return got[1]


def _apply(bound: BoundProcess, changes: Mapping[str, Any]) -> BoundProcess:
    events: Mapping[str, Any] = changes.get("events") or {}
    deadlines: Mapping[str, Any] = changes.get("deadlines") or {}
    stages = [_stage(bst, events, deadlines.get(bst.id)) for bst in bound.stages]
    return BoundProcess(
        bound.bundle, bound.year, tuple(stages), bound.office_hour, bound.office_end
    )


def _stage(
    bst: BoundStage, events: Mapping[str, Any], deadline: Mapping[str, Any] | None
) -> BoundStage:
    held: list[BoundEvent] = []
    cancelled = list(bst.cancelled)
    for ev in bst.events:
        change = events.get(event_key(bst.id, ev.id))
        if change is None:
            held.append(ev)
            continue
        moved = replace(
            ev,
            start=datetime.fromisoformat(change["start"]),
            end=datetime.fromisoformat(change["end"]),
            location=str(change.get("location", ev.location)),
            sequence=int(change["sequence"]),
            status=str(change["status"]),
        )
        (cancelled if moved.status == CANCELLED else held).append(moved)
    day = date.fromisoformat(deadline["deadline"]) if deadline else bst.deadline
    if len(held) == len(bst.events) and held == list(bst.events) and day == bst.deadline:
        return bst
    return replace(bst, events=tuple(held), cancelled=tuple(cancelled), deadline=day)


def with_event(
    changes: Mapping[str, Any] | None, stage_id: str, event_id: str, record: dict[str, Any]
) -> dict[str, Any]:
    """A copy of ``changes`` with the meeting's newest change ``record``."""
    out = _copy(changes)
    out["events"][event_key(stage_id, event_id)] = record
    return out


def with_deadline(
    changes: Mapping[str, Any] | None, stage_id: str, record: dict[str, Any]
) -> dict[str, Any]:
    """A copy of ``changes`` with the stage's moved deadline ``record``."""
    out = _copy(changes)
    out["deadlines"][stage_id] = record
    return out


def deadline_moves(changes: Mapping[str, Any] | None, stage_id: str) -> int:
    """How many times the stage's deadline was moved for everyone (its mails' sequence)."""
    got = ((changes or {}).get("deadlines") or {}).get(stage_id)
    return int(got["sequence"]) if got else 0


def _copy(changes: Mapping[str, Any] | None) -> dict[str, Any]:
    c = changes or {}
    return {
        **c,
        "events": dict(c.get("events") or {}),
        "deadlines": dict(c.get("deadlines") or {}),
    }
