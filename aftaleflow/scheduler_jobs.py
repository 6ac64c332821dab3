"""The scheduler's two jobs, each an object APScheduler calls: ``Ticker`` (apply what is due,
record the tick and the backlog) and ``Mailer`` (drain the outbox in batches), and the
``Intervals`` between their runs on the scheduler's clock."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from aftaleflow import demo
from aftaleflow.config import Settings
from workflow import defaults
from workflow.calendar import to_local
from workflow.clock import Clock
from workflow.errors import AftaleflowError
from workflow.scheduling import Backlog
from workflow.scheduling import record_tick as record_tick_state
from workflow.service import LATE_LOG_THRESHOLD, Service, TickReport
from workflow.storage.db import Database

log = logging.getLogger("aftaleflow.scheduler")

MIN_INTERVAL_S = defaults.MIN_INTERVAL_S
#: Mails per claim; the send job claims batches until the outbox has nothing more due.
BATCH_SIZE = defaults.SEND_BATCH_SIZE
MAX_BATCHES_PER_RUN = defaults.MAX_BATCHES_PER_RUN
BACKLOG_WARN_EVERY_S = defaults.BACKLOG_WARN_EVERY_S


@dataclass(frozen=True)
class Intervals:
    """Wall-clock seconds between job runs, and the business time one tick spans."""

    tick_s: float
    send_s: float
    speed: float

    @classmethod
    def for_clock(cls, clock: Clock, tick_business_s: float, send_business_s: float) -> Intervals:
        return cls(
            max(MIN_INTERVAL_S, tick_business_s / clock.speed),
            max(MIN_INTERVAL_S, send_business_s / clock.speed),
            clock.speed,
        )

    @property
    def late_threshold(self) -> timedelta:
        """Later than this is "caught up after downtime", not ordinary tick granularity."""
        return max(LATE_LOG_THRESHOLD, timedelta(seconds=2 * self.tick_s * self.speed))

    @property
    def backlog_threshold(self) -> timedelta:
        """A mail or process due longer than this is a backlog worth a warning."""
        return max(timedelta(minutes=15), timedelta(seconds=5 * self.send_s * self.speed))


class Ticker:
    """The ``tick`` job: apply what is due, let the demo secretariat act, record the tick."""

    def __init__(
        self,
        service: Service,
        clock: Clock,
        intervals: Intervals,
        *,
        demo_key: str | None = None,
        stopping: threading.Event | None = None,
        previous: datetime | None = None,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.service = service
        self.stopping = stopping or threading.Event()
        #: The last tick recorded before this scheduler started (logged on the first run).
        self.previous = previous
        self.clock = clock
        self.intervals = intervals
        self.demo_key = demo_key
        self._wall = wall or time.monotonic
        self._last_backlog_warning = 0.0
        #: Who the audit log names for what this scheduler applies.
        self.actor = f"scheduler@{socket.gethostname()}:{os.getpid()}"

    def __call__(self) -> None:
        if self.stopping.is_set():  # queued just before the signal: nothing new now
            return
        at = self.clock()
        if self.previous is not None:
            self._resumed(self.previous, at)
            self.previous = None
        try:
            report = self.service.tick(at, actor=self.actor)
            self.service.queue_digests(at)  # the weekly status digest, on Mondays
            if self.demo_key:
                report.applied.extend(demo.secretariat(self.service, self.demo_key, at))
            after = record_tick_state(self.service.db, report, at)
        except (SQLAlchemyError, AftaleflowError) as e:
            log.error(
                "tick at %s failed (the next tick tries again): %s",
                at.isoformat(),
                short_error(e),
                extra={"action": "tick_failed", "at": at},
            )
            return
        self._log(report, after, at)

    def _resumed(self, last: datetime, at: datetime) -> None:
        if at - last > self.intervals.late_threshold:
            log.info(
                "the last tick was at %s, %s ago: this tick catches up",
                f"{to_local(last):%Y-%m-%d %H:%M}",
                at - last,
                extra={
                    "action": "scheduler_resumed",
                    "last_tick": last,
                    "downtime_s": int((at - last).total_seconds()),
                },
            )

    def _log(self, report: TickReport, after: Backlog, at: datetime) -> None:
        if report.applied:
            processes = len({a.process_key for a in report.applied})
            log.info(
                "tick %s: applied %d action(s) in %d process(es)",
                f"{to_local(at):%Y-%m-%d %H:%M}",
                len(report.applied),
                processes,
                extra={
                    "action": "tick_applied",
                    "at": at,
                    "applied": len(report.applied),
                    "processes": processes,
                },
            )
        late = [a for a in report.applied if a.late_by > self.intervals.late_threshold]
        if late:
            worst = max(a.late_by for a in late)
            log.info(
                "caught up %d action(s) that fell due while no tick ran; the latest by %s",
                len(late),
                worst,
                extra={
                    "action": "tick_caught_up",
                    "at": at,
                    "late": len(late),
                    "max_late_s": int(worst.total_seconds()),
                },
            )
        now = self._wall()
        if (
            not after.empty
            and after.oldest_age > self.intervals.backlog_threshold
            and now - self._last_backlog_warning >= BACKLOG_WARN_EVERY_S
        ):
            self._last_backlog_warning = now
            log.warning(
                "backlog: %d process(es) and %d mail(s) overdue, the oldest by %s",
                after.processes_due,
                after.mails_due,
                after.oldest_age,
                extra={"action": "backlog", **after.as_dict()},
            )


class Mailer:
    """The ``send`` job: claim and send batches until nothing more is due.

    ``exclusive`` (SQLite, where this is the only scheduler): mails a crashed run left in
    ``sending`` are queued again on the first run. Otherwise (PostgreSQL, maybe several
    schedulers) they are reclaimed when their lease runs out: the sender's lease is ten
    minutes of wall time, so it is stretched by the clock's speed.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        *,
        exclusive: bool,
        stopping: threading.Event,
    ) -> None:
        from aftaleflow.cli_mail import make_transport
        from notifications.claims import LEASE

        self.settings = settings
        self.db = db
        self.clock = clock
        self.transport = make_transport(settings)
        self.lease = LEASE * clock.speed
        self.recover_pending = exclusive
        self.stopping = stopping
        self.worker = f"scheduler@{socket.gethostname()}:{os.getpid()}"

    @property
    def description(self) -> str:
        return self.transport.description

    def __call__(self) -> None:
        from notifications.claims import recover_stuck
        from notifications.sender import deliver_due

        if self.stopping.is_set():
            return
        at = self.clock()
        totals = {"sent": 0, "retry": 0, "failed": 0, "resent_after_crash": 0}
        try:
            if self.recover_pending:
                recover_stuck(self.db, at, worker=self.worker)
                self.recover_pending = False
            for _ in range(MAX_BATCHES_PER_RUN):
                report = deliver_due(
                    self.db,
                    self.transport,
                    self.settings,
                    at,
                    batch_size=BATCH_SIZE,
                    worker=self.worker,
                    lease=self.lease,
                )
                totals["sent"] += report.sent
                totals["retry"] += report.retried
                totals["failed"] += report.failed
                totals["resent_after_crash"] += report.resent_after_crash
                if report.claimed < BATCH_SIZE or self.stopping.is_set():
                    break
        except SQLAlchemyError as e:
            log.error(
                "sending failed (the next run tries again): %s",
                short_error(e),
                extra={"action": "send_failed", "at": at},
            )
        if any(totals.values()):
            log.info(
                "sent %d mail(s), %d to retry, %d failed, %d resent after a crash",
                totals["sent"],
                totals["retry"],
                totals["failed"],
                totals["resent_after_crash"],
                extra={"action": "mail_batch", "at": at, **totals},
            )


def short_error(e: BaseException) -> str:
    """An exception in one line (a driver error's own message), for a log line."""
    orig = getattr(e, "orig", None)
    return " ".join(str(orig or e).split())[:300]
