"""kill -9 while reading the inbox, at random points, again and again: each message is stored
once, its effects applied once, and every message ends in the processed folder."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import mail_samples as samples
from workflow.storage.db import Database
from workflow.storage.models import ContactStatusRow, EventRow, InboundMailRow

from .imap_server import ImapServer

WORKER = Path(__file__).with_name("inbox_crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
POINTS = ("read", "record", "committed", "moved")
AT = datetime(2022, 4, 8, 9, tzinfo=UTC)


def run_worker(db: Database, imap: ImapServer, tmp_path: Path, kill: str = "") -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTALEFLOW_")}
    args = [db.url, imap.url(tls="ssl"), str(imap.cert), str(tmp_path / "up"), AT.isoformat()]
    done = subprocess.run(
        [sys.executable, str(WORKER), *args, *([kill] if kill else [])],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


@pytest.mark.slow
def test_kill_9_at_random_points_stores_each_message_once_and_moves_all(
    mail_db: Database, imap_server: ImapServer, tmp_path: Path
) -> None:
    mails = [samples.forged(f"p{i}@laeso.example") for i in range(5)]
    mails += [samples.out_of_office_subject_only(), samples.own_mail()]
    mails += [samples.qmail_bounce(f"gone{i}@morso.example") for i in range(2)]
    for raw in mails:
        imap_server.append(raw)

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    kills = Counter[str]()
    # every point once (second time reached), in a random order, then random points
    plan = [f"{p}:2" for p in rng.sample(POINTS, len(POINTS))]
    plan += [f"{rng.choice(POINTS)}:{rng.randint(1, 3)}" for _ in range(30)]
    for kill in plan:
        if not imap_server.uids("INBOX"):
            break
        if run_worker(mail_db, imap_server, tmp_path, kill) == -signal.SIGKILL:
            kills[kill.partition(":")[0]] += 1
    assert run_worker(mail_db, imap_server, tmp_path) == 0, f"seed {seed}"

    assert set(kills) == set(POINTS), f"seed {seed}: killed at {kills}"
    assert imap_server.uids("INBOX") == [], f"seed {seed}"
    assert len(imap_server.messages("Behandlet")) == len(mails), f"seed {seed}"
    with mail_db.sessions() as s:
        rows = list(s.scalars(select(InboundMailRow)))
        events = Counter(
            e.data["inbound_id"]
            for e in s.scalars(select(EventRow).where(EventRow.actor.like("inbox:%")))
        )
        failing = s.scalar(select(func.count()).select_from(ContactStatusRow))
    assert len(rows) == len(mails), f"seed {seed}: each message stored once"
    assert len({r.message_id for r in rows}) == len(mails)
    assert set(events.values()) == {1} and set(events) == {r.id for r in rows}, f"seed {seed}"
    assert failing == 2
    assert Counter(r.classification for r in rows) == {
        "reply": 5,
        "auto_reply": 1,
        "own": 1,
        "bounce": 2,
    }
