"""Mail queued and not yet sent, when a party's contacts change (``workflow.contact_changes``):
re-addressed in the change's transaction by conditional UPDATEs (``status = 'queued'``), so a
mail the sender has claimed already (``sending``) is never changed under it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from workflow.contacts import PAUSED
from workflow.definition_parties import Contact
from workflow.storage.models import TABLES
from workflow.storage.records import TaskRecord
from workflow.tx import ProcessTx

_OUTBOX = TABLES["outbox"]
#: The mails of a task that a contact added beside the others is added to while queued.
_ROLE_MAILS = ("invitation", "approval_request", "reminder")


def queued_mail(tx: ProcessTx, party: str) -> list[Any]:
    """The party's mails queued and not yet claimed by the sender, of every process."""
    o = _OUTBOX.c
    stmt = select(
        o.id, o.process_id, o.kind, o.stage_id, o.step, o.recipients, o.context, o.last_error
    ).where(o.party == party, o.status == "queued")
    return list(tx.conn.execute(stmt).all())


def set_recipients(tx: ProcessTx, row: Any, recipients: list[dict[str, Any]], at: datetime) -> None:
    """New recipients of a queued mail; one paused for a failing address is due now."""
    values: dict[str, Any] = {"recipients": recipients}
    if (row.last_error or "").startswith(PAUSED):
        values.update(next_attempt_at=at, last_error=None)  # the sender looks at it again now
    o = _OUTBOX.c
    tx.write(update(_OUTBOX).where(o.id == row.id, o.status == "queued").values(**values))


def readdress(tx: ProcessTx, queued: list[Any], old: str, new: Contact | None, at: datetime) -> int:
    """Queued mail naming ``old`` goes to ``new`` instead (or, without one, no longer to
    ``old``, unless nobody would be left); returns how many mails changed."""
    n = 0
    for row in queued:
        got = list(row.recipients or [])
        if not any(str(r.get("email", "")).lower() == old.lower() for r in got):
            continue
        kept = [r for r in got if str(r.get("email", "")).lower() != old.lower()]
        if new is not None and not any(
            str(r.get("email", "")).lower() == new.email.lower() for r in kept
        ):
            kept.append({"name": new.name, "email": new.email})
        if not kept:
            continue  # nobody left to send it to: it stays with the old address
        set_recipients(tx, row, kept, at)
        n += 1
    return n


def add_to_queued(
    tx: ProcessTx, queued: list[Any], tasks: set[tuple[str, str]], new: Contact, at: datetime
) -> int:
    """A contact added beside the others: added to the queued invitations, requests and
    reminders of the role's ``tasks`` ((stage, step) of this process)."""
    n = 0
    for row in queued:
        if row.process_id != tx.process.id or row.kind not in _ROLE_MAILS:
            continue
        if (row.stage_id, row.step) not in tasks:
            continue
        got = list(row.recipients or [])
        if any(str(r.get("email", "")).lower() == new.email.lower() for r in got):
            continue
        set_recipients(tx, row, [*got, {"name": new.name, "email": new.email}], at)
        n += 1
    return n


def relink_reminders(tx: ProcessTx, queued: list[Any], t: TaskRecord) -> None:
    """The task's queued reminders carry its link's new generation."""
    o = _OUTBOX.c
    for r in queued:
        if r.kind == "reminder" and (r.stage_id, r.step) == (t.stage_id, t.step):
            context = {**r.context, "link": {"generation": t.link_generation}}
            tx.write(
                update(_OUTBOX).where(o.id == r.id, o.status == "queued").values(context=context)
            )
