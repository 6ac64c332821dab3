"""The planner: a pure function of a bound definition, the current state and a moment.

``plan(bound, state, at)`` returns what is due at ``at`` (at most one action per task and
stage, the earliest) and when the next thing falls due. The service applies the actions and
asks again until nothing is due, so a tick after any downtime catches up in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from workflow.agenda import (
    ACTIVE_QUESTIONNAIRE,
    DONE_STEP,
    Agenda,
    Book,
    chain_due,
    questionnaire_due,
)
from workflow.signup_rules import signup_due
from workflow.timeline import BoundProcess, BoundStage
from workflow.views import (
    ProcessView,
    StageLike,
    StageView,
    StateLike,
    TaskKey,
    TaskLike,
    TaskView,
    document_conflict,
)

__all__ = [
    "ACTIVE_QUESTIONNAIRE",
    "COMPLETE_PROCESS",
    "COMPLETE_STAGE",
    "DONE_STEP",
    "ESCALATE",
    "INVITE",
    "MARK_OVERDUE",
    "OPEN_STAGE",
    "REMIND",
    "REQUEST_APPROVAL",
    "SEND_REPORT",
    "SKIP_REMINDER",
    "SUBMIT_AGREEMENT",
    "Action",
    "Plan",
    "ProcessView",
    "StageView",
    "TaskKey",
    "TaskView",
    "document_conflict",
    "past_deadline",
    "plan",
    "waits_for_agreement",
]

# action kinds
OPEN_STAGE = "open_stage"
COMPLETE_STAGE = "complete_stage"
INVITE = "invite"
REMIND = "remind"
SKIP_REMINDER = "skip_reminder"
MARK_OVERDUE = "mark_overdue"
ESCALATE = "escalate"
REQUEST_APPROVAL = "request_approval"
SUBMIT_AGREEMENT = "submit_agreement"
SEND_REPORT = "send_report"
COMPLETE_PROCESS = "complete_process"


@dataclass(frozen=True)
class Action:
    kind: str
    due_at: datetime
    stage: str = ""
    party: str = ""
    step: str = ""
    n: int = 0
    reason: str = ""

    @property
    def task(self) -> TaskKey:
        return (self.stage, self.party, self.step)


@dataclass(frozen=True)
class Plan:
    actions: list[Action]
    next_due: datetime | None


class _Collector:
    def __init__(self, at: datetime) -> None:
        self.at = at
        self.actions: list[Action] = []
        self.next_due: datetime | None = None

    def offer(self, action: Action) -> bool:
        """Take the action if it is due; otherwise remember when it will be."""
        if action.due_at <= self.at:
            self.actions.append(action)
            return True
        self.later(action.due_at)
        return False

    def later(self, due: datetime | None) -> None:
        """Something falls due at ``due`` (after ``at``)."""
        if due is not None and (self.next_due is None or due < self.next_due):
            self.next_due = due


def past_deadline(bound: BoundProcess, deadline: date | None, at: datetime) -> bool:
    """Whether a task with this (possibly extended) deadline is past it at ``at``: THE one
    decision of "overdue" (the tick marks it from ``bound.overdue_at`` on; an answer, the
    response page and the dashboard ask this)."""
    return deadline is not None and at > bound.overdue_at(deadline)


def plan(bound: BoundProcess, state: StateLike, at: datetime) -> Plan:
    c = _Collector(at)
    if state.status != "running":
        return Plan([], None)
    all_done = True
    for stage in bound.stages:
        sv: StageLike = state.stages.get(stage.id) or StageView(stage.id, "pending")
        if sv.status not in ("completed", "cancelled"):
            all_done = False
        if sv.status == "pending":
            _plan_pending(bound, stage, state, c)
        elif sv.status == "open":
            _plan_open(bound, stage, sv, state, c)
    if all_done:
        last = max((s.closed_at for s in state.stages.values() if s.closed_at), default=at)
        c.offer(Action(COMPLETE_PROCESS, last))
    c.actions.sort(key=lambda a: a.due_at)
    return Plan(c.actions, c.next_due)


def _plan_pending(bound: BoundProcess, stage: BoundStage, state: StateLike, c: _Collector) -> None:
    reqs = bound.requirements(stage.id)
    closed: list[datetime] = []
    for r in reqs:
        rv = state.stages.get(r)
        if rv is None or rv.status not in ("completed", "cancelled"):
            return  # waits for a human or an earlier stage; nothing is due by time alone
        if rv.closed_at:
            closed.append(rv.closed_at)
    if waits_for_agreement(stage, state):
        return  # the secretariat puts a version up for approval; that act plans again
    if stage.waits_on:
        return  # "afventer KKR's beslutning": recording the decision binds the process again
    c.offer(Action(OPEN_STAGE, max([stage.opens_at, *closed]), stage.id))


def waits_for_agreement(stage: BoundStage, state: StateLike) -> bool:
    """An approval stage cannot open until a version of the agreement is up for approval:
    a council must know what it approves."""
    return stage.kind == "approval" and not state.agreement_up


def _plan_open(
    bound: BoundProcess, stage: BoundStage, sv: StageLike, state: StateLike, c: _Collector
) -> None:
    kind = stage.kind
    agenda: Agenda | None = getattr(state, "agenda", None)
    if kind == "questionnaire" and agenda is not None:
        _plan_questionnaire_booked(bound, stage, sv, state, agenda, c)
    elif kind == "approval" and agenda is not None:
        _plan_approval_booked(bound, stage, sv, state, agenda, c)
    if kind == "questionnaire":
        if agenda is None:
            for t in state.tasks_of(stage.id):
                _plan_questionnaire_task(bound, stage, sv, t, c)
        assert stage.closes_at is not None
        c.offer(
            Action(COMPLETE_STAGE, stage.closes_at, stage.id, reason="fasen lukkede på sin dato")
        )
    elif kind == "approval" and agenda is None:
        _plan_approval(bound, stage, sv, state, c)
    elif kind == "workshops":
        for what, due, workshop in signup_due(bound, stage, getattr(sv, "outcome", None)):
            c.offer(Action(what, due, stage.id, step=workshop))
        last = max((e.end for e in stage.events), default=stage.opens_at)
        c.offer(Action(COMPLETE_STAGE, last, stage.id, reason="alle workshops er afholdt"))
    elif kind == "submission":
        opened = sv.opened_at or stage.opens_at
        if not sv.submitted and not state.document_conflict:
            c.offer(Action(SUBMIT_AGREEMENT, opened, stage.id))
        elif not sv.submitted:
            pass  # refused until every approval is of the version put up for approval
        else:
            c.offer(Action(COMPLETE_STAGE, opened, stage.id, reason="aftalen er fremsendt"))
    elif kind == "meeting":
        report_at = bound.report_at(stage)
        if report_at is not None and not sv.report_sent:
            c.offer(Action(SEND_REPORT, max(report_at, sv.opened_at or report_at), stage.id))
    # meeting and decision stages wait for the secretariat to record the outcome


def _reminder(bound: BoundProcess, stage: BoundStage, t: TaskLike, c: _Collector) -> bool:
    """Offer reminder n+1 if there is one; True if an action was taken."""
    rules = stage.rules
    if rules is None or t.deadline is None:
        return False
    moments = bound.reminder_moments(stage, t.deadline)
    n = t.reminders_done
    if n >= len(moments):
        return False
    due = moments[n]
    if due > c.at:
        c.offer(Action(REMIND, due, stage.id, t.party, t.step, n + 1))
        return False
    if n + 1 < len(moments) and moments[n + 1] <= c.at:
        return c.offer(
            Action(
                SKIP_REMINDER,
                due,
                stage.id,
                t.party,
                t.step,
                n + 1,
                "en senere påmindelse er også forfalden (indhentet efter nedetid)",
            )
        )
    if t.last_mail_at is not None and c.at - t.last_mail_at < timedelta(days=rules.min_gap_days):
        return c.offer(
            Action(
                SKIP_REMINDER,
                due,
                stage.id,
                t.party,
                t.step,
                n + 1,
                f"under {rules.min_gap_days} dage siden sidste mail",
            )
        )
    return c.offer(Action(REMIND, due, stage.id, t.party, t.step, n + 1))


def _plan_questionnaire_task(
    bound: BoundProcess, stage: BoundStage, sv: StageLike, t: TaskLike, c: _Collector
) -> None:
    if t.status == "pending":
        due = max(stage.send_at or stage.opens_at, sv.opened_at or stage.opens_at)
        c.offer(Action(INVITE, due, stage.id, t.party, t.step))
        return
    if t.status not in (*ACTIVE_QUESTIONNAIRE, "overdue") or t.deadline is None:
        return
    overdue_at = bound.overdue_at(t.deadline)
    moments = bound.reminder_moments(stage, t.deadline)
    options: list[tuple[datetime, str]] = []
    if t.reminders_done < len(moments):
        options.append((moments[t.reminders_done], REMIND))
    if t.status in ACTIVE_QUESTIONNAIRE:
        options.append((overdue_at, MARK_OVERDUE))
    elif not t.escalated:
        esc = bound.escalation_at(stage, t.deadline)
        if esc is not None:
            options.append((esc, ESCALATE))
    if not options:
        return
    due, kind = min(options)
    if kind == REMIND:
        _reminder(bound, stage, t, c)
    else:
        c.offer(Action(kind, due, stage.id, t.party, t.step))


def _plan_chain(
    bound: BoundProcess, stage: BoundStage, sv: StageLike, steps: list[TaskLike], c: _Collector
) -> datetime | None:
    """One party's approval chain (steps in order); when it was fully decided, if it was."""
    previous_decided = sv.opened_at or stage.opens_at
    for t in steps:
        if t.status in DONE_STEP:
            previous_decided = t.decided_at or previous_decided
            continue
        if t.status == "pending":
            c.offer(Action(REQUEST_APPROVAL, previous_decided, stage.id, t.party, t.step))
        elif t.status in ("requested", "postponed"):
            _reminder(bound, stage, t, c)
        return None
    return previous_decided


def _plan_approval(
    bound: BoundProcess, stage: BoundStage, sv: StageLike, state: StateLike, c: _Collector
) -> None:
    by_party: dict[str, list[TaskLike]] = {}
    for t in state.tasks_of(stage.id):
        by_party.setdefault(t.party, []).append(t)
    decided: list[datetime] = []
    complete = True
    for steps in by_party.values():
        steps.sort(key=lambda s: s.seq)
        done = _plan_chain(bound, stage, sv, steps, c)
        if done is None:
            complete = False
        else:
            decided.append(done)
    if complete and by_party:
        c.offer(Action(COMPLETE_STAGE, max(decided), stage.id, reason="alle parter har godkendt"))


# ---------------------------------------------------------------------- with an agenda


def _plan_questionnaire_booked(
    bound: BoundProcess,
    stage: BoundStage,
    sv: StageLike,
    state: Any,
    agenda: Agenda,
    c: _Collector,
) -> None:
    """Only the tasks due now are planned; the others' next time is in the book."""

    def update(book: Book, t: TaskLike) -> None:
        book.set((t.stage, t.party, t.step), questionnaire_due(bound, stage, sv, t))

    book = agenda.book(stage.id, lambda: state.tasks_of(stage.id), update)
    keys, later = book.due_until(c.at)
    for key in keys:
        _plan_questionnaire_task(bound, stage, sv, state.tasks[key], c)
    c.later(later)


def _plan_approval_booked(
    bound: BoundProcess,
    stage: BoundStage,
    sv: StageLike,
    state: Any,
    agenda: Agenda,
    c: _Collector,
) -> None:
    """Only the chains due now are planned; the stage completes when the book has no chain
    left undecided."""

    def update(book: Book, t: TaskLike) -> None:
        steps = state.chain(stage.id, t.party)
        due, done = chain_due(bound, stage, sv, steps)
        book.set(t.party, due, done)

    book = agenda.book(stage.id, lambda: state.tasks_of(stage.id), update)
    parties, later = book.due_until(c.at)
    for party in parties:
        _plan_chain(bound, stage, sv, state.chain(stage.id, party), c)
    c.later(later)
    if book.done and not book.undone:
        last = max(d for d in book.done.values() if d is not None)
        c.offer(Action(COMPLETE_STAGE, last, stage.id, reason="alle parter har godkendt"))
