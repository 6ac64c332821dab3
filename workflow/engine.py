"""The engine behind the service: starting, ticking, planning and applying, in ONE transaction.

A tick asks the planner what is due, applies it (state, an audit event per change, an outbox
row per mail) and commits. The human acts (``workflow.acts``), answers (``workflow.answering``)
and the agreement document (``workflow.documents``) build on the same internals, and
``workflow.service.Service`` puts them together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
from workflow.storage import records
from workflow.storage.appends import append
from workflow.storage.db import Database
from workflow.storage.locks import lock_process
from workflow.storage.models import (
    TABLES,
    OutboxRow,
    ProcessRow,
    TaskRow,
)
from workflow.storage.records import ProcessRecord, StageRecord, TaskRecord
from workflow.timeline import BoundEvent, BoundProcess, BoundStage, bind

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


def bound_for(row: ProcessRow | ProcessRecord) -> BoundProcess:
    """The bound definition a process was started from (never the file as it is now).

    Cached by (content hash, year): the hash names the snapshot's content exactly. A
    record (the engine's) comes without its snapshot; ``_process`` has bound it already.
    """
    key = (row.definition_hash, row.year)
    got = _BOUND_BY_HASH.get(key)
    if got is None:
        if isinstance(row, ProcessRecord):  # pragma: no cover - _process binds it first
            raise AftaleflowError(f"process {row.key}: its definition was not loaded")
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


class Engine:
    """Starting and ticking processes, and the internals every command applies its change with.
    ``link_secret`` derives personal-link tokens."""

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
            row = records.created(
                s,
                {
                    "key": key,
                    "title": bound.title,
                    "year": year,
                    "definition_id": bundle.process.id,
                    "definition_version": bundle.process.version,
                    "definition_hash": bundle.hash,
                    "definition_path": bundle.path,
                    "definition_snapshot": bundle.snapshot(),
                    "status": "running",
                    "approval_document_hash": None,
                    "created_at": at,
                    "updated_at": at,
                    "next_due_at": None,
                    "row_version": 1,
                },
            )
            stages = records.new_process_state(s, row.id)[0]
            for st in bound.stages:
                stage = StageRecord(
                    process_id=row.id, stage_id=st.id, seq=st.index, kind=st.kind, status="pending"
                )
                records.add(s, stage)
                stages[st.id] = stage
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
            key_ = (row.definition_hash, row.year)
            if key_ not in _BOUND_BY_HASH:  # bound from the snapshot, as every later command
                _BOUND_BY_HASH[key_] = _bound(bundle.snapshot(), year)
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

    # ------------------------------------------------------------------ internals

    def _advance(
        self, s: Session, row: ProcessRecord, at: datetime, actor: str, applied: list[Applied]
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
        row: ProcessRecord,
        bound: BoundProcess,
        stages: dict[str, StageRecord],
        tasks: dict[tuple[str, str, str], TaskRecord],
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
                records.add(s, t)
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
        row: ProcessRecord,
        bound: BoundProcess,
        t: TaskRecord,
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
                {
                    "deadline": _iso(deadline),
                    "link": link,
                    "body": t.step,
                    "document": _document_info(s, row),
                },
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
                _next_seq(s, row, "reminder", t, a.n),
                party.addresses(recipients),
                {
                    "deadline": _iso(deadline),
                    "n": a.n,
                    "working_days_left": days,
                    "working_days_late": overdue,
                    "body": t.step,
                    "link": {"generation": t.link_generation},
                    "reminds": first,
                    **({"document": _document_info(s, row)} if t.kind == "approval" else {}),
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
                _next_seq(s, row, "escalation", t, 0),  # again after an extension
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
        row: ProcessRecord,
        st: StageRecord,
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
        self, s: Session, row: ProcessRecord, bound: BoundProcess, bst: BoundStage, at: datetime
    ) -> None:
        roles = list(getattr(bst.definition, "invite", []) or [])
        if not roles or not bst.events:
            return
        events = _events_to_invite_to(s, row, bst, at)
        for party_slug in bound.bundle.participants:
            party = bound.bundle.parties.get(party_slug)
            recipients = [c for r in roles for c in party.addresses(r)]
            if not recipients:
                continue
            for i, ev in events:
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
        row: ProcessRecord,
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

    def _issue_link(
        self, s: Session, row: ProcessRecord, t: TaskRecord, at: datetime
    ) -> dict[str, Any]:
        token = make_token(self.link_secret, row.id, t.stage_id, t.party, t.step, t.link_generation)
        # a link of the same generation may exist already (a stage reopened): kept as it is
        append(
            s,
            _insert_link(s),
            {
                "token_hash": token_hash(token),
                "process_id": row.id,
                "stage_id": t.stage_id,
                "party": t.party,
                "step": t.step,
                "generation": t.link_generation,
                "created_at": at,
                "revoked_at": None,
            },
        )
        return {"generation": t.link_generation}

    def _enqueue(
        self,
        s: Session,
        row: ProcessRecord,
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
        append(
            s,
            _INSERT_OUTBOX,
            {
                "process_id": row.id,
                "idempotency_key": _key(row, stage, party, step, kind, seq),
                "kind": kind,
                "stage_id": stage,
                "party": party,
                "step": step,
                "seq": seq,
                "recipients": [{"name": c.name, "email": c.email} for c in recipients],
                "context": context,
                "thread_key": thread,
                "status": "queued",
                "created_at": at,
                "send_after": send_after,
                "next_attempt_at": send_after,
                "attempts": 0,
                "message_id": None,
                "claimed_at": None,
                "sent_at": None,
                "last_error": None,
                "smtp_reply": None,
            },
        )


# ---------------------------------------------------------------------- helpers

#: The append-only rows, written in bulk when the transaction reads or commits
#: (``workflow.storage.appends``).
_INSERT_EVENT = insert(TABLES["events"])
_INSERT_OUTBOX = insert(TABLES["outbox"])
_INSERT_LINKS: dict[str, Insert] = {}


def _insert_link(s: Session) -> Insert:
    """INSERT of a personal link that leaves an existing one (same token) as it is."""
    name = s.get_bind().dialect.name
    stmt = _INSERT_LINKS.get(name)
    if stmt is None:
        table = TABLES["links"]
        if name == "postgresql":
            stmt = pg_insert(table).on_conflict_do_nothing(index_elements=["token_hash"])
        elif name == "sqlite":
            stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=["token_hash"])
        else:  # pragma: no cover - the two supported databases are above
            raise AftaleflowError(f"unsupported database {name}")
        stmt = _INSERT_LINKS[name] = stmt
    return stmt


def _cancel_queued(s: Session, *where: ColumnElement[bool]) -> int:
    """Cancel queued mails in ONE conditional update: a mail a sender has already claimed
    (status ``sending``) is not touched, so nothing is both cancelled and sent."""
    records.write_pending(s)  # what this transaction has queued counts too
    outbox = TABLES["outbox"]
    result = s.connection().execute(
        update(outbox).where(outbox.c.status == "queued", *where).values(status="cancelled")
    )
    return int(result.rowcount or 0)


def _document_info(s: Session, row: ProcessRecord) -> dict[str, Any]:
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


def _events_to_invite_to(
    s: Session, row: ProcessRecord, bst: BoundStage, at: datetime
) -> list[tuple[int, BoundEvent]]:
    """A stage's meetings that have not ended (with their index); a meeting already over when
    the stage opens (a scheduler catching up after downtime) gets no invitation: it is
    recorded as skipped instead."""
    over = [ev.id for ev in bst.events if ev.end <= at]
    if over:
        _event(
            s,
            row,
            at,
            "system",
            "meeting_invitations_skipped",
            stage=bst.id,
            reason="mødet er allerede holdt",
            data={"events": over},
        )
    return [(i, ev) for i, ev in enumerate(bst.events) if ev.end > at]


def _next_seq(s: Session, row: ProcessRecord, kind: str, t: TaskRecord, at_least: int) -> int:
    """The sequence number of a task's next mail of ``kind``: ``at_least`` (the planner's
    count), or past every one it already has, so a deadline moved back (reminders and
    escalations planned again from the new date) never reuses a mail's idempotency key."""
    last = s.scalar(
        select(func.max(OutboxRow.seq)).where(
            OutboxRow.process_id == row.id,
            OutboxRow.kind == kind,
            OutboxRow.stage_id == t.stage_id,
            OutboxRow.party == t.party,
            OutboxRow.step == t.step,
        )
    )
    return at_least if last is None else max(at_least, last + 1)


def _key(row: ProcessRecord, stage: str, party: str, step: str, kind: str, seq: int) -> str:
    """The idempotency key of a mail: (process, stage, party, step, kind, sequence)."""
    return f"p{row.id}/{stage}/{party}/{step}/{kind}/{seq}"


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def _event(
    s: Session,
    row: ProcessRecord | None,
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
    append(
        s,
        _INSERT_EVENT,
        {
            "process_id": row.id if row else None,
            "at": at,
            "recorded_at": system_clock(),
            "actor": actor,
            "kind": kind,
            "stage_id": stage,
            "party": party,
            "step": step,
            "reason": reason,
            "data": data or {},
        },
    )


def _process(s: Session, key: str) -> ProcessRecord:
    """The process, locked for this transaction (PostgreSQL: advisory lock per process)."""
    row = records.process(s, key, lock_process)
    if row is None:
        known = list(s.scalars(select(ProcessRow.key)))
        hint = (
            f"; known processes: {', '.join(known)}"
            if known
            else "; start one with `aftaleflow start`"
        )
        raise NotFound(f"no process {key!r}{hint}")
    if (row.definition_hash, row.year) not in _BOUND_BY_HASH:
        _BOUND_BY_HASH[(row.definition_hash, row.year)] = _bound(
            records.snapshot(s, row.id), row.year
        )
    return row


def _loaded(
    s: Session, row: ProcessRecord
) -> tuple[dict[str, StageRecord], dict[tuple[str, str, str], TaskRecord]]:
    """The process's stages and tasks, loaded once per transaction (``storage.records``)."""
    return records.process_state(s, row.id)


def _stage(s: Session, row: ProcessRecord, bound: BoundProcess, stage_id: str) -> StageRecord:
    st = _loaded(s, row)[0].get(stage_id)
    if st is None:
        from workflow.loader import suggest

        ids = [x.id for x in bound.stages]
        raise NotFound(f"process {row.key} has no stage {stage_id!r}{suggest(stage_id, ids)}")
    return st


def _task(s: Session, row: ProcessRecord, stage_id: str, party: str, step: str) -> TaskRecord:
    t = _loaded(s, row)[1].get((stage_id, party, step))
    if t is None:
        raise NotFound(
            f"{party!r} has no task {step or ''} in stage {stage_id!r} (yet)".replace("  ", " ")
        )
    return t


def _new_tasks(row: ProcessRecord, bound: BoundProcess, bst: BoundStage) -> list[TaskRecord]:
    d = bst.definition
    out: list[TaskRecord] = []
    for slug in bound.bundle.participants:
        if isinstance(d, QuestionnaireStage):
            out.append(
                TaskRecord(
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
                    TaskRecord(
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


#: A task as the engine holds it (a record) or as the read side loads it (an ORM row).
TaskLike = TaskRecord | TaskRow


def document_conflict(row: ProcessRow | ProcessRecord, tasks: Iterable[TaskLike]) -> str:
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
    row: ProcessRecord,
    stages: dict[str, StageRecord],
    tasks: dict[tuple[str, str, str], TaskRecord],
    bound: BoundProcess,
) -> ProcessView:
    deadlines = {s.id: s.deadline for s in bound.stages}
    return ProcessView(
        document_conflict=document_conflict(row, tasks.values()),
        agreement_up=bool(row.approval_document_hash),
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
) -> tuple[ProcessRecord, BoundProcess, StageRecord]:
    """The process and stage for a manual stage change, refused unless the machine allows it."""
    row = _process(s, key)
    _require_running(row, doing)
    bound = bound_for(row)
    stage = _stage(s, row, bound, stage_id)
    if not machines.can("stage", stage.status, trigger):
        raise GuardRefused(f"stage {stage_id!r} is {stage.status}; only {only}")
    return row, bound, stage


def _require_running(row: ProcessRecord, what: str) -> None:
    if row.status != "running":
        raise GuardRefused(f"process {row.key} is {row.status}; {what} only while it runs")


def _stage_rows(s: Session, row: ProcessRecord) -> dict[str, StageRecord]:
    return _loaded(s, row)[0]


def _key_of(s: Session, process_id: int) -> str:
    key = s.scalar(select(ProcessRow.key).where(ProcessRow.id == process_id))
    if key is None:
        raise NotFound(f"no process with id {process_id}")
    return key
