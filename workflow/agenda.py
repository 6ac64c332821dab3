"""The planner's memory of one process between plans: when each questionnaire task, and each
party's approval chain, falls due next.

A plan over a state that carries an ``Agenda`` (the engine's, ``workflow.tx``) looks only at
what changed since the last plan (the records report their changes) and at what is due, not
at every task: one party's answer costs the same with 12 parties as with 600. The times kept
here do not depend on the moment of the plan; what is due at that moment is still decided
by the planner's own per-task functions (``workflow.planner``). Pure: no I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from workflow.timeline import BoundProcess, BoundStage

ACTIVE_QUESTIONNAIRE = ("invited", "opened", "draft")
DONE_STEP = ("approved", "exempt")


def questionnaire_due(bound: BoundProcess, stage: BoundStage, sv: Any, t: Any) -> datetime | None:
    """When the planner's next action for a questionnaire task falls due (None: never)."""
    if t.status == "pending":
        return max(stage.send_at or stage.opens_at, sv.opened_at or stage.opens_at)
    if t.status not in (*ACTIVE_QUESTIONNAIRE, "overdue") or t.deadline is None:
        return None
    options: list[datetime] = []
    moments = bound.reminder_moments(stage, t.deadline)
    if t.reminders_done < len(moments):
        options.append(moments[t.reminders_done])
    if t.status in ACTIVE_QUESTIONNAIRE:
        options.append(bound.overdue_at(t.deadline))
    elif not t.escalated:
        esc = bound.escalation_at(stage, t.deadline)
        if esc is not None:
            options.append(esc)
    return min(options) if options else None


def chain_due(
    bound: BoundProcess, stage: BoundStage, sv: Any, steps: Iterable[Any]
) -> tuple[datetime | None, datetime | None]:
    """(when the chain's next action falls due, when it was fully decided) of one party's
    approval chain, its steps in order; (None, None) while it waits for a human."""
    previous = sv.opened_at or stage.opens_at
    for t in steps:
        if t.status in DONE_STEP:
            previous = t.decided_at or previous
            continue
        if t.status == "pending":
            return previous, None
        if t.status in ("requested", "postponed") and stage.rules and t.deadline is not None:
            moments = bound.reminder_moments(stage, t.deadline)
            if t.reminders_done < len(moments):
                return moments[t.reminders_done], None
        return None, None
    return None, previous


class Book:
    """One open stage: the next due time of each unit (a task, or a party's chain)."""

    def __init__(self) -> None:
        self.due: dict[Any, datetime | None] = {}
        self.done: dict[Any, datetime | None] = {}
        self.undone = 0
        self._heap: list[tuple[datetime, int, Any]] = []
        self._n = 0

    def set(self, unit: Any, due: datetime | None, done: datetime | None = None) -> None:
        if unit in self.done:
            self.undone -= self.done[unit] is None
        self.done[unit] = done
        self.undone += done is None
        if unit in self.due and self.due[unit] == due:
            return
        self.due[unit] = due
        if due is not None:
            self._n += 1
            heapq.heappush(self._heap, (due, self._n, unit))

    def due_until(self, at: datetime) -> tuple[list[Any], datetime | None]:
        """The units due at ``at`` (in due order), and the earliest due time after it."""
        heap, due = self._heap, self.due
        taken: list[tuple[datetime, int, Any]] = []
        seen: set[Any] = set()
        while heap and heap[0][0] <= at:
            entry = heapq.heappop(heap)
            if due.get(entry[2]) == entry[0] and entry[2] not in seen:
                seen.add(entry[2])
                taken.append(entry)
        while heap and due.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)  # a unit whose time changed since
        later = heap[0][0] if heap else None
        for entry in taken:  # still due until the action is applied and the unit changes
            heapq.heappush(heap, entry)
        return [e[2] for e in taken], later


class Agenda:
    """The books of a process's open stages, kept current from the records that changed."""

    def __init__(self) -> None:
        self.books: dict[str, Book] = {}
        self.changed: dict[str, set[Any]] = {}

    def absorb(self, dirty: set[Any]) -> None:
        """Take in the records changed since the last plan: a stage that changed is booked
        afresh; a task that changed is looked at again."""
        for r in dirty:
            stage_id = r.stage_id
            if hasattr(r, "party"):
                if stage_id in self.books:
                    self.changed.setdefault(stage_id, set()).add(r)
            else:
                self.books.pop(stage_id, None)
                self.changed.pop(stage_id, None)
        dirty.clear()

    def book(
        self, stage_id: str, units: Callable[[], Iterable[Any]], update: Callable[[Book, Any], None]
    ) -> Book:
        """The stage's book: made from every unit the first time, then updated for the
        tasks that changed."""
        got = self.books.get(stage_id)
        if got is None:
            got = self.books[stage_id] = Book()
            for u in units():
                update(got, u)
            self.changed.pop(stage_id, None)
        else:
            for t in self.changed.pop(stage_id, ()):
                update(got, t)
        return got
