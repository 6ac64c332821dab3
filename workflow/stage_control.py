"""The secretariat opens, closes and reopens stages by hand. Functions of a ``ProcessTx``."""

from __future__ import annotations

from datetime import datetime

from workflow import machines
from workflow.changes import (
    complete_stage,
    guarded_stage,
    open_stage,
    refuse_approval_without_agreement,
    stage_name,
)
from workflow.errors import GuardRefused
from workflow.planner import COMPLETE_STAGE, plan
from workflow.tx import ProcessTx


def open_now(tx: ProcessTx, stage_id: str, *, at: datetime, actor: str, reason: str) -> None:
    """Open a pending stage now (the planner would open it on its date).

    Refused unless the process runs, the stage is pending and every stage it requires
    is finished. A questionnaire opened early still sends its invitations on its send date.
    """
    stage = guarded_stage(tx, stage_id, "open")
    decision = tx.bound.waiting(stage_id)
    if decision is not None:
        name = stage_name(tx, stage_id)
        raise GuardRefused(
            f"Fasen »{name}« kan ikke åbne: den {decision[0]}.",
            en=f"The stage »{name}« cannot open: it is {decision[1]}.",
        )
    waiting = [
        r
        for r in tx.bound.bundle.process.requirements(stage_id)
        if tx.stages[r].status not in ("completed", "cancelled")
    ]
    if waiting:
        names = ", ".join(f"»{stage_name(tx, w)}«" for w in waiting)
        name = stage_name(tx, stage_id)
        raise GuardRefused(
            f"Fasen »{name}« åbner først, når {names} er afsluttet.",
            en=f"The stage »{name}« opens after {names}, which is not finished.",
        )
    refuse_approval_without_agreement(tx, stage)
    planned = tx.bound.stage(stage_id).opens_at.isoformat()
    data = {"manual": True, "planned": planned}
    open_stage(tx, stage_id, at, actor, reason=reason, data=data)


def close_now(tx: ProcessTx, stage_id: str, *, at: datetime, actor: str, reason: str) -> None:
    """Close an open stage now: no more answers, its queued reminders are cancelled.

    Refused for a meeting or decision (record its outcome instead), for an approval
    stage while a party's chain has not approved (or been exempted), and for the
    submission before the agreement has been sent.
    """
    stage = guarded_stage(tx, stage_id, "complete")
    name = stage_name(tx, stage_id)
    if stage.kind in ("meeting", "decision"):
        raise GuardRefused(
            f"Fasen »{name}« er {'et møde' if stage.kind == 'meeting' else 'en beslutning'}; "
            "registrér resultatet for at lukke den.",
            en=f"The stage »{name}« is a {stage.kind}; record its outcome to close it.",
        )
    if stage.kind == "approval":
        missing = sorted(
            {t.party for t in tx.state.tasks_of(stage_id) if t.status not in ("approved", "exempt")}
        )
        if missing:
            who = ", ".join(tx.bound.bundle.parties.get(m).name for m in missing)
            raise GuardRefused(
                f"Fasen »{name}« kan ikke lukkes, før {who} har godkendt; registrér "
                "godkendelserne eller fritag parten først.",
                en=f"The stage »{name}« cannot close while {who} has not approved; record "
                "the approvals or exempt the party first.",
            )
    if stage.kind == "submission" and stage.submitted_at is None:
        raise GuardRefused(
            f"Fasen »{name}« kan ikke lukkes, før aftalen er sendt.",
            en=f"The stage »{name}« cannot close before the agreement has been sent.",
        )
    complete_stage(tx, stage, at, actor, reason, {"manual": True})


def reopen(tx: ProcessTx, stage_id: str, *, at: datetime, actor: str, reason: str) -> None:
    """Open a completed stage again (e.g. an outcome recorded by mistake).

    Refused while a later stage that waits for it has started, and when the stage
    would close again at once (its closing date has passed, or everything it waits for
    is done): nothing is changed then.
    """
    stage = guarded_stage(tx, stage_id, "reopen")
    name = stage_name(tx, stage_id)
    bound = tx.bound
    started = [
        b.id
        for b in bound.stages
        if stage_id in bound.bundle.process.requirements(b.id)
        and tx.stages[b.id].status != "pending"
    ]
    if started:
        later = ", ".join(f"»{stage_name(tx, b)}«" for b in started)
        raise GuardRefused(
            f"Fasen »{name}« kan ikke genåbnes: {later}, der følger efter den, er begyndt.",
            en=f"The stage »{name}« cannot be reopened: {later}, which follows it, has started.",
        )
    stage.status = machines.fire("stage", stage.status, "reopen")
    stage.closed_at = None
    again = [
        a
        for a in plan(bound, tx.state, at).actions
        if a.kind == COMPLETE_STAGE and a.stage == stage_id
    ]
    if again:
        why = again[0].reason
        raise GuardRefused(
            f"Fasen »{name}« ville lukke igen med det samme ({why}); den er ikke genåbnet.",
            en=f"The stage »{name}« would close again at once ({why}); it was not reopened.",
        )
    tx.event(at, actor, "stage_reopened", stage=stage_id, reason=reason)
