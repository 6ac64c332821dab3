"""Read models: where every process, stage and party stands. Read-only; no state changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.errors import NotFound
from workflow.storage.models import (
    ContactStatusRow,
    EventRow,
    OutboxRow,
    ProcessRow,
    SchedulerStateRow,
    StageRow,
    TaskRow,
)
from workflow.timeline import BoundProcess


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


def process_status(s: Session, key: str, bound: BoundProcess) -> ProcessStatus:
    row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
    if row is None:
        raise NotFound(f"no process {key!r}")
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
        submission_refused=document_conflict(row, all_tasks),
    )


def events(s: Session, key: str | None = None, limit: int = 200) -> list[EventRow]:
    q = select(EventRow).order_by(EventRow.id.desc()).limit(limit)
    if key is not None:
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
        q = q.where(EventRow.process_id == pid)
    return list(s.scalars(q))
