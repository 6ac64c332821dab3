"""Read models: where every process, stage and party stands. Read-only; no state changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.calendar import to_local, working_days_between
from workflow.definition import DecisionStage
from workflow.errors import NotFound
from workflow.planner import past_deadline
from workflow.storage.models import (
    ContactStatusRow,
    EventRow,
    OutboxRow,
    ProcessRow,
    SchedulerStateRow,
    StageRow,
    TaskRow,
)
from workflow.timeline import BoundProcess, BoundStage


@dataclass(frozen=True)
class StageStatus:
    id: str
    name: str
    forum: str
    kind: str
    status: str
    opens_at: datetime
    closes_at: datetime | None
    deadline: date | None
    opened_at: datetime | None
    closed_at: datetime | None
    outcome: dict[str, Any] | None
    #: The meetings or workshops still to be held as planned (``workflow.live_plan``).
    events: tuple[Any, ...] = ()
    planned: bool = False
    """Its dates follow a stage not yet recorded: shown as "planlagt" (``workflow.follows``)."""
    waiting: tuple[str, str] | None = None
    """(Danish, English) "afventer KKR's beslutning" while it cannot open."""
    decided: tuple[tuple[str, str], ...] = ()
    """The values its decision recorded, as (label, chosen labels)."""


@dataclass(frozen=True)
class Cell:
    """One party in one stage: a badge (a task status) and a detail (the approval step)."""

    badge: str
    detail: str = ""
    deadline: date | None = None


@dataclass(frozen=True)
class PartyRow:
    slug: str
    name: str
    cells: dict[str, Cell]


@dataclass
class ProcessStatus:
    key: str
    title: str
    year: int
    status: str
    definition: str
    definition_hash: str
    next_due_at: datetime | None
    stages: list[StageStatus]
    parties: list[PartyRow]
    counts: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    failing_contacts: list[tuple[str, str]] = field(default_factory=list)
    last_tick: dict[str, Any] | None = None
    document_hash: str | None = None
    submission_refused: str = ""
    #: Approval stages (names) that cannot open until a version of the agreement is put up.
    waiting_for_agreement: list[str] = field(default_factory=list)


def processes(s: Session) -> list[ProcessRow]:
    return list(s.scalars(select(ProcessRow).order_by(ProcessRow.created_at, ProcessRow.id)))


def approval_badge(steps: list[TaskRow]) -> Cell:
    steps = sorted(steps, key=lambda t: t.seq)
    if any(t.status == "rejected" for t in steps):
        bad = next(t for t in steps if t.status == "rejected")
        return Cell("rejected", bad.step)
    if all(t.status in ("approved", "exempt") for t in steps):
        return Cell(
            "exempt" if all(t.status == "exempt" for t in steps) else "approved",
            steps[-1].step if steps else "",
        )
    current = next(t for t in steps if t.status not in ("approved", "exempt"))
    return Cell(current.status, current.step, current.deadline_override)


def _waiting(bound: BoundProcess, sid: str, status: str) -> tuple[str, str] | None:
    return bound.waiting(sid) if status == "pending" else None


def decided_labels(b: BoundStage, outcome: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """The values a decision recorded, as (label, the chosen options' labels)."""
    d = b.definition
    values = (outcome or {}).get("values") or {}
    if not isinstance(d, DecisionStage) or not values:
        return ()
    return tuple(
        (spec.label, ", ".join(spec.label_of(v) for v in values.get(key, [])))
        for key, spec in d.decides.items()
        if key in values
    )


def process_status(s: Session, key: str, bound: BoundProcess) -> ProcessStatus:
    row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
    if row is None:
        raise NotFound(f"Processen {key!r} findes ikke.", en=f"No process {key!r}.")
    stage_rows = {
        r.stage_id: r for r in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
    }
    stages = [
        StageStatus(
            b.id,
            b.definition.name,
            b.definition.forum,
            b.kind,
            stage_rows[b.id].status if b.id in stage_rows else "pending",
            b.opens_at,
            b.closes_at,
            b.deadline,
            stage_rows[b.id].opened_at if b.id in stage_rows else None,
            stage_rows[b.id].closed_at if b.id in stage_rows else None,
            stage_rows[b.id].outcome if b.id in stage_rows else None,
            b.events,
            b.planned,
            _waiting(bound, b.id, stage_rows[b.id].status if b.id in stage_rows else "pending"),
            decided_labels(b, stage_rows[b.id].outcome if b.id in stage_rows else None),
        )
        for b in bound.stages
    ]
    tasks: dict[tuple[str, str], list[TaskRow]] = {}
    for t in s.scalars(select(TaskRow).where(TaskRow.process_id == row.id)):
        tasks.setdefault((t.party, t.stage_id), []).append(t)
    counts: dict[str, int] = {}
    parties: list[PartyRow] = []
    per_party_stages = [b for b in bound.stages if b.kind in ("questionnaire", "approval")]
    for slug in bound.bundle.participants:
        party = bound.bundle.parties.get(slug)
        cells: dict[str, Cell] = {}
        for b in per_party_stages:
            ts = tasks.get((slug, b.id), [])
            if not ts:
                cell = Cell("not_invited")
            elif b.kind == "approval":
                cell = approval_badge(ts)
            else:
                cell = Cell(ts[0].status, "", ts[0].deadline_override)
            cells[b.id] = cell
            counts[cell.badge] = counts.get(cell.badge, 0) + 1
        parties.append(PartyRow(slug, party.name, cells))
    outbox = dict(
        s.execute(
            select(OutboxRow.status, func.count())
            .where(OutboxRow.process_id == row.id)
            .group_by(OutboxRow.status)
        )
        .tuples()
        .all()
    )
    failing = [
        (c.address, c.reason)
        for c in s.scalars(select(ContactStatusRow).where(ContactStatusRow.status == "failing"))
    ]
    tick = s.get(SchedulerStateRow, "last_tick")
    from workflow.service import document_conflict

    all_tasks = [t for ts in tasks.values() for t in ts]
    return ProcessStatus(
        key=row.key,
        title=row.title,
        year=row.year,
        status=row.status,
        definition=f"{row.definition_id} v{row.definition_version}",
        definition_hash=row.definition_hash,
        next_due_at=row.next_due_at,
        stages=stages,
        parties=parties,
        counts=counts,
        outbox=outbox,
        failing_contacts=failing,
        last_tick=tick.value if tick else None,
        document_hash=row.approval_document_hash,
        submission_refused=document_conflict(row.approval_document_hash, all_tasks),
        waiting_for_agreement=[
            sg.name
            for sg in stages
            if sg.kind == "approval" and sg.status == "pending" and row.status == "running"
        ]
        if not row.approval_document_hash
        else [],
    )


def events(s: Session, key: str | None = None, limit: int = 200) -> list[EventRow]:
    q = select(EventRow).order_by(EventRow.id.desc()).limit(limit)
    if key is not None:
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
        q = q.where(EventRow.process_id == pid)
    return list(s.scalars(q))


# ---------------------------------------------------------------------- what comes next


@dataclass(frozen=True)
class UpcomingMail:
    """A mail the engine will plan on its own: ``party`` is empty when it goes to every
    participant (the invitations of a stage that has not opened yet)."""

    at: datetime
    kind: str  # invitation | approval_request | reminder | escalation | meeting_invitation
    stage_id: str
    stage_name: str
    party: str = ""
    party_name: str = ""
    step: str = ""
    n: int = 0


@dataclass(frozen=True)
class OverdueTask:
    """A party past its (possibly extended) deadline that has not answered or decided."""

    stage_id: str
    stage_name: str
    party: str
    party_name: str
    step: str
    status: str
    deadline: date
    days_late: int
    working_days_late: int
    escalated: bool


def _task_deadline(t: TaskRow, bst: BoundStage) -> date | None:
    return t.deadline_or(bst.deadline)


def upcoming_mails(s: Session, row: ProcessRow, bound: BoundProcess) -> list[UpcomingMail]:
    """The next automatic mail of every task, and the invitations of the stages to come,
    derived from the same timeline the planner uses (earliest first). A time in the past
    means the mail is due and goes out at the next tick."""
    if row.status != "running":
        return []
    stage_rows = {
        r.stage_id: r for r in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
    }
    by_stage: dict[str, list[TaskRow]] = {}
    for t in s.scalars(
        select(TaskRow).where(TaskRow.process_id == row.id).order_by(TaskRow.party, TaskRow.seq)
    ):
        by_stage.setdefault(t.stage_id, []).append(t)
    names = {p.slug: p.name for p in bound.bundle.parties.parties}
    out: list[UpcomingMail] = []
    for bst in bound.stages:
        sr = stage_rows.get(bst.id)
        status = sr.status if sr else "pending"
        name = bst.definition.name
        if status == "pending":
            first = _first_mail(bst)
            if first is not None:
                out.append(UpcomingMail(first[0], first[1], bst.id, name))
            continue
        if status != "open":
            continue
        chains: dict[str, list[TaskRow]] = {}
        for t in by_stage.get(bst.id, []):
            chains.setdefault(t.party, []).append(t)
        for party, steps in chains.items():
            current = next((t for t in steps if t.status not in ("approved", "exempt")), None)
            if current is None:
                continue
            mail = _next_task_mail(bound, bst, sr, current)
            if mail is not None:
                out.append(
                    UpcomingMail(
                        mail[0],
                        mail[1],
                        bst.id,
                        name,
                        party,
                        names.get(party, party),
                        current.step,
                        mail[2],
                    )
                )
    out.sort(key=lambda m: (m.at, m.stage_id, m.party))
    return out


def _first_mail(bst: BoundStage) -> tuple[datetime, str] | None:
    if bst.kind == "questionnaire":
        return (bst.send_at or bst.opens_at, "invitation")
    if bst.kind == "approval":
        return (bst.opens_at, "approval_request")
    if bst.events and getattr(bst.definition, "invite", None):
        return (bst.opens_at, "meeting_invitation")
    return None


def _next_task_mail(
    bound: BoundProcess, bst: BoundStage, sr: StageRow | None, t: TaskRow
) -> tuple[datetime, str, int] | None:
    opened = (sr.opened_at if sr else None) or bst.opens_at
    if t.status == "pending":
        if bst.kind == "questionnaire":
            return (max(bst.send_at or bst.opens_at, opened), "invitation", 0)
        return None  # an approval step waits for the step before it
    deadline = _task_deadline(t, bst)
    if deadline is None:
        return None
    options: list[tuple[datetime, str, int]] = []
    moments = bound.reminder_moments(bst, deadline)
    waiting = ("invited", "opened", "draft", "overdue", "requested", "postponed")
    if t.status in waiting and t.reminders_done < len(moments):
        options.append((moments[t.reminders_done], "reminder", t.reminders_done + 1))
    if t.kind == "questionnaire" and t.status in ("invited", "opened", "draft", "overdue"):
        esc = bound.escalation_at(bst, deadline)
        if esc is not None and not t.escalated:
            options.append((esc, "escalation", 0))
    return min(options) if options else None


def overdue_tasks(
    s: Session, row: ProcessRow, bound: BoundProcess, at: datetime
) -> list[OverdueTask]:
    """Every party past its deadline in an open stage, the latest first."""
    stage_status = dict(
        s.execute(select(StageRow.stage_id, StageRow.status).where(StageRow.process_id == row.id))
        .tuples()
        .all()
    )
    names = {p.slug: p.name for p in bound.bundle.parties.parties}
    today = to_local(at).date()
    out: list[OverdueTask] = []
    waiting = ("invited", "opened", "draft", "overdue", "requested", "postponed")
    for t in s.scalars(
        select(TaskRow).where(TaskRow.process_id == row.id, TaskRow.status.in_(waiting))
    ):
        if stage_status.get(t.stage_id) != "open":
            continue
        bst = bound.stage(t.stage_id)
        deadline = _task_deadline(t, bst)
        if deadline is None or (t.status != "overdue" and not past_deadline(bound, deadline, at)):
            continue
        out.append(
            OverdueTask(
                t.stage_id,
                bst.definition.name,
                t.party,
                names.get(t.party, t.party),
                t.step,
                t.status,
                deadline,
                max((today - deadline).days, 0),
                working_days_between(deadline, today),
                t.escalated,
            )
        )
    out.sort(key=lambda o: (-o.days_late, o.party_name))
    return out
