"""Recording what became of one mail: its outbox row, its addresses and its audit events.

A result is written in its own short transaction, before the next mail of the batch is
claimed: ``sent``; or ``queued`` again with exponential backoff (``backoff``) at the next
office moment of the mail's calendar (temporary failure); or ``failed`` (permanent). Refused
addresses are marked failing in ``contact_status`` (and well again when one accepts a mail).
Every result writes an audit event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, Update, bindparam, update

from notifications.audit import event_values, mark_failing, mark_ok
from notifications.claims import Claimed
from notifications.transports import SendResult
from workflow import defaults
from workflow.calendar import next_office_moment
from workflow.events import write_events
from workflow.mail import office_hours
from workflow.storage.models import OutboxRow

log = logging.getLogger("aftaleflow.mail")

BACKOFF_FIRST = defaults.BACKOFF_FIRST
BACKOFF_CAP = defaults.BACKOFF_CAP


def backoff(failures: int) -> timedelta:
    """1 min after the first failure, then 2, 4, 8, … minutes, at most 6 hours."""
    return min(BACKOFF_FIRST * (2 ** min(max(failures, 1) - 1, 20)), BACKOFF_CAP)


@dataclass(frozen=True)
class Delivery:
    """The outcome for one outbox row: ``sent``, ``retry``, ``failed``, ``lost_claim`` or
    ``paused`` (a bounce marked every recipient failing: ``notifications.pause``)."""

    outbox_id: int
    key: str
    kind: str
    status: str
    message_id: str
    recipients: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    error: str = ""
    next_attempt_at: datetime | None = None


_OUTBOX_TABLE = cast(Table, OutboxRow.__table__)
_OUTBOX = _OUTBOX_TABLE.c


def _result_update(status: str, *columns: str) -> Update:
    """``UPDATE outbox`` for one result, only while the row is still our claim.

    Built once (bound parameters): a statement built per mail costs more than running it.
    """
    values: dict[str, Any] = {"status": status, "attempts": _OUTBOX.attempts + 1}
    if status == "queued":
        values["claimed_at"] = None
    for name in columns:
        values[name] = bindparam(name, type_=_OUTBOX[name].type)
    return (
        update(_OUTBOX_TABLE)
        .where(
            _OUTBOX.id == bindparam("outbox_id"),
            _OUTBOX.status == "sending",
            _OUTBOX.claimed_at == bindparam("claim", type_=_OUTBOX.claimed_at.type),
        )
        .values(values)
    )


_RESULT_UPDATES = {
    "sent": _result_update("sent", "sent_at", "smtp_reply", "last_error", "sent_message"),
    "queued": _result_update("queued", "next_attempt_at", "last_error"),
    "failed": _result_update("failed", "last_error"),
}


class Recorder:
    """Writes each result in its own short transaction on one connection for the batch.

    One conditional UPDATE per result (``status = 'sending'`` and our ``claimed_at``): if
    another sender took the row over after our lease ran out, nothing is written and the
    result is reported as ``lost_claim``. The attempt number is the claim's plus one (only
    the holder of the claim changes the row). Each result commits before the next mail is
    sent, so a crash re-sends at most the one mail whose result was not written yet.
    """

    def __init__(self, conn: Connection, at: datetime, worker: str, failing: set[str]) -> None:
        self.conn, self.at, self.worker = conn, at, worker
        #: Addresses marked failing when the batch started (or by this batch): only those can
        #: need ``mark_ok`` after an accepted mail.
        self.failing = failing

    def record(self, c: Claimed, result: SendResult, message: bytes | None = None) -> Delivery:
        """``message``: the bytes handed to the relay, kept on the row when it was sent (in the
        same UPDATE: no statement more per mail)."""
        with self.conn.begin():
            return self._record(c, result, message)

    def _update(self, c: Claimed, status: str, **values: object) -> bool:
        params = {"outbox_id": c.mail.id, "claim": c.claimed_at, **values}
        result = self.conn.execute(_RESULT_UPDATES[status], params)
        return cast(CursorResult[Any], result).rowcount == 1

    def _record(self, c: Claimed, result: SendResult, message: bytes | None) -> Delivery:
        at = self.at
        refused = {a: f"{code} {text}".strip() for a, (code, text) in result.refused.items()}
        delay = backoff(c.attempts + 1)
        next_at: datetime | None = None
        if result.delivered:
            won = self._update(
                c,
                "sent",
                sent_at=at,
                smtp_reply=result.reply,
                last_error="; ".join(f"{a}: {r}" for a, r in refused.items()) or None,
                sent_message=message,
            )
        elif result.temporary:
            next_at = next_office_moment(at + delay, *office_hours(c.mail.context))
            won = self._update(c, "queued", next_attempt_at=next_at, last_error=result.error)
        else:
            won = self._update(c, "failed", last_error=result.error)
        if not won:
            return self._lost(c, result)
        self._contacts(c, result, refused)
        if result.delivered:
            return self._sent(c, result, refused)
        if result.temporary:
            assert next_at is not None
            return self._retry(c, result, refused, delay, next_at)
        return self._failed(c, result, refused)

    def _base(self, c: Claimed) -> dict[str, Any]:
        """What every result event says about the attempt."""
        return {"message_id": c.message_id, "attempt": c.attempts + 1, "worker": self.worker}

    def _lost(self, c: Claimed, result: SendResult) -> Delivery:
        mail = c.mail
        log.warning(
            "mail %s was taken over by another sender; result not recorded",
            mail.idempotency_key,
            extra={"action": "mail_lost_claim", "key": mail.idempotency_key},
        )
        return Delivery(
            mail.id, mail.idempotency_key, mail.kind, "lost_claim", c.message_id, error=result.error
        )

    def _contacts(self, c: Claimed, result: SendResult, refused: dict[str, str]) -> None:
        """Addresses refused for good are failing; a failing address that accepted is well."""
        for addr in result.permanently_refused:
            mark_failing(self.conn, addr, f"{refused[addr]} (mail {c.message_id})", self.at)
            self.failing.add(addr)
        recovered = [a for a in result.accepted if a in self.failing]
        if recovered:
            mark_ok(self.conn, recovered, f"accepted {c.message_id}", self.at)
            self.failing.difference_update(recovered)

    def _sent(self, c: Claimed, result: SendResult, refused: dict[str, str]) -> Delivery:
        mail, at, worker, base = c.mail, self.at, self.worker, self._base(c)
        data = {**base, "recipients": list(result.accepted), "refused": refused}
        events = [event_values(at, worker, "mail_sent", mail, {**data, "reply": result.reply})]
        if refused:
            events.append(
                event_values(
                    at, worker, "mail_recipient_refused", mail, {**base, "refused": refused}
                )
            )
        write_events(self.conn, events)
        return Delivery(
            mail.id,
            mail.idempotency_key,
            mail.kind,
            "sent",
            c.message_id,
            result.accepted,
            tuple(refused),
        )

    def _retry(
        self,
        c: Claimed,
        result: SendResult,
        refused: dict[str, str],
        delay: timedelta,
        next_at: datetime,
    ) -> Delivery:
        mail = c.mail
        data = {
            **self._base(c),
            "error": result.error,
            "interval_s": int(delay.total_seconds()),
            "next_attempt_at": next_at.isoformat(),
        }
        write_events(self.conn, [event_values(self.at, self.worker, "mail_retry", mail, data)])
        log.info(
            "mail %s: temporary failure, retry in %s: %s",
            mail.idempotency_key,
            delay,
            result.error,
            extra={"action": "mail_retry", "key": mail.idempotency_key},
        )
        return Delivery(
            mail.id,
            mail.idempotency_key,
            mail.kind,
            "retry",
            c.message_id,
            refused=tuple(refused),
            error=result.error,
            next_attempt_at=next_at,
        )

    def _failed(self, c: Claimed, result: SendResult, refused: dict[str, str]) -> Delivery:
        mail = c.mail
        data = {**self._base(c), "error": result.error, "refused": refused}
        write_events(self.conn, [event_values(self.at, self.worker, "mail_failed", mail, data)])
        log.warning(
            "mail %s failed permanently: %s",
            mail.idempotency_key,
            result.error,
            extra={"action": "mail_failed", "key": mail.idempotency_key},
        )
        return Delivery(
            mail.id,
            mail.idempotency_key,
            mail.kind,
            "failed",
            c.message_id,
            refused=tuple(refused),
            error=result.error,
        )
