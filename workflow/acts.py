"""The secretariat's acts on a process: outcomes, approvals, extensions, exemptions,
cancelling. Each is a function of the ``ProcessTx`` it changes; ``workflow.service`` opens
the transaction, calls one, lets the tick catch up (``workflow.tick.advance``) and commits."""

from __future__ import annotations

from datetime import date, datetime

from workflow import machines
from workflow.changes import complete_stage, notify_secretariat
from workflow.errors import GuardRefused
from workflow.tx import ProcessTx

OUTCOMES = ("held", "approved", "rejected", "postponed")
DECISIONS = {"approved": "approve", "rejected": "reject", "postponed": "postpone"}


def record_outcome(
    tx: ProcessTx,
    stage_id: str,
    *,
    outcome: str,
    text: str,
    minutes: str,
    at: datetime,
    actor: str,
    reason: str,
) -> None:
    """The outcome of a meeting or a decision stage; a rejected decision blocks the process."""
    if outcome not in OUTCOMES:
        raise GuardRefused("outcome must be one of held, approved, rejected, postponed")
    stage = tx.stage(stage_id)
    if stage.kind not in ("meeting", "decision"):
        raise GuardRefused(
            f"stage {stage_id!r} is a {stage.kind} stage; only meeting and "
            "decision stages take an outcome"
        )
    if stage.status != "open":
        raise GuardRefused(
            f"stage {stage_id!r} is {stage.status}; an outcome can only be recorded while it is open"
        )
    stage.outcome = {
        "outcome": outcome,
        "text": text,
        "minutes": minutes,
        "recorded_by": actor,
        "recorded_at": at.isoformat(),
    }
    data = {"outcome": outcome, "text": text, "minutes": minutes}
    tx.event(at, actor, "outcome_recorded", stage=stage_id, reason=reason, data=data)
    if outcome == "rejected":
        stage.status = machines.fire("stage", stage.status, "block")
        tx.process.status = machines.fire("process", tx.process.status, "block")
        why = f"{stage_id} was rejected: {text}"
        tx.event(at, actor, "process_blocked", stage=stage_id, reason=why)
    elif outcome in ("held", "approved"):
        complete_stage(tx, stage, at, actor, f"outcome recorded: {outcome}")


def record_approval(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    step: str,
    *,
    decision: str,
    at: datetime,
    actor: str,
    meeting_date: date | None,
    agenda_item: str,
    decision_text: str,
    minutes: str,
    document_hash: str,
    reason: str,
) -> None:
    """One body's decision in a party's approval chain."""
    if decision not in DECISIONS:
        raise GuardRefused("decision must be one of approved, rejected, postponed")
    stage = tx.stage(stage_id)
    if stage.kind != "approval":
        raise GuardRefused(f"stage {stage_id!r} is not an approval stage")
    if stage.status not in ("open", "blocked"):
        raise GuardRefused(
            f"stage {stage_id!r} is {stage.status}; approvals are recorded while it is open"
        )
    task = tx.task(stage_id, party, step)
    _require_earlier_steps(tx, stage_id, party, step, task.seq)
    if task.status == "pending":
        task.status = machines.fire("approval_step", task.status, "request")
    task.status = machines.fire("approval_step", task.status, DECISIONS[decision])
    task.decided_at = at
    task.decision = {
        "decision": decision,
        "meeting_date": meeting_date.isoformat() if meeting_date else "",
        "agenda_item": agenda_item,
        "decision_text": decision_text,
        "minutes": minutes,
        "document_hash": document_hash or (tx.process.approval_document_hash or ""),
        "recorded_by": actor,
    }
    tx.event(
        at,
        actor,
        f"approval_{decision}",
        stage=stage_id,
        party=party,
        step=step,
        reason=reason,
        data=dict(task.decision),
    )
    if decision == "rejected":
        _block(tx, stage_id, party, step, at, actor, decision_text)
    elif decision == "approved" and stage.status == "blocked":
        _unblock_if_clear(tx, stage_id, at, actor)


def _require_earlier_steps(tx: ProcessTx, stage_id: str, party: str, step: str, seq: int) -> None:
    waiting = [
        t.step
        for t in tx.party_tasks(stage_id, party)
        if t.seq < seq and t.status not in ("approved", "exempt")
    ]
    if waiting:
        raise GuardRefused(
            f"{party}: {step} decides after {', '.join(waiting)}, which has not approved yet"
        )


def _block(
    tx: ProcessTx, stage_id: str, party: str, step: str, at: datetime, actor: str, text: str
) -> None:
    """A rejection blocks the stage and the process and tells the secretariat."""
    stage = tx.stages[stage_id]
    if stage.status == "open":
        stage.status = machines.fire("stage", stage.status, "block")
    if tx.process.status == "running":
        tx.process.status = machines.fire("process", tx.process.status, "block")
    tx.event(
        at,
        actor,
        "process_blocked",
        stage=stage_id,
        party=party,
        step=step,
        reason=f"{party} {step} rejected the agreement: {text}",
    )
    notify_secretariat(tx, "rejection", tx.task(stage_id, party, step), at, {"decision_text": text})


def _unblock_if_clear(tx: ProcessTx, stage_id: str, at: datetime, actor: str) -> None:
    if any(t.status == "rejected" for t in tx.state.tasks_of(stage_id)):
        return
    stage = tx.stages[stage_id]
    stage.status = machines.fire("stage", stage.status, "unblock")
    tx.process.status = machines.fire("process", tx.process.status, "unblock")
    tx.event(
        at,
        actor,
        "process_unblocked",
        stage=stage_id,
        reason="no party's approval is rejected any more",
    )


def extend(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    deadline: date,
    *,
    at: datetime,
    actor: str,
    reason: str,
) -> None:
    """A new deadline for one party: its pending reminders move with it."""
    stage = tx.stage(stage_id)
    bst = tx.bound.stage(stage_id)
    if bst.deadline is None:
        raise GuardRefused(f"stage {stage_id!r} has no deadline to extend")
    tasks = tx.party_tasks(stage_id, party)
    if stage.status not in ("open", "blocked"):
        raise GuardRefused(
            f"stage {stage_id!r} is {stage.status}; only an open stage's deadline can be extended"
        )
    old = tasks[0].deadline or bst.deadline
    for t in tasks:
        t.deadline_override = deadline
        if t.status == "overdue" and tx.bound.overdue_at(deadline) > at:
            t.status = machines.fire("questionnaire_task", t.status, "extend")
            t.escalated = False
    data = {"from": old.isoformat(), "to": deadline.isoformat()}
    tx.event(at, actor, "deadline_extended", stage=stage_id, party=party, reason=reason, data=data)


def exempt(
    tx: ProcessTx, stage_id: str, party: str, *, at: datetime, actor: str, reason: str
) -> None:
    """A party need not answer or approve in this stage."""
    tx.stage(stage_id)
    for t in tx.party_tasks(stage_id, party):
        if machines.can(t.machine, t.status, "exempt"):
            t.status = machines.fire(t.machine, t.status, "exempt")
    tx.event(at, actor, "party_exempted", stage=stage_id, party=party, reason=reason)


def cancel(tx: ProcessTx, *, at: datetime, actor: str, reason: str) -> None:
    """The process stops for good; every queued mail of it is cancelled."""
    p = tx.process
    p.status = machines.fire("process", p.status, "cancel")
    p.next_due_at = None
    p.updated_at = at
    cancelled = tx.cancel_mails()
    tx.event(
        at,
        actor,
        "process_cancelled",
        reason=reason,
        count_of=cancelled,
        count_as="mails_cancelled",
    )
