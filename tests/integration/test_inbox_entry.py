"""The two entry points of the reader: ``aftaleflow inbox fetch`` and the scheduler's job."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from aftaleflow.cli import main
from tests import mail_samples as samples
from tests.acceptance.conftest import SchedulerProcess, poll, scheduler_env
from workflow.storage.db import Database
from workflow.storage.models import InboundMailRow

from .imap_server import ImapServer


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def aftaleflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """The main CLI in this process (``aftaleflow.cli.main``), with its own environment."""
    for name in [k for k in os.environ if k.startswith("AFTALEFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AFTALEFLOW_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AFTALEFLOW_SECRET_KEY", "s")

    def run(*args: str, **env: str) -> Ran:
        with monkeypatch.context() as m:
            for k, v in env.items():
                m.setenv(k, v)
            code = main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    assert run("init").returncode == 0
    return run


def test_inbox_fetch_once(aftaleflow: Callable[..., Ran], imap_server: ImapServer) -> None:
    imap_server.append(samples.out_of_office_subject_only())
    imap_server.append(samples.forged("socialudvalg@laeso.example"))
    url = imap_server.url(tls="plain")  # plain IMAP is accepted on loopback only

    done = aftaleflow("inbox", "fetch", "--at", "2022-04-06T10:00", AFTALEFLOW_IMAP_URL=url)
    assert done.returncode == 0, done.stderr
    assert "2 ny(e) mail(s) gemt (autosvar: 1, svar: 1), 2 flyttet til Behandlet" in done.stdout
    assert imap_server.uids("INBOX") == [] and len(imap_server.messages("Behandlet")) == 2

    again = aftaleflow("inbox", "fetch", AFTALEFLOW_IMAP_URL=url)
    assert again.returncode == 0 and "0 ny(e) mail(s) gemt, 0 flyttet" in again.stdout


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "AFTALEFLOW_IMAP_URL er ikke sat"),
        ("imap://u:secret@imap.nord.example/INBOX", "ville sende adgangskoden ukrypteret"),
    ],
)
def test_inbox_fetch_without_a_usable_url(
    aftaleflow: Callable[..., Ran], url: str, says: str
) -> None:
    done = aftaleflow("inbox", "fetch", AFTALEFLOW_IMAP_URL=url)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert "secret" not in done.stderr


def test_inbox_fetch_reports_a_refused_login(
    aftaleflow: Callable[..., Ran], imap_server: ImapServer
) -> None:
    url = imap_server.url(tls="plain").replace("hemmelig", "forkert")
    done = aftaleflow("inbox", "fetch", AFTALEFLOW_IMAP_URL=url)
    assert (
        done.returncode == 2 and "postkassen" in done.stderr and "kan ikke læses" in done.stderr
    ), done.stderr
    assert "Traceback" not in done.stderr and "forkert" not in done.stderr


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[list[SchedulerProcess]]:
    procs: list[SchedulerProcess] = []
    yield procs
    for p in procs:
        p.close()


def test_the_scheduler_reads_the_inbox_when_configured(
    tmp_path: Path, imap_server: ImapServer, scheduler: list[SchedulerProcess]
) -> None:
    var = tmp_path / "var"
    imap_server.append(samples.out_of_office_subject_only())
    env = scheduler_env(
        var, AFTALEFLOW_IMAP_URL=imap_server.url(tls="plain"), AFTALEFLOW_SEND_SECONDS="1"
    )
    proc = SchedulerProcess([], env, tmp_path / "logs", "inbox").start()
    scheduler.append(proc)
    proc.wait_started()

    def stored() -> list[str] | None:
        db = Database(f"sqlite:///{var / 'aftaleflow.db'}")
        try:
            with db.sessions() as s:
                found = list(s.scalars(select(InboundMailRow.classification)))
        finally:
            db.dispose()
        return found or None

    assert poll(stored, 60, "the scheduler did not read the inbox") == ["auto_reply"]
    poll(lambda: imap_server.uids("INBOX") == [] or None, 30, "the message was not moved")
    assert proc.terminate() == 0
    assert "action=inbox_job" in proc.stderr() and "action=inbox_stored" in proc.stderr()


def test_the_scheduler_refuses_a_wrong_imap_url(
    tmp_path: Path, scheduler: list[SchedulerProcess]
) -> None:
    env = scheduler_env(tmp_path / "var", AFTALEFLOW_IMAP_URL="imaps://imap.nord.example/INBOX")
    proc = SchedulerProcess([], env, tmp_path / "logs", "bad").start()
    scheduler.append(proc)
    assert proc.proc is not None and proc.proc.wait(timeout=60) == 2
    assert "skal have bruger og adgangskode" in proc.stderr() and "Traceback" not in proc.stderr()
