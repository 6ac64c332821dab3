"""Read-only look-ups for the dashboard pages (lists and filters); every change goes through
``workflow.service.Service``. A process, stage or party that does not exist is a 404."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer

from workflow.calendar import local_to_utc
from workflow.definition_parties import Party
from workflow.service import bound_for
from workflow.storage.models import (
    AnswerRow,
    ContactStatusRow,
    DocumentRow,
    EventRow,
    LinkRow,
    OutboxRow,
    ProcessRow,
    TaskRow,
)
from workflow.timeline import BoundProcess, BoundStage

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "cancelled")
#: Rows per page of the outbox and the audit log.
PAGE_SIZE = 100


def process_or_404(s: Session, key: str) -> tuple[ProcessRow, BoundProcess]:
    row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
    if row is None:
        abort(404)
    return row, bound_for(row)


def stage_or_404(bound: BoundProcess, stage_id: str) -> BoundStage:
    try:
        return bound.stage(stage_id)
    except KeyError:
        abort(404)


def party_or_404(bound: BoundProcess, slug: str) -> Party:
    if slug not in bound.bundle.participants:
        abort(404)
    return bound.bundle.parties.get(slug)


def party_names(bound: BoundProcess) -> dict[str, str]:
    return {p.slug: p.name for p in bound.bundle.parties.parties}


def failing_addresses(s: Session) -> dict[str, str]:
    """Address (lower case) → why it is failing."""
    return {
        c.address.lower(): c.reason
        for c in s.scalars(select(ContactStatusRow).where(ContactStatusRow.status == "failing"))
    }


def tasks_of(s: Session, row: ProcessRow, party: str) -> list[TaskRow]:
    return list(
        s.scalars(
            select(TaskRow)
            .where(TaskRow.process_id == row.id, TaskRow.party == party)
            .order_by(TaskRow.stage_id, TaskRow.seq)
        )
    )


def task(s: Session, row: ProcessRow, stage: str, party: str, step: str) -> TaskRow | None:
    return s.scalar(
        select(TaskRow).where(
            TaskRow.process_id == row.id,
            TaskRow.stage_id == stage,
            TaskRow.party == party,
            TaskRow.step == step,
        )
    )


def task_by_id(s: Session, process_id: int, stage: str, party: str, step: str) -> TaskRow | None:
    return s.scalar(
        select(TaskRow).where(
            TaskRow.process_id == process_id,
            TaskRow.stage_id == stage,
            TaskRow.party == party,
            TaskRow.step == step,
        )
    )


def answers_of(s: Session, row: ProcessRow, party: str) -> list[AnswerRow]:
    """Every version (and the draft) of the party's answers, newest first per stage."""
    return list(
        s.scalars(
            select(AnswerRow)
            .where(AnswerRow.process_id == row.id, AnswerRow.party == party)
            .order_by(AnswerRow.stage_id, AnswerRow.version.desc())
        )
    )


def documents(s: Session, row: ProcessRow) -> list[DocumentRow]:
    """The agreement's versions, newest first (without loading their content)."""
    return list(
        s.scalars(
            select(DocumentRow)
            .options(defer(DocumentRow.content))
            .where(DocumentRow.process_id == row.id)
            .order_by(DocumentRow.version.desc())
        )
    )


def document(s: Session, row: ProcessRow, version: int) -> DocumentRow:
    doc = s.scalar(
        select(DocumentRow).where(DocumentRow.process_id == row.id, DocumentRow.version == version)
    )
    if doc is None:
        abort(404)
    return doc


def approval_tasks(s: Session, row: ProcessRow) -> list[TaskRow]:
    return list(
        s.scalars(
            select(TaskRow)
            .where(TaskRow.process_id == row.id, TaskRow.kind == "approval")
            .order_by(TaskRow.party, TaskRow.seq)
        )
    )


def submission_mail(s: Session, row: ProcessRow) -> OutboxRow | None:
    return s.scalar(
        select(OutboxRow)
        .where(OutboxRow.process_id == row.id, OutboxRow.kind == "submission")
        .order_by(OutboxRow.id.desc())
    )


# ---------------------------------------------------------------------- filtered lists


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


def _paged(s: Session, query: Select[Any], page: int) -> Page:
    total = int(s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = list(s.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(rows, total, page, pages)


@dataclass(frozen=True)
class OutboxFilter:
    process: str = ""
    status: str = ""
    kind: str = ""
    party: str = ""
    page: int = 1


def outbox(s: Session, f: OutboxFilter, party: str | None = None) -> Page:
    q = select(OutboxRow).order_by(OutboxRow.id.desc())
    if f.process:
        q = q.where(OutboxRow.process_id == _process_id(s, f.process))
    if f.status:
        q = q.where(OutboxRow.status == f.status)
    if f.kind:
        q = q.where(OutboxRow.kind == f.kind)
    if party or f.party:
        q = q.where(OutboxRow.party == (party or f.party))
    return _paged(s, q, f.page)


def outbox_counts(s: Session, process: str = "") -> dict[str, int]:
    q = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
    if process:
        q = q.where(OutboxRow.process_id == _process_id(s, process))
    return dict(s.execute(q).tuples().all())


def link_generations(s: Session, mails: list[OutboxRow]) -> dict[tuple[Any, ...], int]:
    """The current link generation of each mail's task (or, for a link that is no task's,
    a report link, its newest unrevoked one): an older link no longer works."""
    out: dict[tuple[Any, ...], int] = {}
    for m in mails:
        k = (m.process_id, m.stage_id, m.party, m.step)
        if k not in out and m.process_id is not None:
            t = task_by_id(s, m.process_id, m.stage_id, m.party, m.step)
            out[k] = t.link_generation if t is not None else _link_generation(s, m)
    return out


def _link_generation(s: Session, m: OutboxRow) -> int:
    rows = s.execute(
        select(LinkRow.generation, LinkRow.revoked_at).where(
            LinkRow.process_id == m.process_id,
            LinkRow.stage_id == m.stage_id,
            LinkRow.party == m.party,
            LinkRow.step == m.step,
        )
    ).all()
    newest = max(rows, default=None, key=lambda r: r[0])
    return newest[0] if newest is not None and newest[1] is None else 0


def outbox_kinds(s: Session) -> list[str]:
    return sorted(s.scalars(select(OutboxRow.kind).distinct()))


@dataclass(frozen=True)
class EventFilter:
    process: str = ""
    party: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1
    errors: list[str] = field(default_factory=list)


def events(s: Session, f: EventFilter) -> Page:
    q = select(EventRow).order_by(EventRow.at.desc(), EventRow.id.desc())
    if f.process:
        q = q.where(EventRow.process_id == _process_id(s, f.process))
    if f.party:
        q = q.where(EventRow.party == f.party)
    if f.kind:
        q = q.where(EventRow.kind == f.kind)
    if f.since:
        q = q.where(EventRow.at >= local_to_utc(f.since, time(0, 0)))
    if f.until:
        q = q.where(EventRow.at < local_to_utc(f.until + timedelta(days=1), time(0, 0)))
    return _paged(s, q, f.page)


def event_kinds(s: Session) -> list[str]:
    return sorted(s.scalars(select(EventRow.kind).distinct()))


def event_parties(s: Session) -> list[str]:
    return sorted(p for p in s.scalars(select(EventRow.party).distinct()) if p)


def process_keys(s: Session) -> dict[int, str]:
    rows = s.execute(select(ProcessRow.id, ProcessRow.key).order_by(ProcessRow.id)).tuples()
    return dict(rows.all())


def _process_id(s: Session, key: str) -> int:
    pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
    return pid if pid is not None else -1


def select_process(key: str) -> Select[tuple[ProcessRow]]:
    return select(ProcessRow).where(ProcessRow.key == key)
