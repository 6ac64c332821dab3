"""Running the scheduler until SIGTERM or SIGINT, and stopping it cleanly.

The signal handler only sets a flag and starts a thread that shuts the scheduler down
(waiting for the running jobs). Raising from the handler would be swallowed by APScheduler,
which catches BaseException around job submission; and shutting down in the handler itself
would re-enter locks the main thread may hold. A second signal exits at once: mails being
sent stay claimable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from aftaleflow.devserver import WebServer

log = logging.getLogger("aftaleflow.scheduler")


def serve(
    scheduler: BlockingScheduler,
    stopping: threading.Event,
    *,
    web: WebServer | None,
    started: Mapping[str, Any],
) -> None:
    """Run ``scheduler`` until a signal has stopped it and its running jobs have finished;
    ``started``: the extras of the "scheduler started" line."""
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
    log.info("scheduler started", extra={"action": "scheduler_started", **started})
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
