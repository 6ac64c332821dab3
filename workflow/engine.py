"""Starting a process, ticking every process that is due, and queuing a failed mail again.

Each works through ``ProcessTx`` transactions (``workflow.tx``): one per process it touches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from workflow.contact_changes import seed_contacts
from workflow.errors import AftaleflowError, ConcurrentUpdate, GuardRefused, NotFound
from workflow.events import event_row, write_events
from workflow.loader import Bundle
from workflow.state import ProcessStates
from workflow.storage.db import Database
from workflow.storage.fast import STATEMENTS
from workflow.storage.models import OutboxRow, ProcessRow
from workflow.storage.records import StageRecord
from workflow.tick import Applied, TickReport, advance
from workflow.timeline import bind, bound_definition
from workflow.tx import ProcessTx, new_process_tx

log = logging.getLogger("aftaleflow.service")

Opener = Callable[[str], AbstractContextManager[ProcessTx]]


def start(
    db: Database,
    states: ProcessStates,
    link_secret: str,
    bundle: Bundle,
    year: int,
    *,
    at: datetime,
    actor: str,
    key: str | None,
) -> str:
    """Start a process of ``bundle`` for ``year``; returns its key."""
    bind(bundle, year)  # raises DefinitionError before anything is written
    # every later transaction binds the stored snapshot; so does this one
    bound = bound_definition(bundle.hash, year, bundle.snapshot)
    key = key or f"{bundle.process.id}-{year}"
    values = {
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
        "row_token": None,
    }
    with new_process_tx(db, values, bound, states, link_secret) as tx:
        for st in bound.stages:
            tx.add_stage(
                StageRecord(
                    process_id=tx.process.id,
                    stage_id=st.id,
                    seq=st.index,
                    kind=st.kind,
                    status="pending",
                )
            )
        data = {
            "definition": bundle.process.id,
            "version": bundle.process.version,
            "hash": bundle.hash,
            "year": year,
            "path": bundle.path,
        }
        tx.event(at, actor, "process_started", data=data)
        seed_contacts(tx, at)
        advance(tx, at, actor)
        tx.commit()
    return key


_P = ProcessRow.__table__.c


def _due_keys() -> Select[Any]:
    return (
        select(_P.key)
        .where(_P.status == "running", _P.next_due_at <= bindparam("at"))
        .order_by(_P.next_due_at)
    )


def due_keys(db: Database, at: datetime) -> list[str]:
    with db.engine.connect() as conn:
        return [r[0] for r in STATEMENTS.get("due keys", conn, _due_keys).all(conn, {"at": at})]


def tick(db: Database, open_tx: Opener, at: datetime, *, actor: str) -> TickReport:
    """Apply everything due at ``at``; one transaction per process."""
    report = TickReport(at)
    for key in due_keys(db, at):
        done: list[Applied] = []
        try:
            with open_tx(key) as tx:
                p = tx.process
                if p.status != "running" or p.next_due_at is None or p.next_due_at > at:
                    continue  # another scheduler got here first
                done = advance(tx, at, actor)
                tx.commit()
        except ConcurrentUpdate:
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


def _next_due() -> Select[Any]:
    return select(func.min(_P.next_due_at)).where(_P.status == "running")


def next_due(db: Database) -> datetime | None:
    with db.engine.connect() as conn:
        got = STATEMENTS.get("next due", conn, _next_due).first(conn, {})
    return None if got is None else got[0]


#: A mail's status in a refusal's words.
MAIL_STATUS_DA = {
    "queued": "i kø",
    "sending": "ved at blive sendt",
    "sent": "sendt",
    "failed": "fejlet",
    "cancelled": "annulleret",
}


def retry_mail(
    db: Database, open_tx: Opener, outbox_id: int, *, at: datetime, actor: str, reason: str
) -> None:
    """Queue a failed mail again, due now; it keeps its Message-ID."""
    with db.sessions() as s:
        process_id = s.scalar(select(OutboxRow.process_id).where(OutboxRow.id == outbox_id))
        key = s.scalar(select(ProcessRow.key).where(ProcessRow.id == process_id))
    if key is None:  # a mail of no process
        with db.transaction() as s:
            mail = s.get(OutboxRow, outbox_id)
            data = _retry_data(mail, outbox_id)
            assert mail is not None
            mail.status, mail.claimed_at, mail.next_attempt_at = "queued", None, at
            event = event_row(None, at, actor, "mail_retry_requested", reason=reason, data=data)
            write_events(s, [event])
        return
    with open_tx(key) as tx:
        mail = tx.session.get(OutboxRow, outbox_id)
        data = _retry_data(mail, outbox_id)
        assert mail is not None
        if tx.process.status == "cancelled":
            raise GuardRefused(
                f"processen {key} er annulleret; dens mails sendes ikke",
                en=f"the process {key} is cancelled; its mails are not sent",
            )
        tx.write(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.status == "failed")
            .values(status="queued", claimed_at=None, next_attempt_at=at)
        )
        tx.event(
            at,
            actor,
            "mail_retry_requested",
            stage=mail.stage_id,
            party=mail.party,
            step=mail.step,
            reason=reason,
            data=data,
        )
        tx.commit()


def _retry_data(mail: OutboxRow | None, outbox_id: int) -> dict[str, Any]:
    """Refused unless the mail failed; the details of its retry event."""
    if mail is None:
        raise NotFound(
            f"mail {outbox_id} findes ikke i udbakken",
            en=f"mail {outbox_id} is not in the outbox",
        )
    if mail.status != "failed":
        status = MAIL_STATUS_DA.get(mail.status, mail.status)
        raise GuardRefused(
            f"mail {outbox_id} er {status}; kun en mail, der er fejlet, kan sendes igen",
            en=f"mail {outbox_id} is {mail.status}; only a failed mail can be sent again",
        )
    return {
        "outbox_id": mail.id,
        "key": mail.idempotency_key,
        "kind": mail.kind,
        "attempts": mail.attempts,
        "last_error": mail.last_error or "",
    }
