"""The scheduler as an operator runs it: ``run_scheduler.py`` in real subprocesses.

- one scheduler per SQLite database: a second one refuses, and ``kill -9`` frees the lock;
- after downtime the first tick catches up and says how late it was; the backlog is recorded;
- ``kill -9`` at 20 random moments across a simulated year loses no mail and sends none
  twice, except the one a crash interrupted, re-sent with its Message-ID;
- two schedulers side by side on PostgreSQL send every mail exactly once.
"""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.acceptance.conftest import (
    SchedulerProcess,
    SmtpSink,
    check_deliveries,
    free_port,
    opened,
    poll,
    reference_run,
    scheduler_env,
)
from workflow.clock import parse_moment
from workflow.scheduling import last_tick_at
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, SchedulerStateRow

#: The demo year from just before the first meeting (nothing happens earlier).
START = "2022-02-28T00:00"


def sqlite_url(var: Path) -> str:
    return f"sqlite:///{var / 'aftaleflow.db'}"


# ---------------------------------------------------------------------- one scheduler on SQLite


def test_a_second_scheduler_on_the_same_sqlite_database_refuses_to_start(
    tmp_path: Path, schedulers: list[SchedulerProcess]
) -> None:
    var = tmp_path / "var"
    env = scheduler_env(var)
    first = SchedulerProcess(["--demo"], env, tmp_path / "logs", "first").start()
    schedulers.append(first)
    first.wait_started()

    second = SchedulerProcess(["--demo"], env, tmp_path / "logs", "second").start()
    schedulers.append(second)
    code = poll(second.returncode, 60, "the second scheduler did not exit")
    assert code == 3
    message = second.stderr()
    assert f"en anden scheduler (pid {first.pid}) kører allerede" in message
    assert "Der må kun køre én scheduler på SQLite" in message
    assert "PostgreSQL" in message
    assert "Traceback" not in message
    assert first.alive(), "the first scheduler must be left alone"

    # The lock lives exactly as long as its process, even one killed with SIGKILL.
    assert first.kill9()
    third = SchedulerProcess(["--demo"], env, tmp_path / "logs", "third").start()
    schedulers.append(third)
    third.wait_started()  # the lock went with the killed process
    assert third.terminate() == 0
    assert "scheduler_stopped" in third.stderr()


def test_a_second_scheduler_reaching_the_database_through_a_symlink_refuses_to_start(
    tmp_path: Path, schedulers: list[SchedulerProcess]
) -> None:
    var = tmp_path / "var"
    first = SchedulerProcess([], scheduler_env(var), tmp_path / "logs", "first").start()
    schedulers.append(first)
    first.wait_started()  # it has created and migrated var/aftaleflow.db
    link = tmp_path / "elsewhere" / "same.db"
    link.parent.mkdir()
    link.symlink_to(var / "aftaleflow.db")

    env = scheduler_env(tmp_path / "other-var", AFTALEFLOW_DATABASE_URL=f"sqlite:///{link}")
    second = SchedulerProcess([], env, tmp_path / "logs", "second").start()
    schedulers.append(second)

    assert poll(second.returncode, 60, "the second scheduler did not exit") == 3
    message = second.stderr()
    assert f"en anden scheduler (pid {first.pid}) kører allerede" in message
    assert str(var / "aftaleflow.db") in message  # the real file, not the link
    assert "Traceback" not in message
    assert first.alive()
    assert not (link.parent / "same.db.scheduler.lock").exists()
    assert first.terminate() == 0


# ---------------------------------------------------------------------- catch-up and backlog


def test_after_downtime_the_first_tick_catches_up_once_and_records_the_backlog(
    tmp_path: Path, schedulers: list[SchedulerProcess]
) -> None:
    """The demo process was started on 10 January; the scheduler first runs on 30 May.

    The relay is down (a closed port), so the mails pile up: the backlog shows it.
    """
    var = tmp_path / "var"
    dead_relay = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    env = scheduler_env(var, AFTALEFLOW_SMTP_URL=dead_relay)
    args = ["--demo", "--start", "2022-05-30T12:00", "--speed", "1h"]
    proc = SchedulerProcess(args, env, tmp_path / "logs", "catchup").start()
    schedulers.append(proc)
    proc.wait_started()

    def escalated() -> int:
        with opened(sqlite_url(var)) as db, db.sessions() as s:
            return s.scalar(select(func.count()).where(OutboxRow.kind == "escalation")) or 0

    assert poll(escalated, 60, "no escalations were caught up") == 12
    poll(lambda: "action=backlog" in proc.stderr(), 30, "no backlog warning was logged")
    assert proc.terminate() == 0
    log = proc.stderr()

    with opened(sqlite_url(var)) as db, db.sessions() as s:
        kinds = Counter(s.scalars(select(OutboxRow.kind)))
        events = Counter(
            (e.kind, e.data.get("n", 0))
            for e in s.scalars(select(EventRow).where(EventRow.party == "aalborg"))
        )
        tick = s.get(SchedulerStateRow, "last_tick")
        assert tick is not None
        last = tick.value
    # every missed action once: one invitation and one escalation each; the three reminders
    # are recorded as skipped, not sent (1 and 2 were overtaken by a later one, and 3 would
    # follow the invitation within the minimum gap), so nobody gets four mails at once
    assert kinds["invitation"] == 12 and kinds["escalation"] == 12
    assert kinds["reminder"] == 0
    assert [events[("reminder_skipped", n)] for n in (1, 2, 3)] == [1, 1, 1]
    assert events[("invited", 0)] == events[("escalated", 0)] == 1
    # the scheduler said what was late and by how much
    assert "action=scheduler_started" in log
    caught = [line for line in log.splitlines() if "action=tick_caught_up" in line]
    assert caught, log
    late_s = max(int(line.split("max_late_s=")[1].split()[0]) for line in caught)
    assert late_s > timedelta(days=50).total_seconds()  # das-fokus opened on 10 January
    # what `aftaleflow status` reads: the last tick and the backlog after it
    backlog = last["backlog"]
    # 12 invitations, 12 escalations, and the digest of the week (30 May is a Monday)
    assert kinds["digest"] == 1
    assert backlog["mails_due"] == 25 and backlog["processes_due"] == 0
    assert backlog["oldest_age_s"] > 0 and backlog["oldest_due_at"]
    assert "action=scheduler_stopped" in log
    info = "\n".join(line for line in log.splitlines() if " INFO " in line)
    assert not re.search(r"[\w.-]+@[\w-]+\.example", info), "no e-mail address at INFO"


# ---------------------------------------------------------------------- SIGTERM


@pytest.mark.smtp
def test_sigterm_in_the_middle_of_a_batch_lets_the_batch_finish(
    tmp_path: Path, schedulers: list[SchedulerProcess], smtp_sink: SmtpSink
) -> None:
    var = tmp_path / "var"
    env = scheduler_env(var, AFTALEFLOW_SMTP_URL=smtp_sink.url)
    args = ["--demo", "--start", "2022-04-04T08:30", "--speed", "1h"]
    proc = SchedulerProcess(args, env, tmp_path / "logs", "sigterm")
    schedulers.append(proc)

    def on_data(n: int) -> None:
        if n == 3:  # the relay holds the third of the twelve invitations
            os.kill(proc.pid, signal.SIGTERM)

    smtp_sink.on_data = on_data
    proc.start()
    proc.wait_started()
    poll(lambda: proc.returncode() is not None, 60, "the scheduler did not stop")
    assert proc.returncode() == 0
    log = proc.stderr()
    # the batch in flight was finished and recorded after the signal, before the exit
    assert (
        log.index("action=scheduler_stopping")
        < log.index("sent=12")
        < log.index("action=scheduler_stopped")
    )
    with opened(sqlite_url(var)) as db, db.sessions() as s:
        # the invitation batch (4 April 2022 is a Monday: the week's digest waits for 09:00)
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.kind != "digest")))
    assert len(rows) == 12 and {r.status for r in rows} == {"sent"}
    received = [r for r in smtp_sink.received if "/digest/" not in r.key]
    assert sorted(r.message_id for r in received) == sorted(str(r.message_id) for r in rows)


# ---------------------------------------------------------------------- kill -9, again and again


@pytest.mark.slow
@pytest.mark.smtp
def test_kill_9_at_20_random_moments_loses_no_mail_and_sends_none_twice(
    tmp_path: Path,
    schedulers: list[SchedulerProcess],
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    reference = reference_run(tmp_path)
    total = len(reference.kinds)
    rng = random.Random(20220404)
    start = parse_moment(START)
    last_moment = parse_moment("2022-11-30T00:00")
    # 10 kills at random moments of the virtual year, 10 while the relay holds a message
    # (the message has arrived; the scheduler dies before it hears "250 OK"). A mail is
    # claimed only just before it goes out, so a reminder made moot while a batch is being
    # sent (at 18 days a second) is cancelled, not sent: how many of the ``total`` go out
    # depends on the machine's speed. The kills fall among the first 100 messages, which
    # every run sends.
    moments = sorted(start + (last_moment - start) * rng.random() for _ in range(10))
    ordinals = set(rng.sample(range(2, min(total - 8, 100), 3), 10))

    var = tmp_path / "var"
    env = scheduler_env(var, AFTALEFLOW_SMTP_URL=smtp_sink.url)
    proc = SchedulerProcess(
        ["--demo", "--start", START, "--speed", "18d"], env, tmp_path / "logs", "crash"
    )
    schedulers.append(proc)
    guard = threading.Lock()
    kills: list[str] = []

    carry = [False]  # the process had just been killed: kill at the next message instead

    def on_data(n: int) -> None:
        if n in ordinals or carry[0]:
            with guard:
                carry[0] = not proc.kill9()
                if not carry[0]:
                    kills.append(f"mail {n}")

    smtp_sink.on_data = on_data
    proc.start()
    proc.wait_started()
    url = sqlite_url(var)

    def settled() -> bool:
        with opened(url) as db:
            last = last_tick_at(db)
            if last is None or last < reference.end:
                return False
            with db.sessions() as s:
                statuses = set(s.scalars(select(OutboxRow.status)))
        return bool(statuses) and statuses <= {"sent", "cancelled"}

    deadline = time.monotonic() + 240
    while True:
        assert time.monotonic() < deadline, f"the year did not finish: {kills}"
        with guard:
            code = proc.returncode()
            if code is not None:
                assert code == -9, f"exited by itself ({code}):\n{proc.stderr()}"
                proc.start()
        if moments:
            with opened(url) as db:
                last = last_tick_at(db)
            if last is not None and last >= moments[0]:
                with guard:
                    if proc.kill9():  # else a mail kill came first: try again after restart
                        moments.pop(0)
                        kills.append(f"tick {last:%m-%d}")
                continue
        elif settled():
            break
        time.sleep(0.05)

    assert proc.terminate() == 0, proc.stderr()
    assert "action=scheduler_stopped" in proc.stderr()
    assert len(kills) >= 20, (kills, sorted(ordinals), len(smtp_sink.received))
    with opened(url) as db:
        verdict = check_deliveries(db, smtp_sink.received, reference)
    mail_kills = sum(1 for k in kills if k.startswith("mail"))
    # each message a kill interrupted went out again, with the same Message-ID
    assert len(verdict.resent) >= mail_kills
    assert sum(verdict.resent.values()) <= len(kills)
    with capsys.disabled():
        print(
            f"\n[crash] {len(kills)} kill -9 ({mail_kills} inside an SMTP transaction, "
            f"{len(kills) - mail_kills} at random ticks), {proc.runs} runs; "
            f"{verdict.mails} mails, {verdict.receipts} receipts, "
            f"{sum(verdict.resent.values())} crash resend(s) with an identical Message-ID; "
            f"{len(verdict.skipped)} reminder(s) skipped and {len(verdict.cancelled)} cancelled "
            f"by catch-up; {time.monotonic() - began:.0f} s"
        )


# ---------------------------------------------------------------------- two schedulers, PostgreSQL


@pytest.mark.slow
@pytest.mark.smtp
def test_two_schedulers_on_postgresql_send_every_mail_exactly_once(
    tmp_path: Path,
    schedulers: list[SchedulerProcess],
    smtp_sink: SmtpSink,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    reference = reference_run(tmp_path)
    env = scheduler_env(
        tmp_path / "var", AFTALEFLOW_DATABASE_URL=pg_url, AFTALEFLOW_SMTP_URL=smtp_sink.url
    )
    # Advisory lock keys are database-wide, not per schema: a process id of its own keeps
    # this test from waiting on another test's lock for "process 1" in the same database.
    with opened(pg_url) as db:
        db.migrate()
        with db.engine.begin() as conn:
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('processes', 'id'), :n)"),
                {"n": random.randrange(10**6, 2 * 10**9)},
            )
    # one timeline for both: the same start, speed and origin (a moment after they are up)
    origin = f"{time.time() + 3:.3f}"
    args = ["--demo", "--start", START, "--speed", "12d", "--origin", origin]
    pair = [SchedulerProcess(args, env, tmp_path / "logs", name).start() for name in ("a", "b")]
    schedulers.extend(pair)
    for p in pair:
        p.wait_started()

    def settled() -> bool:
        assert all(p.alive() for p in pair), [p.stderr() for p in pair]
        with opened(pg_url) as db:
            last = last_tick_at(db)
            if last is None or last < reference.end:
                return False
            with db.sessions() as s:
                statuses = set(s.scalars(select(OutboxRow.status)))
        return bool(statuses) and statuses <= {"sent", "cancelled"}

    poll(settled, 150, "the two schedulers did not finish the year", every=0.2)
    assert [p.terminate() for p in pair] == [0, 0]

    with opened(pg_url) as db:
        verdict = check_deliveries(db, smtp_sink.received, reference)
        with db.sessions() as s:
            ticked = Counter(
                s.scalars(select(EventRow.actor).where(EventRow.actor.like("scheduler@%")))
            )
            senders = Counter(
                str(e.data.get("worker"))
                for e in s.scalars(select(EventRow).where(EventRow.kind == "mail_sent"))
            )
            assert s.scalar(select(func.count()).select_from(ProcessRow)) == 1
    assert verdict.resent == {}, "no crash, so no mail may arrive twice"
    assert verdict.receipts == verdict.mails
    workers = {f":{p.pid}" for p in pair}
    active = {w for w in workers if any(a.endswith(w) for a in [*ticked, *senders])}
    assert active == workers, f"both schedulers must have worked: {ticked} {senders}"
    with capsys.disabled():
        print(
            f"\n[postgresql] 2 schedulers: {verdict.mails} mails, each received once; "
            f"actions applied per scheduler {dict(ticked)}, mails sent per scheduler "
            f"{dict(senders)}; {time.monotonic() - began:.0f} s"
        )
