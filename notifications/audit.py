"""Audit events and address health written by the sender (append-only events, upserts).

The writers take a ``Session`` or a plain ``Connection``: the sender records each result with
Core statements on one connection (no unit of work needed for rows it never reads back).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notifications.outgoing import OutgoingMail
from workflow.contacts import BOUNCE
from workflow.events import event_row, write_events
from workflow.storage.models import ContactStatusRow

Writer = Session | Connection


def event_values(
    at: datetime,
    worker: str,
    kind: str,
    mail: OutgoingMail,
    data: dict[str, Any],
    reason: str = "",
) -> dict[str, Any]:
    """One ``events`` row for something the mailer did with ``mail`` (``workflow.events``)."""
    return event_row(
        mail.process_id,
        at,
        f"mailer:{worker}",
        kind,
        stage=mail.stage_id,
        party=mail.party,
        step=mail.step,
        reason=reason,
        data={"outbox_id": mail.id, "key": mail.idempotency_key, "kind": mail.kind, **data},
    )


def mail_event(
    s: Writer,
    at: datetime,
    worker: str,
    kind: str,
    mail: OutgoingMail,
    data: dict[str, Any],
    reason: str = "",
) -> None:
    write_events(s, [event_values(at, worker, kind, mail, data, reason)])


def _dialect(s: Writer) -> str:
    return (s.get_bind() if isinstance(s, Session) else s).dialect.name


def mark_failing(s: Writer, addr: str, reason: str, at: datetime) -> None:
    insert_ = pg_insert if _dialect(s) == "postgresql" else sqlite_insert
    stmt = insert_(ContactStatusRow).values(
        address=addr, status="failing", reason=reason, updated_at=at
    )
    s.execute(
        stmt.on_conflict_do_update(
            index_elements=[ContactStatusRow.address],
            set_={"status": "failing", "reason": reason, "updated_at": at},
        )
    )


def mark_ok(s: Writer, addresses: Iterable[str], reason: str, at: datetime) -> None:
    """The relay accepted mail to ``addresses``: an SMTP refusal's mark is cleared, a
    bounce's is not (it stays until the secretariat clears it: ``workflow.contacts``)."""
    addresses = list(addresses)
    if addresses:
        s.execute(
            update(ContactStatusRow)
            .where(
                ContactStatusRow.address.in_(addresses),
                ContactStatusRow.status == "failing",
                ~ContactStatusRow.reason.startswith(BOUNCE),
            )
            .values(status="ok", reason=reason, updated_at=at)
        )


def failing_among(s: Writer, addresses: Iterable[str]) -> set[str]:
    """Which of ``addresses`` are marked failing now (one query for a whole batch)."""
    wanted = sorted(set(addresses))
    if not wanted:
        return set()
    query = select(ContactStatusRow.address).where(
        ContactStatusRow.address.in_(wanted), ContactStatusRow.status == "failing"
    )
    return set(s.execute(query).scalars())
