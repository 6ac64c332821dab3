"""kill -9 in the middle of a batch: nothing is lost, a resend keeps its Message-ID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from aftaleflow.config import Settings
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
    # Four results were recorded; the fifth went out but its result was not; seven wait.
    assert Counter(r.status for r in before.values()) == {"sent": 4, "sending": 8}
    assert all(r.message_id for r in before.values()), "every claimed row has its Message-ID"

    restarted = run_worker(mail_db, mail_settings, at, "--recover")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout.strip().splitlines()[-1]) == {
        "claimed": 8,
        "sent": 8,
        "resent_after_crash": 8,
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
        assert r.message["Message-ID"] == after[key].message_id == before[key].message_id
    (twice,) = [k for k, n in deliveries.items() if n == 2]
    assert before[twice].status == "sending"
    assert {e.data["key"] for e in resent} == {
        k for k, r in before.items() if r.status == "sending"
    }
    assert {e.data["message_id"] for e in resent} == {
        r.message_id for r in before.values() if r.status == "sending"
    }
    assert len(recovered) == 8
