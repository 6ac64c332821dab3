"""Drain the outbox: send due mail one at a time over one connection, recording each result.

1. Read the due rows; then, for each: claim it (one short transaction, see
   ``notifications.claims``: it becomes ``sending`` with its ``message_id``; a row of a sender
   that died is taken over after the lease), render it and send it over the batch's one
   transport connection.
2. Record its result in its own transaction before the next mail is claimed
   (``notifications.results``): ``sent``; or ``queued`` again with exponential backoff
   (temporary failure); or ``failed`` (permanent). Refused addresses are marked failing in
   ``contact_status``. Every step writes an audit event. So a sender killed mid-batch leaves
   only the mail in flight ``sending``.

A send failure never touches workflow state. ``at`` is the business time of the whole run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection

from notifications.audit import failing_among
from notifications.claims import LEASE, Claimed, claim_row, due_rows, recover_stuck
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
from notifications.results import Delivery, Recorder
from notifications.transports import Connection as TransportConnection
from notifications.transports import SendResult, Transport, TransportError
from workflow import defaults
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow


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
        super().__init__(f"ingen brugbar modtager ({'; '.join(m for _, m in invalid.values())})")
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
        raise InvalidAddress(f"AFTALEFLOW_MAIL_FROM kan ikke bruges som adresse: {exc}") from exc
    report = DeliveryReport(at, worker)
    due = due_rows(db, at, limit=batch_size, lease=lease)
    if not due:
        return report
    with db.engine.connect() as conn:
        addresses = [str(r.get("email") or "").strip() for row in due for r in row.recipients]
        failing = failing_among(conn, addresses)
        bounced = bounced_among(conn, addresses)
        conn.commit()
        batch = _Batch(conn, transport, settings, at, worker, report)
        batch.bounced = bounced
        batch.run(due, Recorder(conn, at, worker, failing))
    return report


class _Batch:
    """One ``deliver_due``: the due rows claimed, sent and recorded one by one, in order."""

    def __init__(
        self,
        conn: Connection,
        transport: Transport,
        settings: MailSettings,
        at: datetime,
        worker: str,
        report: DeliveryReport,
    ) -> None:
        self.conn, self.transport, self.settings = conn, transport, settings
        self.at, self.worker, self.report = at, worker, report
        self.names: dict[int, dict[str, str]] = {}
        #: Addresses a bounce marked failing: a mail to none but them waits (``pause``).
        self.bounced: dict[str, str] = {}

    def take(self, row: OutboxRow) -> Claimed | None:
        c = claim_row(
            self.conn,
            row,
            self.at,
            domain=self.settings.mail_domain,
            worker=self.worker,
            names=self.names,
        )
        if c is not None:
            self.report.claimed += 1
            self.report.resent_after_crash += c.resent_after_crash
        return c

    def run(self, due: list[OutboxRow], recorder: Recorder) -> None:
        settings, at, report = self.settings, self.at, self.report
        envelope_from = _envelope_from(settings)
        with ExitStack() as smtp_open:
            smtp: TransportConnection | None = None
            pending = iter(due)
            in_flight: Claimed | None = None
            try:
                for row in pending:
                    if pause_if_bounced(self.conn, row, at, self.worker, self.bounced):
                        report.deliveries.append(
                            Delivery(row.id, row.idempotency_key, row.kind, "paused",
                                     row.message_id or "")
                        )  # fmt: skip
                        continue
                    in_flight = self.take(row)
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
                        smtp = smtp_open.enter_context(self.transport.connect())
                    result = smtp.send(
                        p.message, envelope_from=envelope_from, recipients=p.recipients
                    )
                    if p.invalid:
                        result = replace(result, refused={**result.refused, **p.invalid})
                    report.deliveries.append(recorder.record(in_flight, result, p.message.data))
                    in_flight = None
            except TransportError as exc:
                # The relay cannot be used: this mail and the rest of the batch wait (backoff).
                result = SendResult(error=str(exc), temporary=True)
                if in_flight is not None:
                    report.deliveries.append(recorder.record(in_flight, result))
                for row in pending:
                    c = self.take(row)
                    if c is not None:
                        report.deliveries.append(recorder.record(c, result))


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
