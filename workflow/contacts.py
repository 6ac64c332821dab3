"""Delivery health of the parties' addresses, as the secretariat handles it: a failing mark
that a bounce (a delivery status notification read from the inbox) set stays until the
secretariat clears it here — a later mail the relay accepts does not clear it (the relay
accepting a mail says nothing about the mailbox behind it). Mail to an address that a bounce
marked failing is paused by the sender (``notifications.pause``); clearing the mark sends
the paused mail at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from workflow.errors import GuardRefused
from workflow.events import event_row, write_events
from workflow.storage.db import Database
from workflow.storage.models import ContactStatusRow, OutboxRow

#: How a failing mark set by a bounce begins its reason (``notifications.inbound``).
BOUNCE = "bounce:"
#: How a paused mail's ``last_error`` begins (``notifications.pause``).
PAUSED = "paused:"


def set_by_bounce(reason: str) -> bool:
    return reason.startswith(BOUNCE)


def clear_failing(db: Database, address: str, *, at: datetime, actor: str, reason: str) -> int:
    """The address works again (the secretariat checked it): the mark is cleared, audited,
    and the mail paused for it is due now. Returns how many mails were resumed."""
    if not reason.strip():
        raise GuardRefused(
            "Skriv hvorfor markeringen ryddes (begrundelsen kommer i loggen).",
            en="Write why the mark is cleared (the reason goes to the log).",
        )
    with db.transaction() as s:
        row = s.scalar(
            select(ContactStatusRow).where(func.lower(ContactStatusRow.address) == address.lower())
        )
        if row is None or row.status != "failing":
            raise GuardRefused(
                f"{address} er ikke markeret som fejlende.",
                en=f"{address} is not marked as failing.",
            )
        before = row.reason
        row.status, row.reason, row.updated_at = "ok", f"ryddet af {actor}: {reason}"[:1000], at
        paused = s.scalars(
            select(OutboxRow).where(
                OutboxRow.status == "queued", OutboxRow.last_error.startswith(PAUSED)
            )
        ).all()
        resumed = [
            m.id
            for m in paused
            if any(str(r.get("email", "")).strip().lower() == address.lower() for r in m.recipients)
        ]
        if resumed:
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(resumed), OutboxRow.status == "queued")
                .values(next_attempt_at=at, last_error=None)
                .execution_options(synchronize_session=False)
            )
        data = {"address": row.address, "was": before, "mails_resumed": len(resumed)}
        write_events(s, [event_row(None, at, actor, "contact_cleared", reason=reason, data=data)])
    return len(resumed)
