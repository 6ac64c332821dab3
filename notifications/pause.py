"""Mail to an address that a bounce marked failing is paused, not sent: the sender leaves it
queued, says why in its ``last_error`` (the outbox shows it) and looks again after
``RECHECK``; once the secretariat clears the mark (``workflow.contacts.clear_failing``) it is
sent at once. Only a mail whose every recipient is so marked is paused (the others still
reach a mail to several)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, select, update

from notifications.audit import event_values
from notifications.outgoing import OutgoingMail
from workflow.contacts import BOUNCE, PAUSED
from workflow.events import write_events
from workflow.storage.models import ContactStatusRow, OutboxRow

#: How long a paused mail waits before the sender looks at its addresses again.
RECHECK = timedelta(hours=1)


def bounced_among(conn: Connection, addresses: Iterable[str]) -> dict[str, str]:
    """Address (lower case) → the bounce's reason, for those a bounce marked failing."""
    wanted = sorted({a.strip().lower() for a in addresses if a.strip()})
    if not wanted:
        return {}
    rows = conn.execute(
        select(ContactStatusRow.address, ContactStatusRow.reason).where(
            ContactStatusRow.status == "failing", ContactStatusRow.reason.startswith(BOUNCE)
        )
    )
    return {a.lower(): r for a, r in rows if a.lower() in wanted}


def pause_if_bounced(
    conn: Connection, row: OutboxRow, at: datetime, worker: str, bounced: dict[str, str]
) -> bool:
    """Pause ``row`` (its own short transaction) if a bounce marked every recipient failing."""
    emails = [str(r.get("email") or "").strip().lower() for r in row.recipients]
    if not bounced or not emails or not all(e in bounced for e in emails):
        return False
    why = f"{PAUSED} " + "; ".join(f"{e} ({bounced[e]})" for e in emails)
    with conn.begin():
        result = conn.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == row.id,
                OutboxRow.status == "queued",
                OutboxRow.next_attempt_at == row.next_attempt_at,
            )
            .values(next_attempt_at=at + RECHECK, last_error=why[:2000])
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            return False  # claimed, cancelled or re-planned meanwhile
        if not (row.last_error or "").startswith(PAUSED):  # one event per pause, not per look
            mail = OutgoingMail.from_row(row)
            data = {"addresses": emails, "recheck_at": (at + RECHECK).isoformat()}
            write_events(conn, [event_values(at, worker, "mail_paused", mail, data, why)])
    return True
