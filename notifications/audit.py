"""Audit events and address health written by the sender (append-only events, upserts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notifications.outgoing import OutgoingMail
from workflow.service import system_clock
from workflow.storage.models import ContactStatusRow, EventRow


def mail_event(
    s: Session,
    at: datetime,
    worker: str,
    kind: str,
    mail: OutgoingMail,
    data: dict[str, Any],
    reason: str = "",
) -> None:
    s.add(
        EventRow(
            process_id=mail.process_id,
            at=at,
            recorded_at=system_clock(),
            actor=f"mailer:{worker}",
            kind=kind,
            stage_id=mail.stage_id,
            party=mail.party,
            step=mail.step,
            reason=reason,
            data={"outbox_id": mail.id, "key": mail.idempotency_key, "kind": mail.kind, **data},
        )
    )


def mark_failing(s: Session, addr: str, reason: str, at: datetime) -> None:
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ContactStatusRow).values(
        address=addr, status="failing", reason=reason, updated_at=at
    )
    s.execute(
        stmt.on_conflict_do_update(
            index_elements=[ContactStatusRow.address],
            set_={"status": "failing", "reason": reason, "updated_at": at},
        )
    )


def mark_ok(s: Session, addresses: Sequence[str], reason: str, at: datetime) -> None:
    if addresses:
        s.execute(
            update(ContactStatusRow)
            .where(
                ContactStatusRow.address.in_(list(addresses)), ContactStatusRow.status == "failing"
            )
            .values(status="ok", reason=reason, updated_at=at)
        )
