"""The weekly status digest to the secretariat: every Monday at office hours, once per week
and process, also after downtime.

Decided here: a running process gets the digest of an ISO week when the scheduler ticks on
that week's Monday (a working day: none in the weeks of 2. påskedag and 2. pinsedag) before
the office closes (the outbox sends it at the next office moment,
so it arrives on the Monday). A Monday the scheduler missed entirely is not made up on the
Tuesday: that week is skipped, and the next Monday's digest covers it. The mail's
idempotency key carries the week (``seq`` = year × 100 + week), so two schedulers, a crash
or a restart never send one twice. The content (counts, overdue parties, the next mails,
the parties at risk on the councils' calendars) is read when it is queued.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import queries
from workflow.calendar import is_working_day, to_local
from workflow.errors import ConcurrentUpdate
from workflow.labels import label
from workflow.mail import Mail, mail_key
from workflow.risk_reads import parties_at_risk
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow, ProcessRow
from workflow.timeline import BoundProcess, bound_for
from workflow.tx import ProcessTx

KIND = "digest"
Opener = Callable[[str], AbstractContextManager[ProcessTx]]
#: The next automatic mails a digest lists at most.
NEXT_MAILS = 10


def digest_week(bound: BoundProcess, at: datetime) -> int | None:
    """``year * 100 + ISO week`` when ``at`` is a Monday before the office closes, else None."""
    local = to_local(at)
    if local.weekday() != 0 or local.time() >= bound.office_end:
        return None
    if not is_working_day(local.date()):  # 2. påskedag, 2. pinsedag: no digest that week
        return None
    year, week, _ = local.isocalendar()
    return year * 100 + week


def already_queued(s: Session, process_id: int, week: int) -> bool:
    key = mail_key(process_id, "", "", "", KIND, week)
    return s.scalar(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)) is not None


def details(s: Session, row: ProcessRow, bound: BoundProcess, at: datetime) -> dict[str, Any]:
    """What the digest says (``notifications/templates/*/digest``), read as of ``at``."""
    status = queries.process_status(s, row.key, bound)
    upcoming = queries.upcoming_mails(s, row, bound)[:NEXT_MAILS]
    return {
        "week": to_local(at).isocalendar()[1],
        "counts": {label(k, "da"): n for k, n in sorted(status.counts.items()) if n},
        "overdue": [
            {
                "party_name": o.party_name,
                "stage_name": o.stage_name,
                "deadline": o.deadline.isoformat(),
                "working_days_late": o.working_days_late,
            }
            for o in queries.overdue_tasks(s, row, bound, at)
        ],
        "next_mails": [
            {"kind": m.kind, "party_name": m.party_name, "send_after": m.at.isoformat()}
            for m in upcoming
        ],
        "at_risk": parties_at_risk(s, row, bound, to_local(at).date()),
    }


def queue_digest(tx: ProcessTx, week: int, at: datetime) -> bool:
    """Queue this week's digest of the process, unless it is queued already."""
    s = tx.session
    row = s.get(ProcessRow, tx.process.id)
    if row is None or already_queued(s, row.id, week):
        return False
    secretariat = tx.bound.bundle.parties.secretariat
    mail = Mail(
        kind=KIND, seq=week, recipients=(secretariat,), details=details(s, row, tx.bound, at)
    )
    tx.mail(mail, at)
    tx.event(at, "scheduler", "digest_queued", data={"week": week % 100})
    return True


def queue_digests(db: Database, open_tx: Opener, at: datetime) -> int:
    """Queue the digest of every running process that is due one at ``at``; how many were
    queued. Costs one weekday check on six days of seven."""
    if to_local(at).weekday() != 0:
        return 0
    year, week, _ = to_local(at).isocalendar()
    seq = year * 100 + week
    with db.sessions() as s:
        running = list(s.scalars(select(ProcessRow).where(ProcessRow.status == "running")))
        done = set(
            s.scalars(
                select(OutboxRow.process_id).where(OutboxRow.kind == KIND, OutboxRow.seq == seq)
            )
        )
    queued = 0
    for row in running:
        if row.id in done or digest_week(bound_for(row), at) != seq:
            continue
        try:
            with open_tx(row.key) as tx:
                if queue_digest(tx, seq, at):
                    tx.commit()
                    queued += 1
        except ConcurrentUpdate:
            continue  # another scheduler wrote the process meanwhile; the next tick looks again
    return queued
