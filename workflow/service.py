"""The application service: every change goes through here, in ONE transaction.

A tick asks the planner what is due, applies it (state, an audit event per change, an outbox
row per mail) and commits. Human acts (an outcome, an approval, an answer, an extension) do the
same and then let the planner run, so a stage that can open opens in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from workflow import machines
from workflow.calendar import next_office_moment, to_local, working_days_between
from workflow.definition import ApprovalStage, Contact, QuestionnaireStage, SubmissionStage
from workflow.errors import AftaleflowError, GuardRefused, NotFound
from workflow.links import make_token, token_hash
from workflow.loader import Bundle
from workflow.planner import (
    ACTIVE_QUESTIONNAIRE,
    COMPLETE_PROCESS,
    COMPLETE_STAGE,
    ESCALATE,
    INVITE,
    MARK_OVERDUE,
    OPEN_STAGE,
    REMIND,
    REQUEST_APPROVAL,
    SKIP_REMINDER,
    SUBMIT_AGREEMENT,
    Action,
    ProcessView,
    StageView,
    TaskView,
    plan,
)
from workflow.storage.db import Database
from workflow.storage.locks import lock_process
from workflow.storage.models import (
    AnswerRow,
    EventRow,
    LinkRow,
    OutboxRow,
    ProcessRow,
    StageRow,
    TaskRow,
)
from workflow.timeline import BoundProcess, BoundStage, bind

log = logging.getLogger("aftaleflow.service")

#: A tick stops re-planning one process after this many rounds (a guard against a planner bug).
MAX_ROUNDS_PER_TICK = 2000
#: An action applied this much after it fell due is logged as caught up.
LATE_LOG_THRESHOLD = timedelta(minutes=5)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=256)
def _bound(snapshot: str, year: int) -> BoundProcess:
    return bind(Bundle.from_snapshot(snapshot), year)


_BOUND_BY_HASH: dict[tuple[str, int], BoundProcess] = {}


def bound_for(row: ProcessRow) -> BoundProcess:
    """The bound definition a process was started from (never the file as it is now).

    Cached by (content hash, year): the hash names the snapshot's content exactly.
    """
    key = (row.definition_hash, row.year)
    got = _BOUND_BY_HASH.get(key)
    if got is None:
        got = _BOUND_BY_HASH[key] = _bound(row.definition_snapshot, row.year)
    return got


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
        return [a for a in self.applied if a.late_by > LATE_LOG_THRESHOLD]


class Service:
    """Commands on processes. ``link_secret`` derives personal-link tokens."""

    def __init__(self, db: Database, *, link_secret: str) -> None:
        self.db = db
        self.link_secret = link_secret

    # ------------------------------------------------------------------ starting

    def start(
        self,
        bundle: Bundle,
        year: int,
        *,
        at: datetime,
        actor: str = "system",
        key: str | None = None,
    ) -> str:
        bound = bind(bundle, year)  # raises DefinitionError before anything is written
        key = key or f"{bundle.process.id}-{year}"
        with self.db.transaction() as s:
            if s.scalar(select(ProcessRow.id).where(ProcessRow.key == key)) is not None:
                raise AftaleflowError(
                    f"a process {key!r} is already running; give another --key to start a second"
                )
            row = ProcessRow(
                key=key,
                title=bound.title,
                year=year,
                definition_id=bundle.process.id,
                definition_version=bundle.process.version,
                definition_hash=bundle.hash,
                definition_path=bundle.path,
                definition_snapshot=bundle.snapshot(),
                status="running",
                created_at=at,
                updated_at=at,
                next_due_at=None,
            )
            s.add(row)
            s.flush()
            for st in bound.stages:
                s.add(
                    StageRow(
                        process_id=row.id,
                        stage_id=st.id,
                        seq=st.index,
                        kind=st.kind,
                        status="pending",
                    )
                )
            _event(
                s,
                row,
                at,
                actor,
                "process_started",
                data={
                    "definition": bundle.process.id,
                    "version": bundle.process.version,
                    "hash": bundle.hash,
                    "year": year,
                    "path": bundle.path,
                },
            )
            s.flush()
            self._advance(s, row, at, actor, [])
        return key

    # ------------------------------------------------------------------ the tick

    def tick(self, at: datetime, *, actor: str = "scheduler") -> TickReport:
        """Apply everything due at ``at``; one transaction per process."""
        report = TickReport(at)
        with self.db.sessions() as s:
            keys = list(
                s.scalars(
                    select(ProcessRow.key)
                    .where(ProcessRow.status == "running", ProcessRow.next_due_at <= at)
                    .order_by(ProcessRow.next_due_at)
                )
            )
        for key in keys:
            done: list[Applied] = []
            try:
                with self.db.transaction() as s:
                    row = _process(s, key)
                    if row.status != "running" or row.next_due_at is None or row.next_due_at > at:
                        continue  # another scheduler got here first
                    self._advance(s, row, at, actor, done)
            except StaleDataError:
                log.info(
                    "process %s changed under this tick; the next tick retries",
                    key,
                    extra={"action": "tick_conflict"},
                )
                continue
            except (AftaleflowError, SQLAlchemyError) as e:
                # one broken process must not stop the others; it stays due and is retried
                log.error("tick of process %s failed: %s", key, e, extra={"action": "tick_failed"})
                report.failed.append((key, str(e)))
                continue
            report.applied.extend(done)
            report.processes += 1
        for a in report.late:
            log.info(
                "caught up %s %s %s late by %s",
                a.action.kind,
                a.action.stage,
                a.action.party,
                a.late_by,
                extra={"action": "caught_up"},
            )
        return report

    def next_due(self) -> datetime | None:
        with self.db.sessions() as s:
            return s.scalar(
                select(func.min(ProcessRow.next_due_at)).where(ProcessRow.status == "running")
            )

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
        document_hash: str = "",
        reason: str = "",
    ) -> list[Applied]:
        """One body's decision in a party's approval chain."""
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
            document_hash = document_hash or (row.approval_document_hash or "")
            task.decision = {
                "decision": decision,
                "meeting_date": meeting_date.isoformat() if meeting_date else "",
                "agenda_item": agenda_item,
                "decision_text": decision_text,
                "minutes": minutes,
                "document_hash": document_hash,
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
                still = s.scalar(
                    select(func.count())
                    .select_from(TaskRow)
                    .where(
                        TaskRow.process_id == row.id,
                        TaskRow.stage_id == stage_id,
                        TaskRow.status == "rejected",
                    )
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
        """A new deadline for one party: its pending reminders move with it."""
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            bst = bound.stage(stage_id)
            if bst.deadline is None:
                raise GuardRefused(f"stage {stage_id!r} has no deadline to extend")
            tasks = s.scalars(
                select(TaskRow).where(
                    TaskRow.process_id == row.id,
                    TaskRow.stage_id == stage_id,
                    TaskRow.party == party,
                )
            ).all()
            if not tasks:
                raise NotFound(f"{party!r} has no task in stage {stage_id!r} (yet)")
            if stage.status not in ("open", "blocked"):
                raise GuardRefused(
                    f"stage {stage_id!r} is {stage.status}; only an open stage's "
                    "deadline can be extended"
                )
            old = tasks[0].deadline_override or bst.deadline
            for t in tasks:
                t.deadline_override = deadline
                if t.status == "overdue" and bound.overdue_at(deadline) > at:
                    t.status = machines.fire("questionnaire_task", t.status, "extend")
                    t.escalated = False
            _event(
                s,
                row,
                at,
                actor,
                "deadline_extended",
                stage=stage_id,
                party=party,
                reason=reason,
                data={"from": old.isoformat(), "to": deadline.isoformat()},
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
            tasks = s.scalars(
                select(TaskRow).where(
                    TaskRow.process_id == row.id,
                    TaskRow.stage_id == stage_id,
                    TaskRow.party == party,
                )
            ).all()
            if not tasks:
                raise NotFound(f"{party!r} has no task in stage {stage_id!r} (yet)")
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
            stage.status = machines.fire("stage", stage.status, "open")
            stage.opened_at = at
            bst = bound.stage(stage_id)
            loaded_tasks = _loaded(s, row)[1]
            for t in _new_tasks(row, bound, bst):
                s.add(t)
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
            s.flush()
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
                        for t in s.scalars(
                            select(TaskRow).where(
                                TaskRow.process_id == row.id, TaskRow.stage_id == stage_id
                            )
                        )
                        if t.status not in ("approved", "exempt")
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
            tasks = {
                (t.stage_id, t.party, t.step): t
                for t in s.scalars(select(TaskRow).where(TaskRow.process_id == row.id))
            }
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
                raise NotFound(f"no mail {outbox_id} in the outbox")
            row = _process(s, _key_of(s, mail.process_id)) if mail.process_id else None
            if mail.status != "failed":
                raise GuardRefused(
                    f"mail {outbox_id} is {mail.status}; only a failed mail can be sent again"
                )
            if row is not None and row.status == "cancelled":
                raise GuardRefused(f"process {row.key} is cancelled; its mails are not sent")
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

    # ------------------------------------------------------------------ the agreement document

    def add_document(
        self,
        key: str,
        *,
        filename: str,
        media_type: str,
        content: bytes,
        at: datetime,
        actor: str,
        note: str = "",
    ) -> int:
        """Store a new draft version of the agreement; returns its version number."""
        from workflow.storage.models import DocumentRow

        if not content:
            raise GuardRefused("the file is empty")
        digest = hashlib.sha256(content).hexdigest()
        with self.db.transaction() as s:
            row = _process(s, key)
            version = (
                s.scalar(
                    select(func.max(DocumentRow.version)).where(DocumentRow.process_id == row.id)
                )
                or 0
            ) + 1
            s.add(
                DocumentRow(
                    process_id=row.id,
                    version=version,
                    filename=filename,
                    media_type=media_type,
                    sha256=digest,
                    size=len(content),
                    content=content,
                    note=note,
                    uploaded_at=at,
                    uploaded_by=actor,
                )
            )
            _event(
                s,
                row,
                at,
                actor,
                "document_uploaded",
                reason=note,
                data={
                    "version": version,
                    "sha256": digest,
                    "filename": filename,
                    "size": len(content),
                },
            )
            return version

    def put_up_for_approval(
        self, key: str, version: int, *, at: datetime, actor: str, reason: str
    ) -> str:
        """The version the parties approve; every approval records its hash."""
        from workflow.storage.models import DocumentRow

        with self.db.transaction() as s:
            row = _process(s, key)
            doc = s.scalar(
                select(DocumentRow).where(
                    DocumentRow.process_id == row.id, DocumentRow.version == version
                )
            )
            if doc is None:
                raise NotFound(f"process {key} has no document version {version}")
            previous = row.approval_document_hash
            row.approval_document_hash = doc.sha256
            _event(
                s,
                row,
                at,
                actor,
                "document_put_up_for_approval",
                reason=reason,
                data={"version": version, "sha256": doc.sha256, "previous": previous or ""},
            )
            self._advance(s, row, at, actor, [])
            return doc.sha256

    # ------------------------------------------------------------------ answers

    def submit_answer(
        self,
        key: str,
        stage_id: str,
        party: str,
        data: dict[str, Any],
        *,
        at: datetime,
        actor: str,
        receipt: Mapping[str, Any] | None = None,
    ) -> int:
        """Record a submitted answer (a new version each time); returns the version.

        A submission after the (possibly extended) deadline is a late version: it is taken
        only when the stage accepts late answers, and the task becomes ``late`` unless the
        party had already answered on time. The deadline is checked here, not only by the
        tick, so an answer that arrives before the tick noticed the deadline is still late.
        After the stage closes nothing is taken. The party's draft is dropped (the new
        version holds it). With ``receipt`` (extra mail context, e.g. the answers as text) a
        ``receipt`` mail to the party is queued in the same transaction.
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            bst = bound.stage(stage_id)
            if stage.status != "open" or (bst.closes_at is not None and at > bst.closes_at):
                raise GuardRefused(
                    "the questionnaire is closed; answers can no longer be submitted"
                )
            task = _task(s, row, stage_id, party, "")
            definition = bst.definition
            assert isinstance(definition, QuestionnaireStage)
            deadline = task.deadline_override or bst.deadline
            after_deadline = deadline is not None and at > bound.overdue_at(deadline)
            if after_deadline and task.status in ACTIVE_QUESTIONNAIRE:
                # the tick has not marked it yet: do what it would have done, in order
                task.status = machines.fire("questionnaire_task", task.status, "mark_overdue")
                _event(s, row, at, actor, "overdue", stage=stage_id, party=party)
            if (
                after_deadline or task.status in ("overdue", "late")
            ) and not definition.accept_late:
                raise GuardRefused(
                    "the deadline has passed and this questionnaire takes no late answers"
                )
            before = task.status
            task.status = machines.fire("questionnaire_task", task.status, "submit")
            task.submitted_at = at
            late = task.status == "late" or after_deadline
            version = (
                s.scalar(
                    select(func.max(AnswerRow.version)).where(
                        AnswerRow.process_id == row.id,
                        AnswerRow.stage_id == stage_id,
                        AnswerRow.party == party,
                    )
                )
                or 0
            ) + 1
            s.execute(
                delete(AnswerRow).where(
                    AnswerRow.process_id == row.id,
                    AnswerRow.stage_id == stage_id,
                    AnswerRow.party == party,
                    AnswerRow.state == "draft",
                )
            )
            s.add(
                AnswerRow(
                    process_id=row.id,
                    stage_id=stage_id,
                    party=party,
                    version=version,
                    state="submitted",
                    late=late,
                    data=data,
                    created_at=at,
                    submitted_at=at,
                )
            )
            _event(
                s,
                row,
                at,
                actor,
                "answer_submitted",
                stage=stage_id,
                party=party,
                data={"version": version, "late": late, "resubmitted": before == "submitted"},
            )
            if receipt is not None:
                contact = bound.bundle.parties.get(party)
                self._enqueue(
                    s,
                    row,
                    bound,
                    at,
                    "receipt",
                    stage_id,
                    party,
                    "",
                    version,
                    contact.addresses(definition.recipients),
                    {
                        **receipt,
                        "version": version,
                        "late": late,
                        "deadline": _iso(deadline),
                        "submitted_at": at.isoformat(),
                        "questionnaire": definition.questionnaire,
                        "accept_late": definition.accept_late,
                        "link": {"generation": task.link_generation},
                    },
                )
            self._advance(s, row, at, actor, [])
            return version

    def save_draft(
        self, key: str, stage_id: str, party: str, data: dict[str, Any], *, at: datetime, actor: str
    ) -> None:
        """Keep a party's unfinished answer: ONE draft per party and stage, overwritten.

        The draft is an answer row in state ``draft`` with version 0, so submitted versions
        keep counting from 1. A party that already submitted may keep a draft of its edits;
        its task stays ``submitted`` (or ``overdue``) meanwhile.
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            bst = bound.stage(stage_id)
            if stage.status != "open" or (bst.closes_at is not None and at > bst.closes_at):
                raise GuardRefused("the questionnaire is closed; drafts can no longer be saved")
            task = _task(s, row, stage_id, party, "")
            if task.status == "exempt":
                raise GuardRefused(f"{party} is exempt from {stage_id}; nothing to save")
            if machines.can("questionnaire_task", task.status, "save_draft"):
                task.status = machines.fire("questionnaire_task", task.status, "save_draft")
            draft = s.scalar(
                select(AnswerRow).where(
                    AnswerRow.process_id == row.id,
                    AnswerRow.stage_id == stage_id,
                    AnswerRow.party == party,
                    AnswerRow.state == "draft",
                )
            )
            if draft is None:
                s.add(
                    AnswerRow(
                        process_id=row.id,
                        stage_id=stage_id,
                        party=party,
                        version=0,
                        state="draft",
                        late=False,
                        data=data,
                        created_at=at,
                        submitted_at=None,
                    )
                )
            else:
                draft.data = data
                draft.created_at = at
            _event(
                s,
                row,
                at,
                actor,
                "draft_saved",
                stage=stage_id,
                party=party,
                data={"answered": sorted(data)},
            )

    # ------------------------------------------------------------------ personal links

    def open_link(
        self, key: str, stage_id: str, party: str, step: str, *, at: datetime, actor: str
    ) -> bool:
        """A personal link was opened. The first time only: the questionnaire task becomes
        ``opened`` (if it was ``invited``) and a ``link_opened`` event is written, so the
        secretariat sees who has looked; True if this was that first time."""
        with self.db.transaction() as s:
            row = _process(s, key)
            task = _task(s, row, stage_id, party, step)
            if task.opened_at is not None:
                return False
            task.opened_at = at
            if task.kind == "questionnaire" and machines.can(
                "questionnaire_task", task.status, "open_link"
            ):
                task.status = machines.fire("questionnaire_task", task.status, "open_link")
            _event(
                s,
                row,
                at,
                actor,
                "link_opened",
                stage=stage_id,
                party=party,
                step=step,
                data={"generation": task.link_generation},
            )
            return True

    def revoke_link(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str = "",
        *,
        at: datetime,
        actor: str,
        reason: str,
        reissue: bool = True,
    ) -> int:
        """Stop a task's personal link (e.g. it was forwarded to the wrong person).

        The task's link generation goes up, so every older token stops working. With
        ``reissue`` a link for the new generation is made and mailed to the party again (an
        ``invitation`` or ``approval_request`` with the generation as its sequence); without
        it nobody has a working link until the next re-issue. Returns the new generation.
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            _stage(s, row, bound, stage_id)
            task = _task(s, row, stage_id, party, step)
            old = task.link_generation
            for link in s.scalars(
                select(LinkRow).where(
                    LinkRow.process_id == row.id,
                    LinkRow.stage_id == stage_id,
                    LinkRow.party == party,
                    LinkRow.step == step,
                    LinkRow.revoked_at.is_(None),
                )
            ):
                link.revoked_at = at
            task.link_generation = old + 1
            _event(
                s,
                row,
                at,
                actor,
                "link_reissued" if reissue else "link_revoked",
                stage=stage_id,
                party=party,
                step=step,
                reason=reason,
                data={"from": old, "to": task.link_generation},
            )
            if reissue and task.status != "pending":
                link_ctx = self._issue_link(s, row, task, at)
                bst = bound.stage(stage_id)
                deadline = task.deadline_override or bst.deadline
                contact = bound.bundle.parties.get(party)
                definition = bst.definition
                first = "approval_request" if task.kind == "approval" else "invitation"
                extra: dict[str, Any] = {
                    "deadline": _iso(deadline),
                    "link": link_ctx,
                    "reissued": True,
                }
                if isinstance(definition, QuestionnaireStage):
                    extra |= {
                        "questionnaire": definition.questionnaire,
                        "accept_late": definition.accept_late,
                    }
                else:
                    extra["body"] = step
                self._enqueue(
                    s,
                    row,
                    bound,
                    at,
                    first,
                    stage_id,
                    party,
                    step,
                    old,
                    contact.addresses(getattr(definition, "recipients", "committee_secretary")),
                    extra,
                    thread=_key(row, stage_id, party, step, first, 0),
                )
            return task.link_generation

    def record_upload(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str,
        file: Mapping[str, Any],
        *,
        at: datetime,
        actor: str,
    ) -> None:
        """Audit a file received through a personal link ({filename, stored_as, sha256,
        size}): an approval's minutes are recorded by name and hash only, so this event is
        where the stored copy is found again."""
        with self.db.transaction() as s:
            row = _process(s, key)
            _event(
                s,
                row,
                at,
                actor,
                "file_uploaded",
                stage=stage_id,
                party=party,
                step=step,
                data=dict(file),
            )

    # ------------------------------------------------------------------ internals

    def _advance(
        self, s: Session, row: ProcessRow, at: datetime, actor: str, applied: list[Applied]
    ) -> None:
        """Plan and apply until nothing more is due at ``at``; then store the next due time."""
        bound = bound_for(row)
        stages, tasks = _loaded(s, row)
        for _ in range(MAX_ROUNDS_PER_TICK):
            p = plan(bound, _view(row, stages, tasks, bound), at)
            if not p.actions:
                row.next_due_at = p.next_due
                row.updated_at = at
                return
            first = p.actions[0].due_at  # sorted by due time
            for action in p.actions:
                if action.due_at > first:
                    break  # re-plan: what fell due first may change what is due next
                self._apply(s, row, bound, stages, tasks, action, at, actor)
                applied.append(Applied(row.key, action, at))
        raise AftaleflowError(f"process {row.key}: the planner did not settle; please report this")

    def _apply(
        self,
        s: Session,
        row: ProcessRow,
        bound: BoundProcess,
        stages: dict[str, StageRow],
        tasks: dict[tuple[str, str, str], TaskRow],
        a: Action,
        at: datetime,
        actor: str,
    ) -> None:
        late = {"due_at": a.due_at.isoformat(), "late_by_s": int((at - a.due_at).total_seconds())}
        if a.kind == OPEN_STAGE:
            st = stages[a.stage]
            st.status = machines.fire("stage", st.status, "open")
            st.opened_at = at
            bst = bound.stage(a.stage)
            for t in _new_tasks(row, bound, bst):
                s.add(t)
                tasks[(t.stage_id, t.party, t.step)] = t
            _event(s, row, at, actor, "stage_opened", stage=a.stage, data=late)
            self._invite_to_events(s, row, bound, bst, at)
        elif a.kind == COMPLETE_STAGE:
            self._complete_stage(s, row, stages[a.stage], at, actor, a.reason, late)
        elif a.kind == COMPLETE_PROCESS:
            row.status = machines.fire("process", row.status, "complete")
            _event(s, row, at, actor, "process_completed", data=late)
        elif a.kind == SUBMIT_AGREEMENT:
            st = stages[a.stage]
            st.submitted_at = at
            sub = bound.stage(a.stage).definition
            assert isinstance(sub, SubmissionStage)
            record = [
                {
                    "party": t.party,
                    "party_name": bound.bundle.parties.get(t.party).name,
                    "step": t.step,
                    "status": t.status,
                    **(t.decision or {}),
                }
                for t in sorted(tasks.values(), key=lambda t: (t.stage_id, t.party, t.seq))
                if t.kind == "approval"
            ]
            self._enqueue(
                s,
                row,
                bound,
                at,
                "submission",
                a.stage,
                "",
                "",
                0,
                [sub.recipient],
                {
                    "approvals": record,
                    "recipient": sub.recipient.name,
                    "document": _document_info(s, row),
                },
            )
            _event(
                s,
                row,
                at,
                actor,
                "agreement_submitted",
                stage=a.stage,
                data={**late, "recipient": sub.recipient.email, "approvals": len(record)},
            )
        else:
            t = tasks[a.task]
            self._apply_task(s, row, bound, t, a, at, actor, late)

    def _apply_task(
        self,
        s: Session,
        row: ProcessRow,
        bound: BoundProcess,
        t: TaskRow,
        a: Action,
        at: datetime,
        actor: str,
        late: dict[str, Any],
    ) -> None:
        bst = bound.stage(a.stage)
        machine = "approval_step" if t.kind == "approval" else "questionnaire_task"
        party = bound.bundle.parties.get(t.party)
        deadline = t.deadline_override or bst.deadline
        if a.kind == INVITE:
            t.status = machines.fire(machine, t.status, "invite")
            t.invited_at = t.last_mail_at = at
            link = self._issue_link(s, row, t, at)
            definition = bst.definition
            assert isinstance(definition, QuestionnaireStage)
            self._enqueue(
                s,
                row,
                bound,
                at,
                "invitation",
                t.stage_id,
                t.party,
                t.step,
                0,
                party.addresses(definition.recipients),
                {
                    "deadline": _iso(deadline),
                    "link": link,
                    "questionnaire": definition.questionnaire,
                    "accept_late": definition.accept_late,
                },
            )
            _event(s, row, at, actor, "invited", stage=t.stage_id, party=t.party, data=late)
        elif a.kind == REQUEST_APPROVAL:
            t.status = machines.fire(machine, t.status, "request")
            t.invited_at = t.last_mail_at = at
            link = self._issue_link(s, row, t, at)
            definition = bst.definition
            assert isinstance(definition, ApprovalStage)
            self._enqueue(
                s,
                row,
                bound,
                at,
                "approval_request",
                t.stage_id,
                t.party,
                t.step,
                0,
                party.addresses(definition.recipients),
                {"deadline": _iso(deadline), "link": link, "body": t.step},
            )
            _event(
                s,
                row,
                at,
                actor,
                "approval_requested",
                stage=t.stage_id,
                party=t.party,
                step=t.step,
                data=late,
            )
        elif a.kind == REMIND:
            t.status = machines.fire(machine, t.status, "remind")
            t.reminders_done = a.n
            t.last_mail_at = at
            recipients = getattr(bst.definition, "recipients", "committee_secretary")
            first = "approval_request" if t.kind == "approval" else "invitation"
            days = working_days_between(to_local(at).date(), deadline) if deadline else 0
            overdue = working_days_between(deadline, to_local(at).date()) if deadline else 0
            self._enqueue(
                s,
                row,
                bound,
                at,
                "reminder",
                t.stage_id,
                t.party,
                t.step,
                a.n,
                party.addresses(recipients),
                {
                    "deadline": _iso(deadline),
                    "n": a.n,
                    "working_days_left": days,
                    "working_days_late": overdue,
                    "body": t.step,
                    "link": {"generation": t.link_generation},
                    "reminds": first,
                },
                thread=_key(row, t.stage_id, t.party, t.step, first, 0),
            )
            _event(
                s,
                row,
                at,
                actor,
                "reminded",
                stage=t.stage_id,
                party=t.party,
                step=t.step,
                data={**late, "n": a.n},
            )
        elif a.kind == SKIP_REMINDER:
            t.reminders_done = a.n
            _event(
                s,
                row,
                at,
                actor,
                "reminder_skipped",
                stage=t.stage_id,
                party=t.party,
                step=t.step,
                reason=a.reason,
                data={**late, "n": a.n},
            )
        elif a.kind == MARK_OVERDUE:
            t.status = machines.fire(machine, t.status, "mark_overdue")
            _event(s, row, at, actor, "overdue", stage=t.stage_id, party=t.party, data=late)
        elif a.kind == ESCALATE:
            t.status = machines.fire(machine, t.status, "escalate")
            t.escalated = True
            overdue = working_days_between(deadline, to_local(at).date()) if deadline else 0
            self._enqueue(
                s,
                row,
                bound,
                at,
                "escalation",
                t.stage_id,
                t.party,
                t.step,
                0,
                party.addresses("director"),
                {
                    "deadline": _iso(deadline),
                    "working_days_late": overdue,
                    "committee": [c.model_dump() for c in party.addresses("committee_secretary")],
                },
            )
            _event(s, row, at, actor, "escalated", stage=t.stage_id, party=t.party, data=late)
        else:  # pragma: no cover - the planner knows no other kinds
            raise AftaleflowError(f"unknown action {a.kind}")

    def _complete_stage(
        self,
        s: Session,
        row: ProcessRow,
        st: StageRow,
        at: datetime,
        actor: str,
        reason: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        st.status = machines.fire("stage", st.status, "complete")
        st.closed_at = at
        cancelled = _cancel_queued(
            s,
            OutboxRow.process_id == row.id,
            OutboxRow.stage_id == st.stage_id,
            OutboxRow.kind == "reminder",
        )
        _event(
            s,
            row,
            at,
            actor,
            "stage_completed",
            stage=st.stage_id,
            reason=reason,
            data={**(data or {}), "reminders_cancelled": cancelled},
        )

    def _invite_to_events(
        self, s: Session, row: ProcessRow, bound: BoundProcess, bst: BoundStage, at: datetime
    ) -> None:
        roles = list(getattr(bst.definition, "invite", []) or [])
        if not roles or not bst.events:
            return
        for party_slug in bound.bundle.participants:
            party = bound.bundle.parties.get(party_slug)
            recipients = [c for r in roles for c in party.addresses(r)]
            if not recipients:
                continue
            for i, ev in enumerate(bst.events):
                self._enqueue(
                    s,
                    row,
                    bound,
                    at,
                    "meeting_invitation",
                    bst.id,
                    party_slug,
                    ev.id,
                    0,
                    recipients,
                    {
                        "event": {
                            "id": ev.id,
                            "title": ev.title,
                            "start": ev.start.isoformat(),
                            "end": ev.end.isoformat(),
                            "location": ev.location,
                            "sequence": 0,
                            "method": "REQUEST",
                            "index": i,
                        }
                    },
                )

    def _notify_secretariat(
        self,
        s: Session,
        row: ProcessRow,
        bound: BoundProcess,
        at: datetime,
        kind: str,
        stage: str,
        party: str,
        step: str,
        extra: dict[str, Any],
    ) -> None:
        n = (
            s.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(
                    OutboxRow.process_id == row.id,
                    OutboxRow.kind == kind,
                    OutboxRow.party == party,
                    OutboxRow.stage_id == stage,
                    OutboxRow.step == step,
                )
            )
            or 0
        )
        self._enqueue(
            s,
            row,
            bound,
            at,
            kind,
            stage,
            party,
            step,
            n,
            [bound.bundle.parties.secretariat],
            extra,
        )

    def _issue_link(self, s: Session, row: ProcessRow, t: TaskRow, at: datetime) -> dict[str, Any]:
        token = make_token(self.link_secret, row.id, t.stage_id, t.party, t.step, t.link_generation)
        digest = token_hash(token)
        with s.no_autoflush:  # nothing pending can make this link exist: no flush per invitation
            exists = s.scalar(select(LinkRow.id).where(LinkRow.token_hash == digest))
        if exists is None:
            s.add(
                LinkRow(
                    token_hash=digest,
                    process_id=row.id,
                    stage_id=t.stage_id,
                    party=t.party,
                    step=t.step,
                    generation=t.link_generation,
                    created_at=at,
                )
            )
        return {"generation": t.link_generation}

    def _enqueue(
        self,
        s: Session,
        row: ProcessRow,
        bound: BoundProcess,
        at: datetime,
        kind: str,
        stage: str,
        party: str,
        step: str,
        seq: int,
        recipients: Iterable[Contact],
        extra: dict[str, Any],
        thread: str | None = None,
    ) -> None:
        bst = bound.stage(stage) if stage else None
        party_name = (
            bound.bundle.parties.get(party).name if party in bound.bundle.parties.by_slug else ""
        )
        sec = bound.bundle.parties.secretariat
        context = {
            "process_id": row.id,
            "process_key": row.key,
            "title": row.title,
            "year": row.year,
            "stage_id": stage,
            "stage_name": bst.definition.name if bst else "",
            "forum": bst.definition.forum if bst else "",
            "party": party,
            "party_name": party_name,
            "step": step,
            "secretariat": {"name": sec.name, "email": sec.email},
            "planned_at": at.isoformat(),
            **extra,
        }
        send_after = next_office_moment(at, bound.office_hour, bound.office_end)
        s.add(
            OutboxRow(
                process_id=row.id,
                idempotency_key=_key(row, stage, party, step, kind, seq),
                kind=kind,
                stage_id=stage,
                party=party,
                step=step,
                seq=seq,
                recipients=[{"name": c.name, "email": c.email} for c in recipients],
                context=context,
                thread_key=thread,
                status="queued",
                created_at=at,
                send_after=send_after,
                next_attempt_at=send_after,
            )
        )


# ---------------------------------------------------------------------- helpers


def _cancel_queued(s: Session, *where: ColumnElement[bool]) -> int:
    """Cancel queued mails in ONE conditional update: a mail a sender has already claimed
    (status ``sending``) is not touched, so nothing is both cancelled and sent."""
    result = s.execute(
        update(OutboxRow)
        .where(OutboxRow.status == "queued", *where)
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _document_info(s: Session, row: ProcessRow) -> dict[str, Any]:
    """The version put up for approval, as the submission mail names and attaches it."""
    from workflow.storage.models import DocumentRow

    if not row.approval_document_hash:
        return {}
    doc = s.scalar(
        select(DocumentRow)
        .where(DocumentRow.process_id == row.id, DocumentRow.sha256 == row.approval_document_hash)
        .order_by(DocumentRow.version.desc())
    )
    if doc is None:
        return {"sha256": row.approval_document_hash}
    return {
        "id": doc.id,
        "version": doc.version,
        "filename": doc.filename,
        "sha256": doc.sha256,
        "media_type": doc.media_type,
        "size": doc.size,
    }


def _key(row: ProcessRow, stage: str, party: str, step: str, kind: str, seq: int) -> str:
    """The idempotency key of a mail: (process, stage, party, step, kind, sequence)."""
    return f"p{row.id}/{stage}/{party}/{step}/{kind}/{seq}"


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def _event(
    s: Session,
    row: ProcessRow | None,
    at: datetime,
    actor: str,
    kind: str,
    *,
    stage: str = "",
    party: str = "",
    step: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    s.add(
        EventRow(
            process_id=row.id if row else None,
            at=at,
            recorded_at=system_clock(),
            actor=actor,
            kind=kind,
            stage_id=stage,
            party=party,
            step=step,
            reason=reason,
            data=data or {},
        )
    )


def _process(s: Session, key: str) -> ProcessRow:
    """The process, locked for this transaction (PostgreSQL: advisory lock per process)."""
    if s.get_bind().dialect.name != "postgresql":  # SQLite serialises writers: nothing to lock
        found = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        if found is not None:
            return found
    pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
    if pid is None:
        known = list(s.scalars(select(ProcessRow.key)))
        hint = (
            f"; known processes: {', '.join(known)}"
            if known
            else "; start one with `aftaleflow start`"
        )
        raise NotFound(f"no process {key!r}{hint}")
    lock_process(s, pid)
    row = s.get(ProcessRow, pid)
    assert row is not None
    return row


def _loaded(
    s: Session, row: ProcessRow
) -> tuple[dict[str, StageRow], dict[tuple[str, str, str], TaskRow]]:
    """The process's stages and tasks, loaded once per transaction (a session is one)."""
    key = ("aftaleflow.loaded", row.id)
    got = s.info.get(key)
    if got is None:
        stages = {
            st.stage_id: st
            for st in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
        }
        tasks = {
            (t.stage_id, t.party, t.step): t
            for t in s.scalars(select(TaskRow).where(TaskRow.process_id == row.id))
        }
        got = s.info[key] = (stages, tasks)
    return got


def _stage(s: Session, row: ProcessRow, bound: BoundProcess, stage_id: str) -> StageRow:
    st = _loaded(s, row)[0].get(stage_id)
    if st is None:
        from workflow.loader import suggest

        ids = [x.id for x in bound.stages]
        raise NotFound(f"process {row.key} has no stage {stage_id!r}{suggest(stage_id, ids)}")
    return st


def _task(s: Session, row: ProcessRow, stage_id: str, party: str, step: str) -> TaskRow:
    t = _loaded(s, row)[1].get((stage_id, party, step))
    if t is None:
        raise NotFound(
            f"{party!r} has no task {step or ''} in stage {stage_id!r} (yet)".replace("  ", " ")
        )
    return t


def _new_tasks(row: ProcessRow, bound: BoundProcess, bst: BoundStage) -> list[TaskRow]:
    d = bst.definition
    out: list[TaskRow] = []
    for slug in bound.bundle.participants:
        if isinstance(d, QuestionnaireStage):
            out.append(
                TaskRow(
                    process_id=row.id,
                    stage_id=d.id,
                    party=slug,
                    step="",
                    seq=0,
                    kind="questionnaire",
                    status="pending",
                    reminders_done=0,
                    escalated=False,
                    link_generation=1,
                )
            )
        elif isinstance(d, ApprovalStage):
            kind = bound.bundle.parties.get(slug).kind
            for i, body in enumerate(d.chains.get(kind, [])):
                out.append(
                    TaskRow(
                        process_id=row.id,
                        stage_id=d.id,
                        party=slug,
                        step=body,
                        seq=i,
                        kind="approval",
                        status="pending",
                        reminders_done=0,
                        escalated=False,
                        link_generation=1,
                    )
                )
    return out


def document_conflict(row: ProcessRow, tasks: Iterable[TaskRow]) -> str:
    """Why the agreement cannot be submitted: an approval of another version than the one up."""
    wanted = row.approval_document_hash
    if not wanted:
        return ""
    for t in tasks:
        got = (t.decision or {}).get("document_hash", "")
        if t.kind == "approval" and t.status == "approved" and got != wanted:
            return (
                f"{t.party} ({t.step}) godkendte version {got[:12] or 'uden version'}, "
                f"ikke {wanted[:12]}, der er sendt til godkendelse"
            )
    return ""


def _view(
    row: ProcessRow,
    stages: dict[str, StageRow],
    tasks: dict[tuple[str, str, str], TaskRow],
    bound: BoundProcess,
) -> ProcessView:
    deadlines = {s.id: s.deadline for s in bound.stages}
    return ProcessView(
        document_conflict=document_conflict(row, tasks.values()),
        status=row.status,
        stages={
            k: StageView(k, v.status, v.opened_at, v.closed_at, v.submitted_at is not None)
            for k, v in stages.items()
        },
        tasks={
            k: TaskView(
                t.stage_id,
                t.party,
                t.step,
                t.seq,
                t.status,
                t.deadline_override or deadlines.get(t.stage_id),
                t.reminders_done,
                t.last_mail_at,
                t.escalated,
                t.decided_at,
            )
            for k, t in tasks.items()
        },
    )


def _guarded_stage(
    s: Session, key: str, stage_id: str, trigger: str, doing: str, only: str
) -> tuple[ProcessRow, BoundProcess, StageRow]:
    """The process and stage for a manual stage change, refused unless the machine allows it."""
    row = _process(s, key)
    _require_running(row, doing)
    bound = bound_for(row)
    stage = _stage(s, row, bound, stage_id)
    if not machines.can("stage", stage.status, trigger):
        raise GuardRefused(f"stage {stage_id!r} is {stage.status}; only {only}")
    return row, bound, stage


def _require_running(row: ProcessRow, what: str) -> None:
    if row.status != "running":
        raise GuardRefused(f"process {row.key} is {row.status}; {what} only while it runs")


def _stage_rows(s: Session, row: ProcessRow) -> dict[str, StageRow]:
    return _loaded(s, row)[0]


def _key_of(s: Session, process_id: int) -> str:
    key = s.scalar(select(ProcessRow.key).where(ProcessRow.id == process_id))
    if key is None:
        raise NotFound(f"no process with id {process_id}")
    return key
