"""A stage's deadline moved for every party: kept in the live plan (``workflow.live_plan``),
the reminders and escalations of the parties that have not answered re-planned from it (their
queued ones of the old plan cancelled), and those parties told ("ny frist"); the parties that
have answered get nothing, and a party with its own extension keeps it
(``workflow.deadlines``). A function of the ``ProcessTx`` it changes, like ``workflow.acts``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from workflow import live_plan
from workflow.acts import cancel_party_reminders, check_new_deadline, replan_from_deadline
from workflow.calendar import to_local
from workflow.changes import (
    first_mail_kind,
    issue_link,
    recipient_role,
    stage_name,
    state_da,
    state_en,
)
from workflow.dates import format_day
from workflow.definition import QuestionnaireStage
from workflow.errors import GuardRefused
from workflow.mail import Mail, iso_day
from workflow.storage.records import TaskRecord
from workflow.timeline import BoundStage
from workflow.tx import ProcessTx

#: A task that has answered (or need not): a moved deadline does not concern it.
ANSWERED = ("submitted", "approved", "rejected", "exempt")
#: A task that was asked and has not answered: it is told of a moved deadline.
WAITING = ("invited", "opened", "draft", "overdue", "requested", "postponed")


def move_deadline(
    tx: ProcessTx, stage_id: str, deadline: date, *, at: datetime, actor: str, reason: str
) -> dict[str, list[str]]:
    """A new deadline for every party of the stage. Returns the parties told ("told"), those
    that had answered ("answered") and those whose own extension stands ("extended")."""
    if not reason.strip():
        raise GuardRefused(
            "Skriv hvorfor fristen flyttes (begrundelsen kommer i loggen).",
            en="Write why the deadline is moved (the reason goes to the log).",
        )
    stage = tx.stage(stage_id)  # an unknown stage: NotFound, with the nearest name
    bst = tx.bound.stage(stage_id)
    name = stage_name(tx, stage_id)
    if bst.deadline is None:
        raise GuardRefused(
            f"Fasen »{name}« har ingen frist, der kan flyttes.",
            en=f"The stage »{name}« has no deadline to move.",
        )
    if stage.status in ("completed", "cancelled"):
        raise GuardRefused(
            f"Fasen »{name}« er {state_da(stage.status)}; dens frist kan ikke flyttes.",
            en=f"The stage »{name}« is {state_en(stage.status)}; its deadline cannot be moved.",
        )
    if deadline == bst.deadline:
        raise GuardRefused(
            f"Fasens frist er allerede {format_day(deadline)}; der er intet at flytte.",
            en=f"The stage's deadline is {deadline} already; there is nothing to move.",
        )
    check_new_deadline(bst, deadline, at, reason)
    if isinstance(bst.definition, QuestionnaireStage) and bst.send_at is not None:
        sent = to_local(bst.send_at).date()
        if deadline < sent:
            raise GuardRefused(
                f"Den nye frist {format_day(deadline)} ligger før spørgsmålene sendes "
                f"({format_day(sent)}).",
                en=f"The new deadline {deadline} is before the questions are sent ({sent}).",
            )
    old = bst.deadline
    seq = live_plan.deadline_moves(tx.process.plan_changes, stage_id) + 1
    record = {"deadline": deadline.isoformat(), "sequence": seq}
    tx.change_plan(live_plan.with_deadline(tx.process.plan_changes, stage_id, record))
    now = tx.bound.stage(stage_id)
    out: dict[str, list[str]] = {"told": [], "answered": [], "extended": [], "council_meeting": []}
    cancelled = 0
    for party in tx.bound.bundle.participants:
        chain = tx.state.chain(stage_id, party)
        if not chain:
            continue
        if chain[0].deadline_override is not None:
            out["extended"].append(party)
            continue
        waiting = [t for t in chain if t.status in WAITING]
        if any(t.step_deadline is not None for t in waiting):
            # an approval step asked for its council's meeting keeps that meeting's deadline
            out["council_meeting"].append(party)
            continue
        if not waiting:
            if all(t.status in ANSWERED for t in chain):
                out["answered"].append(party)
            continue
        for t in chain:
            if t.status not in ANSWERED:
                replan_from_deadline(tx, now, t, deadline, at)
        cancelled += cancel_party_reminders(tx, stage_id, party)
        _tell(tx, now, waiting[0], old, seq, at)
        out["told"].append(party)
    data: dict[str, Any] = {
        "from": old.isoformat(),
        "to": deadline.isoformat(),
        "sequence": seq,
        "mails_cancelled": cancelled,
        **out,
    }
    tx.event(at, actor, "stage_deadline_moved", stage=stage_id, reason=reason, data=data)
    return out


def _tell(tx: ProcessTx, bst: BoundStage, t: TaskRecord, old: date, seq: int, at: datetime) -> None:
    """The "ny frist" mail to a party that has not answered, with its personal link."""
    definition = bst.definition
    details: dict[str, Any] = {
        "deadline": iso_day(t.deadline),
        "previous_deadline": iso_day(old),
        "link": issue_link(tx, t, at),
    }
    if t.kind == "approval":
        details["body"] = t.step
    role = recipient_role(definition, t.step)
    tx.mail(
        Mail(
            kind="new_deadline",
            stage=t.stage_id,
            party=t.party,
            step=t.step,
            seq=seq,
            recipients=tuple(tx.addresses(t.party, role)),
            details=details,
            thread_under=first_mail_kind(t),
        ),
        at,
    )
