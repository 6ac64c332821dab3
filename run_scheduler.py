"""The scheduler daemon: a clock that ticks the engine and drains the outbox.

All durable state is in the database; APScheduler only calls ``tick(at=now)`` and ``send``
(in-memory job store, ``coalesce=True``, ``max_instances=1``, ``misfire_grace_time=None``).
A restart after downtime catches up on the first tick by itself.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from aftaleflow.config import Settings, from_env
from workflow.errors import AftaleflowError
from workflow.scheduling import record_tick
from workflow.service import Service, system_clock
from workflow.storage.db import Database

log = logging.getLogger("aftaleflow.scheduler")


def make_tick(service: Service, clock: Callable[[], datetime]) -> Callable[[], None]:
    def tick() -> None:
        at = clock()
        report = service.tick(at)
        record_tick(service.db, report, at)
        if report.applied:
            log.info("tick applied %d action(s) in %d process(es)", len(report.applied),
                     report.processes, extra={"action": "tick_applied"})

    return tick


def make_send(settings: Settings, db: Database,
              clock: Callable[[], datetime]) -> Callable[[], None] | None:
    try:
        from aftaleflow.cli_mail import deliver_callback
    except ImportError:  # the notifications package is not installed
        return None
    deliver = deliver_callback(settings, db)

    def send() -> None:
        deliver(clock())

    return send


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tick-seconds", type=int, default=None)
    parser.add_argument("--send-seconds", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    settings = from_env()
    db = Database(settings.database_url)
    try:
        db.migrate()
    except Exception as e:  # the database is unreachable or broken: say so, no traceback
        print(f"aftaleflow scheduler: cannot use the database {settings.database_url}: {e}",
              file=sys.stderr)
        return 2
    service = Service(db, link_secret=settings.secret_key)
    clock = system_clock
    tick = make_tick(service, clock)
    send = make_send(settings, db, clock)

    scheduler = BlockingScheduler(timezone="Europe/Copenhagen")
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler.add_job(tick, "interval", seconds=args.tick_seconds or settings.tick_seconds,
                      id="tick", next_run_time=clock(), **common)
    if send is not None:
        scheduler.add_job(send, "interval", seconds=args.send_seconds or settings.send_seconds,
                          id="send", next_run_time=clock(), **common)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum, extra={"action": "scheduler_stopping"})
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Aftaleflow scheduler kører på {db.engine.url.render_as_string()} "
          f"(tick hvert {args.tick_seconds or settings.tick_seconds}. sekund). Stop med Ctrl-C.",
          flush=True)
    try:
        scheduler.start()
    except AftaleflowError as e:
        print(f"aftaleflow scheduler: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
