"""kill -9 in the middle of a batch: nothing is lost, a resend keeps its Message-ID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aftaleflow.config import Settings
from notifications.claims import LEASE
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

from .conftest import SmtpServer
from .test_mail_failures import queue_invitations

WORKER = Path(__file__).with_name("mail_crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def run_worker(
    db: Database, settings: Settings, at: str, *args: str, kill_after: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTALEFLOW_")}
    if kill_after:
        env["AFTALEFLOW_TEST_KILL_AFTER"] = str(kill_after)
    assert settings.smtp_url
    return subprocess.run(
        [sys.executable, str(WORKER), db.url, settings.smtp_url, at, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.smtp
def test_kill_9_in_the_middle_of_a_batch_loses_nothing(
    mail_db: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    at = queue_invitations(mail_db, mail_settings.secret_key).isoformat()

    crashed = run_worker(mail_db, mail_settings, at, kill_after=5)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert len(smtp_server.received) == 5
    with mail_db.sessions() as s:
        before = {r.idempotency_key: r for r in s.scalars(select(OutboxRow))}
    # Four results were recorded; the fifth went out but its result was not; seven still wait,
    # unclaimed: only the mail in flight was claimed when the sender died.
    assert Counter(r.status for r in before.values()) == {"sent": 4, "sending": 1, "queued": 7}
    assert all(r.message_id for r in before.values() if r.status != "queued")

    restarted = run_worker(mail_db, mail_settings, at, "--recover")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout.strip().splitlines()[-1]) == {
        "claimed": 8,
        "sent": 8,
        "resent_after_crash": 1,
    }

    with mail_db.sessions() as s:
        after = {r.idempotency_key: r for r in s.scalars(select(OutboxRow))}
        resent = list(s.scalars(select(EventRow).where(EventRow.kind == "mail_resent_after_crash")))
        recovered = list(s.scalars(select(EventRow).where(EventRow.kind == "mail_recovered")))
    assert {r.status for r in after.values()} == {"sent"}
    received = smtp_server.received
    deliveries = Counter(str(r.message["X-Aftaleflow-Key"]).strip() for r in received)
    assert set(deliveries) == set(after), "no mail lost"
    assert len(received) == 13 and sorted(deliveries.values()) == [1] * 11 + [2]
    # Every delivery (the resend included) carries the Message-ID the row was given at claim.
    for r in received:
        key = str(r.message["X-Aftaleflow-Key"]).strip()
        assert r.message["Message-ID"] == after[key].message_id
        assert before[key].message_id in (None, after[key].message_id)
    (twice,) = [k for k, n in deliveries.items() if n == 2]
    assert before[twice].status == "sending"
    assert [e.data["key"] for e in resent] == [twice]
    assert [e.data["message_id"] for e in resent] == [before[twice].message_id]
    assert [e.data["key"] for e in recovered] == [twice]


@pytest.mark.smtp
def test_after_a_kill_the_rest_of_the_batch_is_claimable_at_once(
    mail_db: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A second sender (no start-up recovery, same moment) sends everything but the one
    mail that was in flight; that one waits for the lease and then goes out again."""
    at = queue_invitations(mail_db, mail_settings.secret_key)

    crashed = run_worker(mail_db, mail_settings, at.isoformat(), kill_after=3)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    other = run_worker(mail_db, mail_settings, at.isoformat())
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout.strip().splitlines()[-1]) == {
        "claimed": 9,
        "sent": 9,
        "resent_after_crash": 0,
    }
    with mail_db.sessions() as s:
        statuses = Counter(r.status for r in s.scalars(select(OutboxRow)))
    assert statuses == {"sent": 11, "sending": 1}

    just_before = (at + LEASE - timedelta(seconds=1)).isoformat()
    assert json.loads(run_worker(mail_db, mail_settings, just_before).stdout)["claimed"] == 0
    after_lease = (at + LEASE + timedelta(seconds=1)).isoformat()
    assert json.loads(run_worker(mail_db, mail_settings, after_lease).stdout) == {
        "claimed": 1,
        "sent": 1,
        "resent_after_crash": 1,
    }
    deliveries = Counter(str(r.message["X-Aftaleflow-Key"]).strip() for r in smtp_server.received)
    assert len(deliveries) == 12 and sorted(deliveries.values()) == [1] * 11 + [2]


@pytest.mark.smtp
def test_resent_after_crash_counts_only_mails_that_were_in_flight(
    mail_db: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """Three kills, each with a mail in flight, and a 451 on the way: exactly three resends
    are reported, and they are exactly the mails that arrived twice."""
    at = queue_invitations(mail_db, mail_settings.secret_key)
    for recover in ((), ("--recover",), ("--recover",)):
        crashed = run_worker(mail_db, mail_settings, at.isoformat(), *recover, kill_after=2)
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    smtp_server.handler.tempfail_data = 1  # the next mail is refused for now (451): a retry
    finished = run_worker(mail_db, mail_settings, at.isoformat(), "--recover")
    assert json.loads(finished.stdout.strip().splitlines()[-1])["resent_after_crash"] == 1
    with mail_db.sessions() as s:
        retry_at = s.scalar(select(func.max(OutboxRow.next_attempt_at)))
        assert s.scalar(select(func.count()).where(OutboxRow.status == "queued")) == 1
    assert retry_at is not None
    later = run_worker(mail_db, mail_settings, retry_at.isoformat())
    assert json.loads(later.stdout.strip().splitlines()[-1]) == {
        "claimed": 1,
        "sent": 1,
        "resent_after_crash": 0,
    }

    deliveries = Counter(str(r.message["X-Aftaleflow-Key"]).strip() for r in smtp_server.received)
    twice = {k for k, n in deliveries.items() if n == 2}
    assert len(deliveries) == 12 and len(twice) == 3 and set(deliveries.values()) == {1, 2}
    with mail_db.sessions() as s:
        resent = list(s.scalars(select(EventRow).where(EventRow.kind == "mail_resent_after_crash")))
        statuses = {r.status for r in s.scalars(select(OutboxRow))}
    assert statuses == {"sent"}
    assert len(resent) == 3 and {e.data["key"] for e in resent} == twice
