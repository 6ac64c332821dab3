"""The secretariat's acts: outcomes, approvals, extensions, exemptions, stage control."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import machines
from workflow.calendar import to_local
from workflow.dates import format_day, format_short
from workflow.engine import (
    Applied,
    Engine,
    _cancel_queued,
    _document_info,
    _event,
    _guarded_stage,
    _key_of,
    _loaded,
    _new_tasks,
    _process,
    _stage,
    _stage_rows,
    _task,
    _view,
    bound_for,
)
from workflow.errors import GuardRefused, NotFound
from workflow.planner import (
    COMPLETE_STAGE,
    plan,
)
from workflow.storage import records
from workflow.storage.models import AnswerRow, OutboxRow
from workflow.storage.records import ProcessRecord, StageRecord, TaskRecord
from workflow.timeline import BoundProcess, BoundStage

#: A mail's status in a refusal's words.
MAIL_STATUS_DA = {
    "queued": "i kø",
    "sending": "ved at blive sendt",
    "sent": "sendt",
    "failed": "fejlet",
    "cancelled": "annulleret",
}


class Acts(Engine):
    # ------------------------------------------------------------------ human acts

    def record_outcome(
        self,
        key: str,
        stage_id: str,
        *,
        outcome: str,
        text: str = "",
        minutes: str = "",
        at: datetime,
        actor: str,
        reason: str = "",
    ) -> list[Applied]:
        """The outcome of a meeting or a decision stage; a rejected decision blocks the process."""
        if outcome not in ("held", "approved", "rejected", "postponed"):
            raise GuardRefused("outcome must be one of held, approved, rejected, postponed")
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            if stage.kind not in ("meeting", "decision"):
                raise GuardRefused(
                    f"stage {stage_id!r} is a {stage.kind} stage; only meeting and "
                    "decision stages take an outcome"
                )
            if stage.status != "open":
                raise GuardRefused(
                    f"stage {stage_id!r} is {stage.status}; an outcome can only be "
                    "recorded while it is open"
                )
            stage.outcome = {
                "outcome": outcome,
                "text": text,
                "minutes": minutes,
                "recorded_by": actor,
                "recorded_at": at.isoformat(),
            }
            _event(
                s,
                row,
                at,
                actor,
                "outcome_recorded",
                stage=stage_id,
                reason=reason,
                data={"outcome": outcome, "text": text, "minutes": minutes},
            )
            if outcome == "rejected":
                stage.status = machines.fire("stage", stage.status, "block")
                row.status = machines.fire("process", row.status, "block")
                _event(
                    s,
                    row,
                    at,
                    actor,
                    "process_blocked",
                    stage=stage_id,
                    reason=f"{stage_id} was rejected: {text}",
                )
            elif outcome in ("held", "approved"):
                self._complete_stage(s, row, stage, at, actor, f"outcome recorded: {outcome}")
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def record_approval(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str,
        *,
        decision: str,
        at: datetime,
        actor: str,
        meeting_date: date | None = None,
        agenda_item: str = "",
        decision_text: str = "",
        minutes: str = "",
        minutes_file: Mapping[str, Any] | None = None,
        reason: str = "",
    ) -> list[Applied]:
        """One body's decision in a party's approval chain.

        The decision is tied to the agreement version up for approval at this moment (never
        to a file the council sends along: ``minutes_file`` is kept apart, as the minutes).
        """
        triggers = {"approved": "approve", "rejected": "reject", "postponed": "postpone"}
        if decision not in triggers:
            raise GuardRefused("decision must be one of approved, rejected, postponed")
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            if stage.kind != "approval":
                raise GuardRefused(f"stage {stage_id!r} is not an approval stage")
            if stage.status not in ("open", "blocked"):
                raise GuardRefused(
                    f"stage {stage_id!r} is {stage.status}; approvals are recorded while it is open"
                )
            _refuse_before_opened(stage, at)
            task = _task(s, row, stage_id, party, step)
            earlier = [
                t
                for t in _loaded(s, row)[1].values()
                if t.stage_id == stage_id and t.party == party and t.seq < task.seq
            ]
            waiting = [t.step for t in earlier if t.status not in ("approved", "exempt")]
            if waiting:
                raise GuardRefused(
                    f"{party}: {step} decides after {', '.join(waiting)}, "
                    "which has not approved yet"
                )
            if task.status == "pending":
                task.status = machines.fire("approval_step", task.status, "request")
            task.status = machines.fire("approval_step", task.status, triggers[decision])
            task.decided_at = at
            task.decision = {
                "decision": decision,
                "meeting_date": meeting_date.isoformat() if meeting_date else "",
                "agenda_item": agenda_item,
                "decision_text": decision_text,
                "minutes": minutes,
                **_minutes_file(minutes_file),
                **_approved_version(s, row),
                "recorded_by": actor,
            }
            _event(
                s,
                row,
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
                if stage.status == "open":
                    stage.status = machines.fire("stage", stage.status, "block")
                if row.status == "running":
                    row.status = machines.fire("process", row.status, "block")
                _event(
                    s,
                    row,
                    at,
                    actor,
                    "process_blocked",
                    stage=stage_id,
                    party=party,
                    step=step,
                    reason=f"{party} {step} rejected the agreement: {decision_text}",
                )
                self._notify_secretariat(
                    s,
                    row,
                    bound,
                    at,
                    "rejection",
                    stage_id,
                    party,
                    step,
                    {"decision_text": decision_text},
                )
            elif decision == "approved" and stage.status == "blocked":
                still = sum(
                    1
                    for t in _loaded(s, row)[1].values()
                    if t.stage_id == stage_id and t.status == "rejected"
                )
                if not still:
                    stage.status = machines.fire("stage", stage.status, "unblock")
                    row.status = machines.fire("process", row.status, "unblock")
                    _event(
                        s,
                        row,
                        at,
                        actor,
                        "process_unblocked",
                        stage=stage_id,
                        reason="no party's approval is rejected any more",
                    )
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def extend(
        self,
        key: str,
        stage_id: str,
        party: str,
        deadline: date,
        *,
        at: datetime,
        actor: str,
        reason: str,
    ) -> list[Applied]:
        """A new deadline for one party, re-planned from that date.

        Refused for a date in the past, before the stage opens or after it closes, and
        without a reason. Queued reminders and escalations for the party in this stage (the
        old schedule) are cancelled; reminders already due on the new schedule are skipped,
        not sent at once; an overdue party is back where it was (invited, opened or draft).
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            bst = bound.stage(stage_id)
            if bst.deadline is None:
                raise GuardRefused(f"stage {stage_id!r} has no deadline to extend")
            tasks = _party_tasks(s, row, stage_id, party)
            if stage.status not in ("open", "blocked"):
                raise GuardRefused(
                    f"stage {stage_id!r} is {stage.status}; only an open stage's "
                    "deadline can be extended"
                )
            _check_new_deadline(bst, deadline, at, reason)
            old = tasks[0].deadline_override or bst.deadline
            for t in tasks:
                t.deadline_override = deadline
                _replan_from_deadline(s, row, bound, bst, t, deadline, at)
            cancelled = _cancel_queued(
                s,
                OutboxRow.process_id == row.id,
                OutboxRow.stage_id == stage_id,
                OutboxRow.party == party,
                OutboxRow.kind.in_(("reminder", "escalation")),
            )
            _event(
                s,
                row,
                at,
                actor,
                "deadline_extended",
                stage=stage_id,
                party=party,
                reason=reason,
                data={"from": old.isoformat(), "to": deadline.isoformat()}
                | ({"mails_cancelled": cancelled} if cancelled else {}),
            )
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def exempt(
        self, key: str, stage_id: str, party: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            _stage(s, row, bound, stage_id)
            tasks = _party_tasks(s, row, stage_id, party)
            for t in tasks:
                name = "approval_step" if t.kind == "approval" else "questionnaire_task"
                if machines.can(name, t.status, "exempt"):
                    t.status = machines.fire(name, t.status, "exempt")
            _event(s, row, at, actor, "party_exempted", stage=stage_id, party=party, reason=reason)
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def cancel(self, key: str, *, at: datetime, actor: str, reason: str) -> None:
        with self.db.transaction() as s:
            row = _process(s, key)
            row.status = machines.fire("process", row.status, "cancel")
            row.next_due_at = None
            row.updated_at = at
            cancelled = _cancel_queued(s, OutboxRow.process_id == row.id)
            _event(
                s,
                row,
                at,
                actor,
                "process_cancelled",
                reason=reason,
                data={"mails_cancelled": cancelled},
            )

    # ------------------------------------------------------------------ stage control

    def open_stage(
        self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        """Open a pending stage now (the planner would open it on its date).

        Refused unless the process runs, the stage is pending and every stage it requires
        is finished. A questionnaire opened early still sends its invitations on its send date.
        """
        with self.db.transaction() as s:
            row, bound, stage = _guarded_stage(
                s, key, stage_id, "open", "a stage can be opened", "a pending stage can be opened"
            )
            stages = _stage_rows(s, row)
            waiting = [
                r
                for r in bound.bundle.process.requirements(stage_id)
                if stages[r].status not in ("completed", "cancelled")
            ]
            if waiting:
                raise GuardRefused(
                    f"stage {stage_id!r} opens after {', '.join(waiting)}, which is not finished"
                )
            _refuse_approval_without_agreement(row, stage)
            stage.status = machines.fire("stage", stage.status, "open")
            stage.opened_at = at
            bst = bound.stage(stage_id)
            loaded_tasks = _loaded(s, row)[1]
            for t in _new_tasks(row, bound, bst):
                records.add(s, t)
                loaded_tasks[(t.stage_id, t.party, t.step)] = t
            _event(
                s,
                row,
                at,
                actor,
                "stage_opened",
                stage=stage_id,
                reason=reason,
                data={"manual": True, "planned": bst.opens_at.isoformat()},
            )
            self._invite_to_events(s, row, bound, bst, at)
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def close_stage(
        self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        """Close an open stage now: no more answers, its queued reminders are cancelled.

        Refused for a meeting or decision (record its outcome instead), for an approval
        stage while a party's chain has not approved (or been exempted), and for the
        submission before the agreement has been sent.
        """
        with self.db.transaction() as s:
            row, _, stage = _guarded_stage(
                s, key, stage_id, "complete", "a stage can be closed", "an open stage can be closed"
            )
            if stage.kind in ("meeting", "decision"):
                raise GuardRefused(
                    f"stage {stage_id!r} is a {stage.kind}; record its outcome to close it"
                )
            if stage.kind == "approval":
                missing = sorted(
                    {
                        t.party
                        for t in _loaded(s, row)[1].values()
                        if t.stage_id == stage_id and t.status not in ("approved", "exempt")
                    }
                )
                if missing:
                    raise GuardRefused(
                        f"stage {stage_id!r} cannot close while {', '.join(missing)} "
                        "has not approved; record the approvals or exempt the party first"
                    )
            if stage.kind == "submission" and stage.submitted_at is None:
                raise GuardRefused(
                    f"stage {stage_id!r} cannot close before the agreement has been sent"
                )
            self._complete_stage(s, row, stage, at, actor, reason, {"manual": True})
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def reopen_stage(
        self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        """Open a completed stage again (e.g. an outcome recorded by mistake).

        Refused while a later stage that waits for it has started, and when the stage
        would close again at once (its closing date has passed, or everything it waits for
        is done): nothing is changed then.
        """
        with self.db.transaction() as s:
            row, bound, stage = _guarded_stage(
                s,
                key,
                stage_id,
                "reopen",
                "a stage can be reopened",
                "a completed stage can be reopened",
            )
            stages = _stage_rows(s, row)
            started = [
                b.id
                for b in bound.stages
                if stage_id in bound.bundle.process.requirements(b.id)
                and stages[b.id].status != "pending"
            ]
            if started:
                raise GuardRefused(
                    f"stage {stage_id!r} cannot be reopened: {', '.join(started)}, which "
                    "follows it, has started"
                )
            stage.status = machines.fire("stage", stage.status, "reopen")
            stage.closed_at = None
            tasks = _loaded(s, row)[1]
            again = [
                a
                for a in plan(bound, _view(row, stages, tasks, bound), at).actions
                if a.kind == COMPLETE_STAGE and a.stage == stage_id
            ]
            if again:
                raise GuardRefused(
                    f"stage {stage_id!r} would close again at once ({again[0].reason}); "
                    "it was not reopened"
                )
            _event(s, row, at, actor, "stage_reopened", stage=stage_id, reason=reason)
            applied: list[Applied] = []
            self._advance(s, row, at, actor, applied)
        return applied

    def retry_mail(self, outbox_id: int, *, at: datetime, actor: str, reason: str) -> None:
        """Queue a failed mail again, due now; it keeps its Message-ID."""
        with self.db.transaction() as s:
            mail = s.get(OutboxRow, outbox_id)
            if mail is None:
                raise NotFound(f"mail {outbox_id} findes ikke i udbakken")
            row = _process(s, _key_of(s, mail.process_id)) if mail.process_id else None
            if mail.status != "failed":
                raise GuardRefused(
                    f"mail {outbox_id} er {MAIL_STATUS_DA.get(mail.status, mail.status)}; kun en "
                    "mail, der er fejlet, kan sendes igen"
                )
            if row is not None and row.status == "cancelled":
                raise GuardRefused(f"processen {row.key} er annulleret; dens mails sendes ikke")
            previous = mail.last_error
            mail.status = "queued"
            mail.claimed_at = None
            mail.next_attempt_at = at
            _event(
                s,
                row,
                at,
                actor,
                "mail_retry_requested",
                stage=mail.stage_id,
                party=mail.party,
                step=mail.step,
                reason=reason,
                data={
                    "outbox_id": mail.id,
                    "key": mail.idempotency_key,
                    "kind": mail.kind,
                    "attempts": mail.attempts,
                    "last_error": previous or "",
                },
            )


def _check_new_deadline(bst: BoundStage, deadline: date, at: datetime, reason: str) -> None:
    """A new deadline the party can meet and the stage can take, with a reason."""
    if not reason.strip():
        raise GuardRefused("Skriv hvorfor fristen forlænges (begrundelsen kommer i loggen).")
    today = to_local(at).date()
    new = format_day(deadline)
    if deadline < today:
        raise GuardRefused(f"Den nye frist {new} ligger før i dag ({format_day(today)}).")
    opens = to_local(bst.opens_at).date()
    if deadline < opens:
        raise GuardRefused(f"Den nye frist {new} ligger før fasen åbner ({format_day(opens)}).")
    if bst.closes_at is not None and deadline > to_local(bst.closes_at).date():
        closes = format_day(to_local(bst.closes_at).date())
        raise GuardRefused(
            f"Den nye frist {new} ligger efter fasens lukning ({closes}), "
            "og efter lukningen tages der ikke imod svar. Vælg en frist senest "
            f"{closes}, eller flyt først fasens lukning i procesdefinitionen."
        )


def _replan_from_deadline(
    s: Session,
    row: ProcessRecord,
    bound: BoundProcess,
    bst: BoundStage,
    t: TaskRecord,
    deadline: date,
    at: datetime,
) -> None:
    """One task after its deadline moved: its reminders are planned from the new date (those
    of the new schedule already past are counted as done, not sent at once); a task no
    longer late is back where it was, and may be escalated again."""
    t.reminders_done = sum(1 for m in bound.reminder_moments(bst, deadline) if m <= at)
    if bound.overdue_at(deadline) <= at:
        return
    t.escalated = False
    if t.status == "overdue":
        t.status = machines.fire("questionnaire_task", t.status, "extend")
        if t.opened_at is not None:
            t.status = machines.fire("questionnaire_task", t.status, "open_link")
        if _has_draft(s, row, t):
            t.status = machines.fire("questionnaire_task", t.status, "save_draft")


def _has_draft(s: Session, row: ProcessRecord, t: TaskRecord) -> bool:
    return (
        s.scalar(
            select(AnswerRow.id).where(
                AnswerRow.process_id == row.id,
                AnswerRow.stage_id == t.stage_id,
                AnswerRow.party == t.party,
                AnswerRow.state == "draft",
            )
        )
        is not None
    )


def _refuse_before_opened(stage: StageRecord, at: datetime) -> None:
    """A decision cannot be recorded as taken before its stage asked for it."""
    if stage.opened_at is not None and at < stage.opened_at:
        opened = format_short(stage.opened_at)
        raise GuardRefused(
            f"Beslutningen kan ikke registreres {format_short(at)}: "
            f"fasen {stage.stage_id!r} åbnede først {opened}."
        )


def _refuse_approval_without_agreement(row: ProcessRecord, stage: StageRecord) -> None:
    if stage.kind == "approval" and not row.approval_document_hash:
        raise GuardRefused(
            f"stage {stage.stage_id!r} cannot open before a version of the agreement is put "
            "up for approval (upload it on the process's agreement page and put it up)"
        )


def _approved_version(s: Session, row: ProcessRecord) -> dict[str, Any]:
    """What an approval given now approves: the version up for approval (hash and number)."""
    up = _document_info(s, row)
    return {"document_hash": up.get("sha256", ""), "document_version": up.get("version", 0)}


def _minutes_file(file: Mapping[str, Any] | None) -> dict[str, Any]:
    """The council's minutes as stored (name, stored name, hash, size, type), or nothing."""
    if not file:
        return {}
    keep = ("filename", "stored_as", "sha256", "size", "kind")
    return {"minutes_file": {k: file[k] for k in keep if k in file}}


def _party_tasks(s: Session, row: ProcessRecord, stage_id: str, party: str) -> list[TaskRecord]:
    """One party's tasks in a stage (every step of its chain), from the rows already loaded."""
    tasks = sorted(
        (t for t in _loaded(s, row)[1].values() if t.stage_id == stage_id and t.party == party),
        key=lambda t: t.seq,
    )
    if not tasks:
        raise NotFound(f"{party!r} has no task in stage {stage_id!r} (yet)")
    return tasks
