"""The tick of one process: plan → apply, until nothing more is due.

``advance(tx, at, actor)`` asks the planner (``workflow.planner``, where every reminder,
overdue mark and escalation is decided) what is due at ``at`` and applies it with ONE function
per action kind (``APPLY``): the state change, an audit event, and the mail as a ``Mail``
(queued in the outbox at commit, rendered and sent by ``notifications``). Every command ends
with ``advance`` too, so what a human act makes due happens in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflow import defaults, machines, workshop_tick
from workflow.calendar import to_local, working_days_between
from workflow.changes import (
    ask,
    complete_stage,
    document_info,
    first_mail_kind,
    next_seq,
    open_stage,
    plan_step,
    recipient_role,
)
from workflow.definition import SubmissionStage
from workflow.errors import AftaleflowError
from workflow.forum_report import send_report
from workflow.mail import Mail, iso_day
from workflow.planner import (
    COMPLETE_PROCESS,
    COMPLETE_STAGE,
    ESCALATE,
    INVITE,
    MARK_OVERDUE,
    OPEN_STAGE,
    REMIND,
    REQUEST_APPROVAL,
    SEND_REPORT,
    SKIP_REMINDER,
    SUBMIT_AGREEMENT,
    Action,
    plan,
)
from workflow.tx import ProcessTx


@dataclass(frozen=True)
class Applied:
    process_key: str
    action: Action
    at: datetime

    @property
    def late_by(self) -> timedelta:
        return self.at - self.action.due_at


@dataclass
class TickReport:
    at: datetime
    applied: list[Applied] = field(default_factory=list)
    processes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def late(self) -> list[Applied]:
        return [a for a in self.applied if a.late_by > defaults.LATE_LOG_THRESHOLD]


def advance(tx: ProcessTx, at: datetime, actor: str) -> list[Applied]:
    """Plan and apply until nothing more is due at ``at``; then store the next due time."""
    applied: list[Applied] = []
    p = tx.process
    for _ in range(defaults.MAX_ROUNDS_PER_TICK):
        planned = plan(tx.bound, tx.state, at)
        if not planned.actions:
            p.next_due_at = planned.next_due
            p.updated_at = at
            return applied
        first = planned.actions[0].due_at  # sorted by due time
        for action in planned.actions:
            if action.due_at > first:
                break  # re-plan: what fell due first may change what is due next
            late = {
                "due_at": action.due_at.isoformat(),
                "late_by_s": int((at - action.due_at).total_seconds()),
            }
            APPLY[action.kind](tx, action, at, actor, late)
            applied.append(Applied(p.key, action, at))
    raise AftaleflowError(
        f"processen {p.key}: planlæggeren faldt ikke til ro; meld venligst fejlen"
    )


# ---------------------------------------------------------------------- one function per kind

Late = dict[str, Any]


def _open_stage(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    open_stage(tx, a.stage, at, actor, data=late)


def _complete_stage(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    complete_stage(tx, tx.stages[a.stage], at, actor, a.reason, late)


def _complete_process(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    tx.process.status = machines.fire("process", tx.process.status, "complete")
    tx.event(at, actor, "process_completed", data=late)


def _submit(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    tx.stages[a.stage].submitted_at = at
    sub = tx.bound.stage(a.stage).definition
    assert isinstance(sub, SubmissionStage)
    parties = tx.bound.bundle.parties
    approvals = [
        {
            "party": t.party,
            "party_name": parties.get(t.party).name,
            "step": t.step,
            "status": t.status,
            **(t.decision or {}),
        }
        for t in sorted(tx.tasks.values(), key=lambda t: (t.stage_id, t.party, t.seq))
        if t.kind == "approval"
    ]
    details = {
        "approvals": approvals,
        "recipient": sub.recipient.name,
        "document": document_info(tx),
    }
    tx.mail(
        Mail(kind="submission", stage=a.stage, recipients=(sub.recipient,), details=details), at
    )
    data = {**late, "recipient": sub.recipient.email, "approvals": len(approvals)}
    tx.event(at, actor, "agreement_submitted", stage=a.stage, data=data)


def _send_report(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    """The compiled report to a meeting's invitees, N working days before it."""
    send_report(tx, a.stage, at, actor, manual=False, data=late)


def _ask(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    """An invitation to a questionnaire, or a request for one body's approval."""
    t = tx.tasks[a.task]
    trigger, kind = ("invite", "invited") if a.kind == INVITE else ("request", "approval_requested")
    t.status = machines.fire(t.machine, t.status, trigger)
    t.invited_at = t.last_mail_at = at
    planned = plan_step(tx, t, at) if a.kind == REQUEST_APPROVAL else {}
    ask(tx, t, at, planned=planned)
    step = t.step if a.kind == REQUEST_APPROVAL else ""
    data = {**late, **planned}
    tx.event(at, actor, kind, stage=t.stage_id, party=t.party, step=step, data=data)


def _remind(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    t = tx.tasks[a.task]
    t.status = machines.fire(t.machine, t.status, "remind")
    t.reminders_done = a.n
    t.last_mail_at = at
    deadline = t.deadline
    today = to_local(at).date()
    definition = tx.bound.stage(t.stage_id).definition
    role = recipient_role(definition, t.step)
    details = {
        "deadline": iso_day(deadline),
        "n": a.n,
        "working_days_left": working_days_between(today, deadline) if deadline else 0,
        "working_days_late": working_days_between(deadline, today) if deadline else 0,
        "body": t.step,
        "link": {"generation": t.link_generation},
        "reminds": first_mail_kind(t),
        **({"document": document_info(tx)} if t.kind == "approval" else {}),
    }
    mail = Mail(
        kind="reminder",
        stage=t.stage_id,
        party=t.party,
        step=t.step,
        seq=next_seq(tx, "reminder", t, a.n),
        recipients=tuple(tx.addresses(t.party, role)),
        details=details,
        thread_under=first_mail_kind(t),
    )
    tx.mail(mail, at)
    data = {**late, "n": a.n}
    tx.event(at, actor, "reminded", stage=t.stage_id, party=t.party, step=t.step, data=data)


def _skip_reminder(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    t = tx.tasks[a.task]
    t.reminders_done = a.n
    tx.event(
        at,
        actor,
        "reminder_skipped",
        stage=t.stage_id,
        party=t.party,
        step=t.step,
        reason=a.reason,
        data={**late, "n": a.n},
    )


def _mark_overdue(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    t = tx.tasks[a.task]
    t.status = machines.fire(t.machine, t.status, "mark_overdue")
    tx.event(at, actor, "overdue", stage=t.stage_id, party=t.party, data=late)


def _escalate(tx: ProcessTx, a: Action, at: datetime, actor: str, late: Late) -> None:
    t = tx.tasks[a.task]
    t.status = machines.fire(t.machine, t.status, "escalate")
    t.escalated = True
    deadline = t.deadline
    details = {
        "deadline": iso_day(deadline),
        "working_days_late": (
            working_days_between(deadline, to_local(at).date()) if deadline else 0
        ),
        "committee": [c.model_dump() for c in tx.addresses(t.party, "committee_secretary")],
    }
    mail = Mail(
        kind="escalation",
        stage=t.stage_id,
        party=t.party,
        step=t.step,
        seq=next_seq(tx, "escalation", t, 0),  # again after an extension
        recipients=tuple(tx.addresses(t.party, "director")),
        details=details,
    )
    tx.mail(mail, at)
    tx.event(at, actor, "escalated", stage=t.stage_id, party=t.party, data=late)


#: The one function that applies each kind of action the planner returns.
APPLY: dict[str, Callable[[ProcessTx, Action, datetime, str, Late], None]] = {
    OPEN_STAGE: _open_stage,
    COMPLETE_STAGE: _complete_stage,
    COMPLETE_PROCESS: _complete_process,
    SUBMIT_AGREEMENT: _submit,
    INVITE: _ask,
    REQUEST_APPROVAL: _ask,
    REMIND: _remind,
    SKIP_REMINDER: _skip_reminder,
    MARK_OVERDUE: _mark_overdue,
    ESCALATE: _escalate,
    SEND_REPORT: _send_report,
    **workshop_tick.APPLY,
}
