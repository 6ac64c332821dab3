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

This file reads the arguments and the environment and wires the parts; the jobs are in
``aftaleflow/scheduler_jobs.py``, the log format in ``aftaleflow/scheduler_logging.py`` and
the run until a signal in ``aftaleflow/scheduler_loop.py``.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from aftaleflow import demo
from aftaleflow.config import Settings, from_env
from aftaleflow.devserver import WebServer, listening_address, start_web
from aftaleflow.inbox_job import InboxReader, add_inbox_job, inbox_reader
from aftaleflow.scheduler_jobs import Intervals, Mailer, Ticker
from aftaleflow.scheduler_logging import LateFilter, setup_logging
from aftaleflow.scheduler_loop import serve
from workflow.clock import Clock, clock_from
from workflow.errors import AftaleflowError, SchedulerAlreadyRunning
from workflow.risk_reads import calendars_of
from workflow.scheduling import InstanceLock, last_tick_at, lock_sqlite_scheduler
from workflow.service import Service
from workflow.storage.db import Database, describe_failure

log = logging.getLogger("aftaleflow.scheduler")

EXIT_OK = 0
EXIT_CONFIG = 2  # bad configuration, unreachable database, port in use
EXIT_ALREADY_RUNNING = 3  # another scheduler holds this SQLite database

#: The first key of the PostgreSQL advisory lock that serialises migrations ("AM").
MIGRATION_LOCK_NS = 0x414D


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
    service = Service(db, link_secret=settings.secret_key, calendars=calendars_of)
    the_demo, clock, last = _clock(args, service, db)
    intervals = Intervals.for_clock(
        clock,
        args.tick_seconds or settings.tick_seconds,
        args.send_seconds or settings.send_seconds,
    )
    logging.getLogger("aftaleflow.service").addFilter(LateFilter(intervals.late_threshold))

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

    scheduler = _scheduler(intervals, ticker, mailer, inbox)
    _banner(settings, where, clock, intervals, mailer, web, the_demo, args.web)
    started = {
        "database": where,
        "clock": clock.describe(),
        "tick_s": intervals.tick_s,
        "send_s": intervals.send_s,
        "demo": the_demo.key if the_demo else "",
        "pid": os.getpid(),
    }
    serve(scheduler, stopping, web=web, started=started)
    return EXIT_OK


def _scheduler(
    intervals: Intervals, ticker: Ticker, mailer: Mailer | None, inbox: InboxReader | None
) -> BlockingScheduler:
    """The jobs, each with ``coalesce=True``, ``max_instances=1``, ``misfire_grace_time=None``
    and a first run now."""
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
    return scheduler


def _clock(
    args: argparse.Namespace, service: Service, db: Database
) -> tuple[demo.Demo | None, Clock, datetime | None]:
    """The demo (seeded with ``--demo``), the scheduler's clock (resumed from the last tick
    recorded), and that last tick."""
    the_demo: demo.Demo | None = None
    start, speed = args.start, args.speed
    if args.demo:
        the_demo = demo.seed(service)
        start = start or the_demo.start.isoformat()
        speed = speed or demo.SPEED
    last = last_tick_at(db)
    return the_demo, clock_from(start, speed, args.origin, resume_from=last), last


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
