"""Drain the outbox: send due mail one at a time over one connection, recording each result.

1. Read the due rows; then, for each: claim it (one short transaction, see
   ``notifications.claims``: it becomes ``sending`` with its ``message_id``; a row of a sender
   that died is taken over after the lease), render it and send it over the batch's one
   transport connection.
2. Record its result in its own transaction before the next mail is claimed: ``sent``; or
   ``queued`` again with exponential backoff (temporary failure); or ``failed`` (permanent).
   Refused addresses are marked failing in ``contact_status``. Every step writes an audit
   event. So a sender killed mid-batch leaves only the mail in flight ``sending``.

A send failure never touches workflow state. ``at`` is the business time of the whole run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, Update, bindparam, update

from notifications.audit import event_values, failing_among, mark_failing, mark_ok
from notifications.claims import LEASE, Claimed, claim, claim_row, due_rows, recover_stuck
from notifications.message import (
    InvalidAddress,
    WireMessage,
    bare_address,
    checked_address,
    compose,
)
from notifications.outgoing import Recipient
from notifications.pause import bounced_among, pause_if_bounced
from notifications.render import MailSettings, RenderError, render
from notifications.transports import Connection as TransportConnection
from notifications.transports import SendResult, Transport, TransportError
from workflow import defaults
from workflow.calendar import next_office_moment
from workflow.events import write_events
from workflow.mail import office_hours
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow

__all__ = [
    "LEASE",
    "Claimed",
    "Delivery",
    "DeliveryReport",
    "backoff",
    "claim",
    "deliver_due",
    "drain",
    "make_on_tick",
    "recover_stuck",
]

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


@dataclass
class DeliveryReport:
    at: datetime
    worker: str
    claimed: int = 0
    resent_after_crash: int = 0
    deliveries: list[Delivery] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for d in self.deliveries if d.status == status)

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def retried(self) -> int:
        return self.count("retry")

    @property
    def failed(self) -> int:
        return self.count("failed")

    def merge(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.resent_after_crash += other.resent_after_crash
        self.deliveries.extend(other.deliveries)


# ---------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Prepared:
    claimed: Claimed
    message: WireMessage
    recipients: tuple[str, ...]
    invalid: Mapping[str, tuple[int, str]]


class NoRecipient(InvalidAddress):
    """Not one of the mail's addresses can be used: the mail fails, the addresses are failing."""

    def __init__(self, invalid: Mapping[str, tuple[int, str]]) -> None:
        super().__init__(f"no usable recipient ({'; '.join(m for _, m in invalid.values())})")
        self.invalid = dict(invalid)


def prepare(c: Claimed, settings: MailSettings, at: datetime) -> Prepared:
    """Render and build; raises RenderError or NoRecipient (both permanent)."""
    valid: list[Recipient] = []
    invalid: dict[str, tuple[int, str]] = {}
    for r in c.mail.recipients:
        try:
            checked_address(r.email)
            valid.append(r)
        except InvalidAddress as exc:
            invalid[" ".join(r.email.split()) or "(empty)"] = (0, str(exc))
    if not valid:
        raise NoRecipient(invalid)
    rendered = render(c.mail, settings)
    message = compose(
        rendered,
        to=valid,
        secretariat=c.mail.secretariat,
        mail_from=settings.mail_from,
        message_id=c.message_id,
        at=at,
        in_reply_to=c.in_reply_to,
        key=c.mail.idempotency_key,
    )
    return Prepared(c, message, tuple(r.email.strip() for r in valid), invalid)


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
    "sent": _result_update("sent", "sent_at", "smtp_reply", "last_error"),
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

    def record(self, c: Claimed, result: SendResult) -> Delivery:
        with self.conn.begin():
            return self._record(c, result)

    def _update(self, c: Claimed, status: str, **values: object) -> bool:
        params = {"outbox_id": c.mail.id, "claim": c.claimed_at, **values}
        result = self.conn.execute(_RESULT_UPDATES[status], params)
        return cast(CursorResult[Any], result).rowcount == 1

    def _record(self, c: Claimed, result: SendResult) -> Delivery:
        mail, at, worker, conn = c.mail, self.at, self.worker, self.conn
        attempt = c.attempts + 1
        refused = {a: f"{code} {text}".strip() for a, (code, text) in result.refused.items()}
        if result.delivered:
            status, next_at = "sent", None
            won = self._update(
                c,
                "sent",
                sent_at=at,
                smtp_reply=result.reply,
                last_error="; ".join(f"{a}: {r}" for a, r in refused.items()) or None,
            )
        elif result.temporary:
            status = "retry"
            delay = backoff(attempt)
            next_at = next_office_moment(at + delay, *office_hours(mail.context))
            won = self._update(
                c,
                "queued",
                next_attempt_at=next_at,
                last_error=result.error,
            )
        else:
            status, next_at = "failed", None
            won = self._update(c, "failed", last_error=result.error)
        if not won:
            log.warning(
                "mail %s was taken over by another sender; result not recorded",
                mail.idempotency_key,
                extra={"action": "mail_lost_claim", "key": mail.idempotency_key},
            )
            return Delivery(
                mail.id,
                mail.idempotency_key,
                mail.kind,
                "lost_claim",
                c.message_id,
                error=result.error,
            )
        for addr in result.permanently_refused:
            mark_failing(conn, addr, f"{refused[addr]} (mail {c.message_id})", at)
            self.failing.add(addr)
        recovered = [a for a in result.accepted if a in self.failing]
        if recovered:
            mark_ok(conn, recovered, f"accepted {c.message_id}", at)
            self.failing.difference_update(recovered)
        base = {"message_id": c.message_id, "attempt": attempt, "worker": worker}
        events: list[dict[str, Any]] = []
        if status == "sent":
            data = {**base, "recipients": list(result.accepted), "refused": refused}
            events.append(
                event_values(at, worker, "mail_sent", mail, {**data, "reply": result.reply})
            )
            if refused:
                events.append(
                    event_values(
                        at, worker, "mail_recipient_refused", mail, {**base, "refused": refused}
                    )
                )
            write_events(conn, events)
            return Delivery(
                mail.id,
                mail.idempotency_key,
                mail.kind,
                "sent",
                c.message_id,
                result.accepted,
                tuple(refused),
            )
        if status == "retry":
            assert next_at is not None
            data = {
                **base,
                "error": result.error,
                "interval_s": int(delay.total_seconds()),
                "next_attempt_at": next_at.isoformat(),
            }
            write_events(conn, [event_values(at, worker, "mail_retry", mail, data)])
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
        data = {**base, "error": result.error, "refused": refused}
        write_events(conn, [event_values(at, worker, "mail_failed", mail, data)])
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


def deliver_due(
    db: Database,
    transport: Transport,
    settings: MailSettings,
    at: datetime,
    *,
    batch_size: int = defaults.SEND_BATCH_SIZE,
    worker: str = "sender",
    lease: timedelta = LEASE,
) -> DeliveryReport:
    """Send up to ``batch_size`` due mails over one connection, claiming each just before it
    is sent and recording its result right after (a kill leaves only the mail in flight
    claimed; the others are due for the next sender at once).

    Raises ``InvalidAddress`` before claiming anything if ``settings.mail_from`` is unusable
    (a configuration error: nothing is sent, nothing is marked failed).
    """
    try:
        checked_address(_envelope_from(settings))
    except InvalidAddress as exc:
        raise InvalidAddress(f"AFTALEFLOW_MAIL_FROM is not a usable address: {exc}") from exc
    report = DeliveryReport(at, worker)
    due = due_rows(db, at, limit=batch_size, lease=lease)
    if not due:
        return report
    names: dict[int, dict[str, str]] = {}

    def take(conn: Connection, row: OutboxRow) -> Claimed | None:
        c = claim_row(conn, row, at, domain=settings.mail_domain, worker=worker, names=names)
        if c is not None:
            report.claimed += 1
            report.resent_after_crash += c.resent_after_crash
        return c

    envelope_from = _envelope_from(settings)
    with db.engine.connect() as conn, ExitStack() as smtp_open:
        addresses = [str(r.get("email") or "").strip() for row in due for r in row.recipients]
        failing = failing_among(conn, addresses)
        bounced = bounced_among(conn, addresses)
        conn.commit()
        recorder = Recorder(conn, at, worker, failing)
        smtp: TransportConnection | None = None
        pending = iter(due)
        in_flight: Claimed | None = None
        try:
            for row in pending:
                if pause_if_bounced(conn, row, at, worker, bounced):
                    report.deliveries.append(Delivery(row.id, row.idempotency_key, row.kind,
                                                      "paused", row.message_id or ""))  # fmt: skip
                    continue
                in_flight = take(conn, row)
                if in_flight is None:
                    continue
                try:
                    p = prepare(in_flight, settings, at)
                except (RenderError, NoRecipient) as exc:
                    refused = exc.invalid if isinstance(exc, NoRecipient) else {}
                    result = SendResult(refused=refused, error=str(exc), temporary=False)
                    report.deliveries.append(recorder.record(in_flight, result))
                    in_flight = None
                    continue
                if smtp is None:
                    smtp = smtp_open.enter_context(transport.connect())
                result = smtp.send(p.message, envelope_from=envelope_from, recipients=p.recipients)
                if p.invalid:
                    result = replace(result, refused={**result.refused, **p.invalid})
                report.deliveries.append(recorder.record(in_flight, result))
                in_flight = None
        except TransportError as exc:
            # The relay cannot be used: this mail and the rest of the batch wait (backoff).
            result = SendResult(error=str(exc), temporary=True)
            if in_flight is not None:
                report.deliveries.append(recorder.record(in_flight, result))
            for row in pending:
                c = take(conn, row)
                if c is not None:
                    report.deliveries.append(recorder.record(c, result))
    return report


def _envelope_from(settings: MailSettings) -> str:
    return bare_address(settings.mail_from)


def drain(
    db: Database,
    transport: Transport,
    settings: MailSettings,
    at: datetime,
    *,
    batch_size: int = 50,
    worker: str = "sender",
    max_batches: int = 1000,
) -> DeliveryReport:
    """Deliver batches until nothing more is due at ``at``."""
    total = DeliveryReport(at, worker)
    for _ in range(max_batches):
        report = deliver_due(db, transport, settings, at, batch_size=batch_size, worker=worker)
        total.merge(report)
        if report.claimed < batch_size:
            break
    return total


def make_on_tick(
    db: Database, transport: Transport, settings: MailSettings, *, worker: str = "simulation"
) -> Callable[[datetime], DeliveryReport]:
    """A callback for ``simulate(on_tick=…)``: recovers once, then drains at every tick."""
    recovered = False

    def on_tick(at: datetime) -> DeliveryReport:
        nonlocal recovered
        if not recovered:
            recover_stuck(db, at, worker=worker)
            recovered = True
        return drain(db, transport, settings, at, worker=worker)

    return on_tick
