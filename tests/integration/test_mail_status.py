"""What the secretariat sees of delivery from the command line, and `simulate --deliver`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftaleflow.cli import App, cli
from notifications.sender import drain
from tests.conftest import ROOT
from workflow.storage.db import Database

from .conftest import SmtpServer, make_settings
from .test_mail_failures import queue_invitations, smtp


@pytest.mark.smtp
def test_a_refused_address_is_shown_failing_by_status(
    mail_db: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = make_settings(tmp_path, mail_db, smtp_server.url)
    at = queue_invitations(mail_db, settings.secret_key)
    smtp_server.handler.refuse = {"socialudvalg@laeso.example": "550 5.1.1 No such user"}
    drain(mail_db, smtp(settings), settings, at)
    result = CliRunner().invoke(cli, ["status"], obj=App(settings))
    assert result.exit_code == 0, result.output
    assert "Fejlende adresse socialudvalg@laeso.example" in result.output
    assert "Erstat en fejlende kontakt med `aftaleflow contact replace" in result.output
    assert "No such user" in result.output
    assert "aalborg.example" not in result.output.split("Fejlende adresse", 1)[1]
    # everybody else got the invitation
    to = Counter(r for m in smtp_server.received for r in m.rcpt_tos)
    assert to["socialudvalg@laeso.example"] == 0 and to["socialudvalg@morso.example"] == 1


@pytest.mark.smtp
def test_simulate_deliver_sends_the_years_mail_to_the_configured_server(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    env = {
        **os.environ,
        "AFTALEFLOW_SMTP_URL": smtp_server.url,
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aftaleflow",
            "simulate",
            "definitions/processes/socialaftale.yaml",
            "--year",
            "2022",
            "--late",
            "laeso,morso",
            "--deliver",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    received = smtp_server.received
    kinds = Counter(str(m.message["X-Aftaleflow-Key"]).split("/")[4] for m in received)
    assert kinds["invitation"] == 12 and kinds["escalation"] == 2 and kinds["submission"] == 1
    # 96, the reports to the dialogue forum (12), and the workshop sign-up reminders (3 × 12)
    # and minimum flags (3): nobody signs up; and, with each approval step due after its own
    # council meeting (the shipped 2022 calendar), 25 approval reminders instead of the late
    # parties' 4: 11 + 2 socialudvalg, 10 + 1 byråd (Morsø's first skipped, under two days
    # after its request), 1 regionsråd
    assert kinds["reminder"] == 6 + 25
    assert len({m.message["Message-ID"] for m in received}) == len(received) == 168
    assert "sent: 168" in result.stdout
