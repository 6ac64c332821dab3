"""The scheduler daemon: a clock that ticks the engine and drains the outbox.

All durable state is in the database; APScheduler (in-memory job store) only calls two jobs,
each with ``coalesce=True``, ``max_instances=1`` and ``misfire_grace_time=None``:

- ``tick``: ask the service what is due now and apply it (one transaction per process), then
  record the tick and the backlog (``aftaleflow status`` shows both). After downtime the
  first tick applies every missed action once and logs how late it was.
- ``send``: drain the outbox through the notifications sender (SMTP or ``.eml`` files).

Safe to run twice: on PostgreSQL several schedulers may run side by side (advisory locks per
process, ``FOR UPDATE SKIP LOCKED`` on the outbox); on SQLite a second one refuses to start.
SIGTERM or SIGINT stops it cleanly: running jobs finish, and a mail batch in flight is either
recorded or left claimable (a restart re-sends it with the same Message-ID).

``--demo`` runs the shipped Socialaftale cycle on a fast virtual clock with a simulated
secretariat (``make run``); ``--web`` serves the web app in the same process.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from aftaleflow import demo
from aftaleflow.config import Settings, from_env
from aftaleflow.devserver import WebServer, listening_address, start_web
from aftaleflow.inbox_job import add_inbox_job, inbox_reader
from workflow import defaults
from workflow.calendar import to_local
from workflow.clock import Clock, clock_from
from workflow.errors import AftaleflowError, SchedulerAlreadyRunning
from workflow.scheduling import Backlog, InstanceLock, last_tick_at, lock_sqlite_scheduler
from workflow.scheduling import record_tick as record_tick_state
from workflow.service import LATE_LOG_THRESHOLD, Service, TickReport
from workflow.storage.db import Database, describe_failure

log = logging.getLogger("aftaleflow.scheduler")

EXIT_OK = 0
EXIT_CONFIG = 2  # bad configuration, unreachable database, port in use
EXIT_ALREADY_RUNNING = 3  # another scheduler holds this SQLite database

MIN_INTERVAL_S = defaults.MIN_INTERVAL_S
#: Mails per claim; the send job claims batches until the outbox has nothing more due.
BATCH_SIZE = defaults.SEND_BATCH_SIZE
MAX_BATCHES_PER_RUN = defaults.MAX_BATCHES_PER_RUN
#: The first key of the PostgreSQL advisory lock that serialises migrations ("AM").
MIGRATION_LOCK_NS = 0x414D
BACKLOG_WARN_EVERY_S = defaults.BACKLOG_WARN_EVERY_S


# ---------------------------------------------------------------------- logging


_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message  action=… key=…``: one line per record, greppable."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += "  " + " ".join(f"{k}={_plain(v)}" for k, v in extras.items())
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki/ELK: the extras are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=_json_value, ensure_ascii=False)


def _json_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _plain(value: Any) -> str:
    s = value.isoformat() if isinstance(value, datetime) else str(value)
    return json.dumps(s, ensure_ascii=False) if (" " in s or not s) else s


class _NoMaxInstancesNoise(logging.Filter):
    """A run skipped because the previous one still runs is by design (max_instances=1)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


class _LateFilter(logging.Filter):
    """With a fast clock every action is a little late; keep the service's ``caught_up`` lines
    for actions later than the tick granularity (real downtime)."""

    def __init__(self, threshold: timedelta) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "action", None) != "caught_up":
            return True
        late = record.args[-1] if isinstance(record.args, tuple) and record.args else None
        return not isinstance(late, timedelta) or late > self.threshold


def setup_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_NoMaxInstancesNoise())
    # werkzeug logs every request line, personal-link tokens included: keep it out of INFO
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


# ---------------------------------------------------------------------- the jobs


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
            if self.demo_key:
                report.applied.extend(demo.secretariat(self.service, self.demo_key, at))
            after = record_tick_state(self.service.db, report, at)
        except (SQLAlchemyError, AftaleflowError) as e:
            log.error(
                "tick at %s failed (the next tick tries again): %s",
                at.isoformat(),
                _short(e),
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
        from notifications.sender import LEASE

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
        from notifications.sender import deliver_due, recover_stuck

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
                _short(e),
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


def _short(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    return " ".join(str(orig or e).split())[:300]


# ---------------------------------------------------------------------- start-up


def parse_args(argv: list[str] | None, env: Mapping[str, str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="run_scheduler.py",
        description="Aftaleflows scheduler: kører motorens tick og tømmer udbakken.",
        epilog="Hvert flag falder tilbage på den AFTALEFLOW_*-variabel, der står i dets hjælp. "
        "Exitkoder: 0 stoppet pænt, 2 problem med konfiguration eller database, "
        "3 en anden scheduler kører allerede på denne SQLite-database.",
    )
    p.add_argument("--tick-seconds", type=float, default=None,
                   help="forretningssekunder mellem tick (AFTALEFLOW_TICK_SECONDS, 60)")  # fmt: skip
    p.add_argument("--send-seconds", type=float, default=None,
                   help="forretningssekunder mellem tømninger af udbakken (AFTALEFLOW_SEND_SECONDS, 30)")  # fmt: skip
    p.add_argument("--start", default=env.get("AFTALEFLOW_CLOCK_START"),
                   help="kør på et virtuelt ur fra dette tidspunkt, fx 2022-01-10 "
                        "(AFTALEFLOW_CLOCK_START); dansk tid uden forskydning")  # fmt: skip
    p.add_argument("--speed", default=env.get("AFTALEFLOW_CLOCK_SPEED"),
                   help="det virtuelle urs hastighed: en faktor (172800) eller tid pr. sekund (2d, 12h) "
                        "(AFTALEFLOW_CLOCK_SPEED)")  # fmt: skip
    p.add_argument("--origin", default=env.get("AFTALEFLOW_CLOCK_ORIGIN"),
                   help="den virkelige tid (Unix-sekunder eller ISO), hvor det virtuelle ur viste --start; "
                        "holder én tidslinje på tværs af genstarter og processer (AFTALEFLOW_CLOCK_ORIGIN)")  # fmt: skip
    p.add_argument("--demo", action="store_true", default=_flag(env.get("AFTALEFLOW_DEMO")),
                   help="opret og kør demoen: Socialaftale 2022 på et hurtigt ur med et "
                        "simuleret sekretariat (AFTALEFLOW_DEMO=1)")  # fmt: skip
    p.add_argument("--web", action="store_true", default=_flag(env.get("AFTALEFLOW_WEB")),
                   help="kør også webappen i denne proces (udvikling/demo; brug gunicorn "
                        "i drift) (AFTALEFLOW_WEB=1)")  # fmt: skip
    p.add_argument("--bind", default=env.get("AFTALEFLOW_BIND"),
                   help="VÆRT:PORT til --web (AFTALEFLOW_BIND; standard: vært og port fra "
                        "AFTALEFLOW_BASE_URL)")  # fmt: skip
    p.add_argument("--log-format", choices=("text", "json"),
                   default=env.get("AFTALEFLOW_LOG_FORMAT", "text"),
                   help="loglinjer som tekst eller JSON (AFTALEFLOW_LOG_FORMAT)")  # fmt: skip
    p.add_argument("--log-level", default=env.get("AFTALEFLOW_LOG_LEVEL", "INFO"),
                   help="DEBUG, INFO, WARNING (AFTALEFLOW_LOG_LEVEL)")  # fmt: skip
    return p.parse_args(argv)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def migrate(db: Database) -> None:
    """Bring the schema up to date; on PostgreSQL one scheduler at a time."""
    if db.engine.dialect.name != "postgresql":
        db.migrate()
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:ns, 0)"), {"ns": MIGRATION_LOCK_NS})
        try:
            db.migrate()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:ns, 0)"), {"ns": MIGRATION_LOCK_NS})
            conn.commit()


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    args = parse_args(argv, env)
    try:
        setup_logging(args.log_format, args.log_level)
    except ValueError:
        return _fail(
            f"konfiguration: logniveau {args.log_level!r}: skriv DEBUG, INFO eller WARNING"
        )
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: where is it stuck?
    try:
        settings = from_env(env)
        if args.web:
            settings = listening_address(settings, args.bind, env)
        _check_mail(settings)
    except AftaleflowError as e:
        return _fail(f"konfiguration: {e}")
    try:
        lock = lock_sqlite_scheduler(settings.database_url)
    except SchedulerAlreadyRunning as e:
        print(f"aftaleflow scheduler: {e}", file=sys.stderr, flush=True)
        return EXIT_ALREADY_RUNNING
    except AftaleflowError as e:
        return _fail(str(e))
    db: Database | None = None
    try:
        db = Database(settings.database_url)
        return _run(args, settings, db, lock)
    except AftaleflowError as e:
        return _fail(str(e))
    except SQLAlchemyError as e:
        return _fail(f"databaseproblem ved start: {describe_failure(settings.database_url, e)}")
    finally:
        if db is not None:
            db.dispose()
        if lock is not None:
            lock.release()


def _check_mail(settings: Settings) -> None:
    """A bad mail setting stops the scheduler now, not in every later mail run."""
    try:
        from aftaleflow.cli_mail import make_transport
    except ImportError:  # notifications not installed: the scheduler only ticks
        return
    make_transport(settings)


def _fail(message: str) -> int:
    print(f"aftaleflow scheduler: {message}", file=sys.stderr, flush=True)
    return EXIT_CONFIG


def _run(
    args: argparse.Namespace, settings: Settings, db: Database, lock: InstanceLock | None
) -> int:
    where = db.engine.url.render_as_string()  # hides the password
    try:
        migrate(db)
    except SQLAlchemyError as e:
        return _fail(describe_failure(settings.database_url, e))
    service = Service(db, link_secret=settings.secret_key)

    the_demo: demo.Demo | None = None
    start, speed = args.start, args.speed
    if args.demo:
        the_demo = demo.seed(service)
        start = start or the_demo.start.isoformat()
        speed = speed or demo.SPEED
    last = last_tick_at(db)
    clock = clock_from(start, speed, args.origin, resume_from=last)
    intervals = Intervals.for_clock(
        clock,
        args.tick_seconds or settings.tick_seconds,
        args.send_seconds or settings.send_seconds,
    )
    logging.getLogger("aftaleflow.service").addFilter(_LateFilter(intervals.late_threshold))

    stopping = threading.Event()
    ticker = Ticker(
        service,
        clock,
        intervals,
        demo_key=the_demo.key if the_demo else None,
        stopping=stopping,
        previous=last,
    )
    mailer: Mailer | None = None
    try:
        mailer = Mailer(settings, db, clock, exclusive=lock is not None, stopping=stopping)
    except (ValueError, AftaleflowError) as e:  # AFTALEFLOW_SMTP_URL, AFTALEFLOW_MAIL_FROM
        return _fail(f"konfiguration: {e}")
    except ImportError:
        log.warning(
            "mail delivery is not installed (notifications); only ticking",
            extra={"action": "send_unavailable"},
        )

    inbox = inbox_reader(settings, db, clock, stopping=stopping)  # AFTALEFLOW_IMAP_URL checked

    web: WebServer | None = None
    if args.web:
        web = start_web(settings, clock, args.bind or settings.base_url)

    scheduler = BlockingScheduler(timezone=UTC, jobstores={"default": MemoryJobStore()})
    common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    first = datetime.now(UTC)
    scheduler.add_job(ticker, "interval", seconds=intervals.tick_s, id="tick", name="tick",
                      next_run_time=first, **common)  # fmt: skip
    if mailer is not None:
        scheduler.add_job(mailer, "interval", seconds=intervals.send_s, id="send", name="send",
                          next_run_time=first, **common)  # fmt: skip
    add_inbox_job(
        scheduler, inbox, seconds=intervals.send_s, common={**common, "next_run_time": first}
    )

    _banner(settings, where, clock, intervals, mailer, web, the_demo, args.web)
    # SIGTERM/SIGINT: the handler only sets a flag and starts a thread that shuts the
    # scheduler down (waiting for the running jobs). Raising from the handler would be
    # swallowed by APScheduler, which catches BaseException around job submission; and
    # shutting down in the handler itself would re-enter locks the main thread may hold.
    stopper: list[threading.Thread] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            log.warning(
                "second signal: exiting at once; mails being sent stay claimable",
                extra={"action": "scheduler_killed"},
            )
            os._exit(130)
        stopping.set()
        log.info(
            "stopping on %s: letting the running jobs finish",
            signal.Signals(signum).name,
            extra={"action": "scheduler_stopping"},
        )
        thread = threading.Thread(target=shut_down, name="stopper")
        stopper.append(thread)
        thread.start()

    def shut_down() -> None:
        for _ in range(500):  # a signal may come a moment before start() got going
            if scheduler.running:
                break
            time.sleep(0.01)
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # logged once a signal is handled: whoever waits for this line may send SIGTERM
    log.info(
        "scheduler started",
        extra={
            "action": "scheduler_started",
            "database": where,
            "clock": clock.describe(),
            "tick_s": intervals.tick_s,
            "send_s": intervals.send_s,
            "demo": the_demo.key if the_demo else "",
            "pid": os.getpid(),
        },
    )
    try:
        scheduler.start()  # returns once the stopper has stopped it
    finally:
        for thread in stopper:
            thread.join()  # the jobs in flight have finished
        if scheduler.running:  # start() failed
            scheduler.shutdown(wait=True)
        # stopped: a repeated signal (a terminal's or a process group's) changes nothing now
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if web is not None:
            web.stop()
    log.info("scheduler stopped", extra={"action": "scheduler_stopped"})
    return EXIT_OK


def _banner(
    settings: Settings,
    where: str,
    clock: Clock,
    intervals: Intervals,
    mailer: Mailer | None,
    web: WebServer | None,
    the_demo: demo.Demo | None,
    wanted_web: bool,
) -> None:
    """What ``make run`` prints: where to look, how to log in, and how to stop."""
    lines = ["Aftaleflow kører" + (f" — demo: {the_demo.title}" if the_demo else "")]
    if web is not None:
        lines.append(f"  Web:       {web.url}")
        if the_demo and the_demo.login:
            lines.append(
                f"  Login:     {demo.LOGIN_USER} / {demo.LOGIN_PASSWORD} "
                f"(sekretariatet: {web.url}sekretariat/)"
            )
    elif wanted_web:
        lines.append("  Web:       (web-appen er ikke installeret endnu; kun scheduleren kører)")
    lines.append(f"  Database:  {where}")
    if mailer is not None:
        also = " og på udbakke-siden i web-appen" if web is not None else ""
        lines.append(f"  Mail:      {mailer.description}{also}")
    else:
        lines.append("  Mail:      (notifications er ikke installeret: ingen mails sendes)")
    lines.append(f"  Ur:        {clock.describe()}")
    lines.append(
        f"  Job:       tick hvert {intervals.tick_s:g}. sekund, send hvert {intervals.send_s:g}. sekund"
    )
    lines.append("Stop med Ctrl-C.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
