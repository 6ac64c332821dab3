"""Fixtures for the scheduler's acceptance tests: ``run_scheduler.py`` as a real subprocess,
a real SMTP server on loopback (aiosmtpd in this process), and the database it writes.

Nothing is mocked. The only waiting is bounded polling for what a subprocess visibly does
(a row in the database, a mail at the SMTP server, a line in its output), with a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text

from aftaleflow import demo
from tests.conftest import PG_URL, ROOT
from workflow.risk_reads import calendars_of
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

SCHEDULER = ROOT / "run_scheduler.py"
T = TypeVar("T")


def free_port() -> int:
    """aiosmtpd's ``Controller(port=0)`` fails its ready check: pick a free port first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.05) -> T:
    """Call ``check`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:g} s: {what}")
        time.sleep(every)


# ---------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class Received:
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()

    @property
    def key(self) -> str:
        return str(self.message["X-Aftaleflow-Key"] or "").strip()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.sink.lock:
            self.sink._received.append(Received(tuple(envelope.rcpt_tos), bytes(envelope.content)))
            n = len(self.sink._received)
        if self.sink.on_data is not None:
            # e.g. kill the scheduler now: the message has arrived, the sender never hears 250
            self.sink.on_data(n)
        return "250 2.0.0 Ok: queued"


@dataclass
class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps every message it accepts."""

    port: int = field(default_factory=free_port)
    on_data: Callable[[int], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _received: list[Received] = field(default_factory=list)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=10"

    @property
    def received(self) -> list[Received]:
        with self.lock:
            return list(self._received)

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


# ---------------------------------------------------------------------- the scheduler process


def scheduler_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a scheduler subprocess: no AFTALEFLOW_* leaks in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTALEFLOW_")}
    env.update(
        AFTALEFLOW_VAR_DIR=str(var_dir),
        AFTALEFLOW_SECRET_KEY="acceptance-secret",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class SchedulerProcess:
    """``python run_scheduler.py ARGS`` with its output in files (no pipe can fill up)."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path, name: str) -> None:
        self.args = args
        self.env = env
        self.log_dir = log_dir
        self.name = name
        self.runs = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def out_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.runs}.out"

    @property
    def err_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.runs}.err"

    def start(self) -> SchedulerProcess:
        assert self.proc is None or self.proc.poll() is not None
        self.runs += 1
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(SCHEDULER), *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=err,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def kill9(self) -> bool:
        """SIGKILL; True if it was running. Reaps it, so the next start can follow at once."""
        if not self.alive():
            return False
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return True

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code. A run that has just been
        (re)started is first let up to ``scheduler_started`` (its signal handlers are set by
        then); before that the signal would end it like any process that handles none."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.wait_started()
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stdout(self, run: int | None = None) -> str:
        return self._read("out", run)

    def stderr(self, run: int | None = None) -> str:
        return self._read("err", run)

    def all_output(self) -> str:
        return "".join(self.stdout(r) + self.stderr(r) for r in range(1, self.runs + 1))

    def _read(self, kind: str, run: int | None) -> str:
        path = self.log_dir / f"{self.name}-{run or self.runs}.{kind}"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        if self.alive():
            self.kill9()

    def wait_started(self, timeout: float = 60) -> None:
        """Until it logs ``scheduler_started`` (its schema is migrated by then)."""

        def started() -> bool:
            code = self.returncode()
            assert code is None, f"{self.name} exited with {code}:\n{self.stderr()}"
            return "action=scheduler_started" in self.stderr()

        poll(started, timeout, f"{self.name} did not start")


@pytest.fixture
def schedulers() -> Iterator[list[SchedulerProcess]]:
    """Every scheduler a test starts is killed at the end, whatever happened."""
    started: list[SchedulerProcess] = []
    yield started
    for p in started:
        p.close()


@contextmanager
def opened(url: str) -> Iterator[Database]:
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


# ---------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty schema on the test PostgreSQL (skipped without one)."""
    if not PG_URL:
        pytest.skip("AFTALEFLOW_TEST_DATABASE_URL is not set")
    schema = f"sched_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


# ---------------------------------------------------------------------- what should go out


@dataclass(frozen=True)
class Reference:
    """The demo year run in-process without a crash: every mail key, and when it ended."""

    kinds: dict[str, str]
    end: datetime


def reference_run(tmp_path: Path) -> Reference:
    """Tick exactly at every due moment, with the demo secretariat, on a database of its own.

    This is the independent expectation: the subprocess runs under test must produce the same
    mails (a catch-up may only skip a reminder another one overtook, and say so).
    """
    with opened(f"sqlite:///{tmp_path / 'reference.db'}") as db:
        db.migrate()
        service = Service(db, link_secret="reference", calendars=calendars_of)  # as the scheduler
        the_demo = demo.seed(service)
        at = the_demo.start
        for _ in range(10_000):
            service.tick(at)
            demo.secretariat(service, the_demo.key, at)
            upcoming = [
                t
                for t in (service.next_due(), demo.next_outcome_at(service, the_demo.key))
                if t is not None
            ]
            if not upcoming:
                break
            at = max(at, min(upcoming))
        with db.sessions() as s:
            kinds = {_neutral(r.idempotency_key): r.kind for r in s.scalars(select(OutboxRow))}
    return Reference(kinds, at)


def _neutral(key: str) -> str:
    """An idempotency key without its process id: ``p7/stage/...`` → ``p/stage/...``."""
    return re.sub(r"^p\d+/", "p/", key)


@dataclass
class Verdict:
    mails: int
    receipts: int
    resent: dict[str, int]
    skipped: set[str]
    cancelled: set[str]


def check_deliveries(db: Database, received: list[Received], reference: Reference) -> Verdict:
    """Every expected mail arrived; none is missing; duplicates are same-Message-ID resends."""
    with db.sessions() as s:
        rows = {r.idempotency_key: r for r in s.scalars(select(OutboxRow))}
        events = list(
            s.scalars(
                select(EventRow).where(
                    EventRow.kind.in_(
                        (
                            "reminder_skipped",
                            "mail_resent_after_crash",
                            "meeting_invitations_skipped",
                            "workshop_reminders_skipped",
                        )
                    )
                )
            )
        )
    # keys start with the process id ("p1/..."); the reference run's process is 1
    rows = {_neutral(k): r for k, r in rows.items()}
    statuses = {k: r.status for k, r in rows.items()}
    # (a digest queued on the last Monday may still wait when the run stops: it is extra to the
    # reference's year, and tests/integration/test_digest.py covers its delivery)
    stuck = {
        k: v
        for k, v in statuses.items()
        if v not in ("sent", "cancelled") and rows[k].kind != "digest"
    }
    assert not stuck, f"mails not delivered: {stuck}"

    # the weekly digest depends on which Mondays the scheduler saw (the reference ticks only at
    # due moments): it is not compared, but it too must arrive once (below)
    digests = {k for k, r in rows.items() if r.kind == "digest"}
    unexpected = set(rows) - set(reference.kinds) - digests
    assert not unexpected, f"mails nobody expected: {sorted(unexpected)}"
    skipped = {
        f"p/{e.stage_id}/{e.party}/{e.step}/reminder/{e.data['n']}"
        for e in events
        if e.kind == "reminder_skipped"
    }
    cancelled = {k for k, v in statuses.items() if v == "cancelled"}
    sent = {k for k, v in statuses.items() if v == "sent"}
    missing = set(reference.kinds) - sent
    # a scheduler that starts late skips invitations to meetings already over (and says so)
    over = {
        (e.stage_id, ev)
        for e in events
        if e.kind == "meeting_invitations_skipped"
        for ev in e.data["events"]
    }
    # and the sign-up reminders of a workshop whose sign-up had closed when it caught up
    closed = {(e.stage_id, e.step) for e in events if e.kind == "workshop_reminders_skipped"}
    unexplained = {
        k
        for k in missing
        if not (reference.kinds[k] == "reminder" and k in skipped | cancelled)
        and not (
            reference.kinds[k] == "meeting_invitation"
            and (k.split("/")[1], k.split("/")[3]) in over
        )
        and not (
            reference.kinds[k] == "workshop_signup_reminder"
            and (k.split("/")[1], k.split("/")[3]) in closed
        )
    }
    assert not unexplained, f"expected mails that never went out: {sorted(unexplained)}"

    by_id = {rows[k].message_id: k for k in sent}
    counts: dict[str, int] = {}
    for r in received:
        counts[r.message_id] = counts.get(r.message_id, 0) + 1
        assert r.message_id in by_id, f"a mail the database does not know: {r.message_id}"
        assert _neutral(r.key) == by_id[r.message_id], "the Message-ID belongs to another mail"
        assert all(a.endswith(".example") for a in r.rcpt_tos), r.rcpt_tos
    assert set(counts) == set(by_id), (
        f"sent but never received: {sorted(by_id[m] for m in set(by_id) - set(counts))}"
    )
    resent = {by_id[m]: n - 1 for m, n in counts.items() if n > 1}
    flagged = {
        _neutral(str(e.data.get("key"))) for e in events if e.kind == "mail_resent_after_crash"
    }
    assert set(resent) <= flagged, "a mail arrived twice without a crash behind it"
    return Verdict(len(sent), len(received), resent, skipped & missing, cancelled)
