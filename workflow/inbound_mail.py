"""Received mail for the secretariat: the Indbakke list, one mail, and the two decisions on an
unmatched mail — assign it to a process, stage and party, or ignore it. Each decision is one
transaction with its audit event (who, when, why).

The reader (``notifications.inbox``) stores the mail; nothing here reads a mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from workflow.errors import GuardRefused, NotFound
from workflow.service import system_clock
from workflow.storage.db import Database
from workflow.storage.models import EventRow, InboundMailRow, ProcessRow, TaskRow

STATUSES = ("new", "assigned", "ignored")
CLASSIFICATIONS = ("reply", "auto_reply", "bounce", "automatic", "own")
#: Mails per page of the Indbakke.
PAGE_SIZE = 100


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboundMailRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    keys: dict[int, str]
    """process id → process key, for the rows' links."""


def listing(s: Session, *, status: str = "", classification: str = "", page: int = 1) -> InboxPage:
    """The newest mail first, without the raw bytes; filtered by status and classification."""
    query = select(InboundMailRow).options(defer(InboundMailRow.raw))
    if status in STATUSES:
        query = query.where(InboundMailRow.status == status)
    if classification in CLASSIFICATIONS:
        query = query.where(InboundMailRow.classification == classification)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = list(
        s.scalars(
            query.order_by(InboundMailRow.received_at.desc(), InboundMailRow.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    counted = s.execute(select(InboundMailRow.status, func.count()).group_by(InboundMailRow.status))
    keys = {pid: key for pid, key in s.execute(select(ProcessRow.id, ProcessRow.key))}
    return InboxPage(rows, total, page, pages, {str(k): int(n) for k, n in counted}, keys)


def get(s: Session, mail_id: int) -> InboundMailRow:
    row = s.get(InboundMailRow, mail_id)
    if row is None:
        raise NotFound(
            f"Der er ingen modtaget mail nr. {mail_id}.",
            en=f"There is no received mail #{mail_id}.",
        )
    return row


def attachment(row: InboundMailRow, index: int) -> dict[str, Any]:
    """The ``index``-th attachment that was kept (raises ``NotFound`` for a refused one)."""
    found = list(row.details.get("attachments") or [])
    if not 0 <= index < len(found) or not found[index].get("stored_as"):
        raise NotFound(
            f"Mail nr. {row.id} har ingen gemt vedhæftet fil nr. {index + 1}.",
            en=f"Mail #{row.id} has no kept attachment {index + 1}.",
        )
    return dict(found[index])


def assign(
    db: Database,
    mail_id: int,
    *,
    process_key: str,
    stage: str,
    party: str,
    at: datetime,
    actor: str,
    reason: str,
) -> InboundMailRow:
    """Tie an unmatched mail to a party's task in a stage (the task must exist)."""
    with db.transaction() as s:
        row = get(s, mail_id)
        _still_open(row)
        process = s.scalar(select(ProcessRow).where(ProcessRow.key == process_key))
        if process is None:
            raise NotFound(
                f"Processen {process_key!r} findes ikke.",
                en=f"There is no process {process_key!r}.",
            )
        task = s.scalar(
            select(TaskRow)
            .where(
                TaskRow.process_id == process.id, TaskRow.stage_id == stage, TaskRow.party == party
            )
            .order_by(TaskRow.seq)
            .limit(1)
        )
        if task is None:
            raise GuardRefused(
                f"{party} har ingen opgave i fasen {stage!r} i {process_key}.",
                en=f"{party} has no task in the stage {stage!r} of {process_key}.",
            )
        row.process_id, row.stage_id, row.party, row.step = process.id, stage, party, task.step
        row.status, row.matched_by = "assigned", "manual"
        row.updated_at, row.updated_by = at, actor
        s.add(_event(row, "inbound_assigned", at, actor, reason))
        return row


def ignore(db: Database, mail_id: int, *, at: datetime, actor: str, reason: str) -> InboundMailRow:
    """Put an unmatched mail aside (spam, a newsletter, a mail that needs no action)."""
    with db.transaction() as s:
        row = get(s, mail_id)
        _still_open(row)
        row.status = "ignored"
        row.updated_at, row.updated_by = at, actor
        s.add(_event(row, "inbound_ignored", at, actor, reason))
        return row


def _still_open(row: InboundMailRow) -> None:
    if row.status != "new":
        status = _STATUS_DA.get(row.status, row.status)
        raise GuardRefused(
            f"Mail nr. {row.id} er allerede {status}; kun en ny mail kan knyttes til en opgave "
            "eller lægges til side.",
            en=f"Mail #{row.id} is already {row.status}; only a new mail can be assigned or "
            "ignored.",
        )


_STATUS_DA = {"assigned": "knyttet til en opgave", "ignored": "ignoreret"}


def _event(row: InboundMailRow, kind: str, at: datetime, actor: str, reason: str) -> EventRow:
    return EventRow(
        process_id=row.process_id,
        at=at,
        recorded_at=system_clock(),
        actor=actor,
        kind=kind,
        stage_id=row.stage_id,
        party=row.party,
        step=row.step,
        reason=reason,
        data={
            "inbound_id": row.id,
            "message_id": row.message_id,
            "from": row.from_address,
            "subject": row.subject[:300],
        },
    )
