"""After a restore from backup: the mails the restored database would send again.

A backup taken at B and restored at R knows nothing of what the lost installation sent
between B and R: every mail queued at B and due before R is still ``queued`` (or ``sending``)
in the restored database, and the scheduler would send it again at once. Aftaleflow has no
record outside the database that could prove which of them went out (a relay does not answer
that), so the rule is the simple one: a mail still waiting whose time to be sent came before
the moment the restored database took over is listed for the secretariat to review, and those
it picks (or all) are cancelled, each with an audit event naming who did it and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from notifications.audit import event_values
from notifications.outgoing import OutgoingMail
from workflow.events import write_events
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow

WAITING = ("queued", "sending")


def due_before(db: Database, moment: datetime) -> list[OutboxRow]:
    """Mails still waiting in the outbox whose time to be sent came before ``moment``."""
    with db.sessions() as s:
        query = (
            select(OutboxRow)
            .where(OutboxRow.status.in_(WAITING), OutboxRow.next_attempt_at < moment)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        )
        return list(s.scalars(query))


def cancel(
    db: Database,
    ids: Iterable[int],
    *,
    at: datetime,
    actor: str,
    reason: str,
) -> list[int]:
    """Cancel the mails ``ids`` that are still waiting; one audit event each. Returns the ids
    cancelled (a mail sent or cancelled meanwhile is left as it is)."""
    wanted = sorted(set(ids))
    done: list[int] = []
    with db.transaction() as s:
        rows = s.scalars(
            select(OutboxRow).where(OutboxRow.id.in_(wanted), OutboxRow.status.in_(WAITING))
        ).all()
        for row in rows:
            changed = s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.status == row.status)
                .values(status="cancelled", last_error=f"annulleret efter en gendannelse: {reason}")
                .execution_options(synchronize_session=False)
            )
            if not getattr(changed, "rowcount", 0):
                continue
            values = event_values(
                at,
                "restore",
                "mail_cancelled_after_restore",
                OutgoingMail.from_row(row),
                {"status_was": row.status, "planned_at": row.next_attempt_at.isoformat()},
                reason=reason,
            )
            write_events(s, [{**values, "actor": actor}])
            done.append(row.id)
    return done
