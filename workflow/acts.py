"""The secretariat's acts on a process: outcomes, approvals, extensions, exemptions,
cancelling. Each is a function of the ``ProcessTx`` it changes; ``workflow.service`` opens
the transaction, calls one, lets the tick catch up (``workflow.tick.advance``) and commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from workflow import machines
from workflow.agreement_path import recommend
from workflow.calendar import to_local
from workflow.changes import (
    complete_stage,
    document_info,
    notify_secretariat,
    plan_step,
    refuse_before_opened,
    stage_name,
    state_da,
    state_en,
)
from workflow.dates import format_day
from workflow.decided import decided_values
from workflow.errors import GuardRefused
from workflow.labels import label
from workflow.storage.models import AnswerRow, OutboxRow
from workflow.storage.records import TaskRecord
from workflow.timeline import BoundStage
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
    document_version: int | None = None,
    values: Mapping[str, list[str]] | None = None,
) -> None:
    """The outcome of a meeting or a decision stage; a rejected decision blocks the process.
    A decision that recommends the agreement records which version (``document_version``,
    by default the newest; ``workflow.agreement_path``); one that ``decides`` values (KKR's
    focus areas) records them, and later stages follow (``workflow.follows``)."""
    if outcome not in OUTCOMES:
        raise GuardRefused(
            "Resultatet skal være held, approved, rejected eller postponed "
            "(afholdt, godkendt, afvist eller udsat).",
            en="The outcome must be one of held, approved, rejected, postponed.",
        )
    stage = tx.stage(stage_id)
    name = stage_name(tx, stage_id)
    if stage.kind not in ("meeting", "decision"):
        raise GuardRefused(
            f"Fasen »{name}« er {label(stage.kind).lower()}; kun møder og beslutninger "
            "får et resultat.",
            en=f"The stage »{name}« is a {stage.kind} stage; only meeting and decision "
            "stages take an outcome.",
        )
    if stage.status != "open":
        raise GuardRefused(
            f"Fasen »{name}« er {state_da(stage.status)}; et resultat kan kun registreres, "
            "mens den er åben.",
            en=f"The stage »{name}« is {state_en(stage.status)}; an outcome can only be "
            "recorded while it is open.",
        )
    decided = decided_values(tx.bound.stage(stage_id).definition, outcome, values or {})
    document = recommend(tx, stage_id, outcome, document_version)
    stage.outcome = {
        "outcome": outcome,
        "text": text,
        "minutes": minutes,
        "recorded_by": actor,
        "recorded_at": at.isoformat(),
        **({"document": document} if document else {}),
        **({"values": decided} if decided else {}),
    }
    data = {
        "outcome": outcome,
        "text": text,
        "minutes": minutes,
        **({"document": document} if document else {}),
        **({"values": decided} if decided else {}),
    }
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
    minutes_file: Mapping[str, Any] | None,
    reason: str,
) -> None:
    """One body's decision in a party's approval chain.

    The decision is tied to the agreement version up for approval at this moment (never
    to a file the council sends along: ``minutes_file`` is kept apart, as the minutes).
    """
    if decision not in DECISIONS:
        raise GuardRefused(
            "Beslutningen skal være approved, rejected eller postponed "
            "(godkendt, afvist eller udsat).",
            en="The decision must be one of approved, rejected, postponed.",
        )
    stage = tx.stage(stage_id)
    name = stage_name(tx, stage_id)
    if stage.kind != "approval":
        raise GuardRefused(
            f"Fasen »{name}« er ikke en godkendelsesfase.",
            en=f"The stage »{name}« is not an approval stage.",
        )
    if stage.status not in ("open", "blocked"):
        raise GuardRefused(
            f"Fasen »{name}« er {state_da(stage.status)}; godkendelser registreres, "
            "mens den er åben.",
            en=f"The stage »{name}« is {state_en(stage.status)}; approvals are recorded "
            "while it is open.",
        )
    refuse_before_opened(tx, stage, at)
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
        **_minutes_file(minutes_file),
        **_approved_version(tx),
        "recorded_by": actor,
    }
    # a body that postponed its decision takes it at its next meeting: the step is planned
    # again on its calendar (a step that had no plan keeps its deadline)
    replanned = plan_step(tx, task, at) if decision == "postponed" and task.step_deadline else {}
    tx.event(
        at,
        actor,
        f"approval_{decision}",
        stage=stage_id,
        party=party,
        step=step,
        reason=reason,
        data={**task.decision, **replanned},
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
        who = tx.bound.bundle.parties.get(party).name
        first = ", ".join(label(w) for w in waiting)
        first_en = ", ".join(label(w, "en") for w in waiting)
        raise GuardRefused(
            f"{who}: {label(step)} beslutter efter {first}, som ikke har godkendt endnu.",
            en=f"{who}: {label(step, 'en')} decides after {first_en}, which has not approved yet.",
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
    """A new deadline for one party, re-planned from that date.

    Refused for a date in the past, before the stage opens or after it closes, and
    without a reason. Queued reminders and escalations for the party in this stage (the
    old schedule) are cancelled; reminders already due on the new schedule are skipped,
    not sent at once; an overdue party is back where it was (invited, opened or draft).
    """
    stage = tx.stage(stage_id)
    bst = tx.bound.stage(stage_id)
    if bst.deadline is None:
        name = stage_name(tx, stage_id)
        raise GuardRefused(
            f"Fasen »{name}« har ingen frist, der kan forlænges.",
            en=f"The stage »{name}« has no deadline to extend.",
        )
    tasks = tx.party_tasks(stage_id, party)
    if stage.status not in ("open", "blocked"):
        name = stage_name(tx, stage_id)
        raise GuardRefused(
            f"Fasen »{name}« er {state_da(stage.status)}; kun en åben fases frist kan forlænges.",
            en=f"The stage »{name}« is {state_en(stage.status)}; only an open stage's deadline "
            "can be extended.",
        )
    check_new_deadline(bst, deadline, at, reason)
    old = tasks[0].deadline or bst.deadline
    for t in tasks:
        t.deadline_override = deadline
        replan_from_deadline(tx, bst, t, deadline, at)
    cancelled = cancel_party_reminders(tx, stage_id, party)
    data: dict[str, Any] = {"from": old.isoformat(), "to": deadline.isoformat()}
    if cancelled:
        data["mails_cancelled"] = cancelled
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


def check_new_deadline(bst: BoundStage, deadline: date, at: datetime, reason: str) -> None:
    """A new deadline the party can meet and the stage can take, with a reason."""
    if not reason.strip():
        raise GuardRefused(
            "Skriv hvorfor fristen forlænges (begrundelsen kommer i loggen).",
            en="Write why the deadline is extended (the reason goes to the log).",
        )
    today = to_local(at).date()
    new = format_day(deadline)
    if deadline < today:
        raise GuardRefused(
            f"Den nye frist {new} ligger før i dag ({format_day(today)}).",
            en=f"The new deadline {deadline} is before today ({today}).",
        )
    opens = to_local(bst.opens_at).date()
    if deadline < opens:
        raise GuardRefused(
            f"Den nye frist {new} ligger før fasen åbner ({format_day(opens)}).",
            en=f"The new deadline {deadline} is before the stage opens ({opens}).",
        )
    if bst.closes_at is not None and deadline > to_local(bst.closes_at).date():
        closes = format_day(to_local(bst.closes_at).date())
        raise GuardRefused(
            f"Den nye frist {new} ligger efter fasens lukning ({closes}), "
            "og efter lukningen tages der ikke imod svar. Vælg en frist senest "
            f"{closes}, eller flyt først fasens lukning i procesdefinitionen.",
            en=f"The new deadline {deadline} is after the stage closes "
            f"({to_local(bst.closes_at).date()}), and no answers are taken after it closes. "
            "Choose a deadline on or before that day, or first move the stage's close in the "
            "process definition.",
        )


def replan_from_deadline(
    tx: ProcessTx, bst: BoundStage, t: TaskRecord, deadline: date, at: datetime
) -> None:
    """One task after its deadline moved: its reminders are planned from the new date (those
    of the new schedule already past are counted as done, not sent at once); a task no
    longer late is back where it was, and may be escalated again."""
    t.reminders_done = sum(1 for m in tx.bound.reminder_moments(bst, deadline) if m <= at)
    if tx.bound.overdue_at(deadline) <= at:
        return
    t.escalated = False
    if t.status == "overdue":
        t.status = machines.fire("questionnaire_task", t.status, "extend")
        if t.opened_at is not None:
            t.status = machines.fire("questionnaire_task", t.status, "open_link")
        if _has_draft(tx, t):
            t.status = machines.fire("questionnaire_task", t.status, "save_draft")


def _has_draft(tx: ProcessTx, t: TaskRecord) -> bool:
    found = tx.session.scalar(
        select(AnswerRow.id).where(
            AnswerRow.process_id == tx.process.id,
            AnswerRow.stage_id == t.stage_id,
            AnswerRow.party == t.party,
            AnswerRow.state == "draft",
        )
    )
    return found is not None


def cancel_party_reminders(tx: ProcessTx, stage_id: str, party: str) -> int:
    """Cancel the party's queued reminders and escalations of the old schedule now (before
    the tick queues those of the new one); a mail a sender has claimed is not touched."""
    result = tx.conn.execute(
        update(OutboxRow)
        .where(
            OutboxRow.process_id == tx.process.id,
            OutboxRow.stage_id == stage_id,
            OutboxRow.party == party,
            OutboxRow.kind.in_(("reminder", "escalation")),
            OutboxRow.status == "queued",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _approved_version(tx: ProcessTx) -> dict[str, Any]:
    """What an approval given now approves: the version up for approval (hash and number)."""
    up = document_info(tx)
    return {"document_hash": up.get("sha256", ""), "document_version": up.get("version", 0)}


def _minutes_file(file: Mapping[str, Any] | None) -> dict[str, Any]:
    """The council's minutes as stored (name, stored name, hash, size, type), or nothing."""
    if not file:
        return {}
    keep = ("filename", "stored_as", "sha256", "size", "kind")
    return {"minutes_file": {k: file[k] for k in keep if k in file}}
