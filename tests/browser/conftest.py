"""Browser fixtures: Debian's chromium (Playwright cannot download its own here, STACK.md
pitfall 8), the app served on loopback, a real SMTP server, and a process at the stage a
test needs. Time is the app's injected clock; no test sleeps."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from aftaleflow.config import Settings, from_env
from notifications.sender import deliver_due
from notifications.transports import SmtpTransport
from tests.browser.support import (
    AFTER_APPROVAL_REQUESTS,
    AFTER_INVITATIONS,
    SECRET,
    Clock,
    LiveServer,
    build_app,
    run_until,
    serve,
)
from tests.conftest import make_database
from tests.integration.conftest import SmtpServer
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.storage.db import Database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """pytest-base-url's own fixture is an instance method that pytest 9 warns about (an
    error under ``filterwarnings = error``); every test here builds its own URLs."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "da-DK", "timezone_id": "Europe/Copenhagen"}


@dataclass
class Site:
    """The app on loopback, its database and clock, and the mail it sends."""

    live: LiveServer
    db: Database
    clock: Clock
    settings: Settings
    smtp: SmtpServer
    uploads: Path

    @property
    def url(self) -> str:
        return self.live.url

    def deliver(self) -> list[EmailMessage]:
        """Send what is due now to the real SMTP server; returns the new messages."""
        before = len(self.smtp.received)
        deliver_due(
            self.db, SmtpTransport(self.settings.smtp_url or ""), self.settings, self.clock()
        )
        return [r.message for r in self.smtp.received[before:]]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _site(
    tmp_path: Path, bundle: Bundle, smtp: SmtpServer, until: datetime, now: datetime
) -> Iterator[Site]:
    db, url = make_database("sqlite", tmp_path)
    try:
        run_until(db, bundle, until)
        clock = Clock(now)
        uploads = tmp_path / "uploads"
        with serve(build_app(url, uploads, clock)) as live:
            settings = from_env(
                {
                    "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
                    "AFTALEFLOW_DATABASE_URL": url,
                    "AFTALEFLOW_SECRET_KEY": SECRET,
                    "AFTALEFLOW_BASE_URL": live.url,
                    "AFTALEFLOW_SMTP_URL": smtp.url,
                }
            )
            yield Site(live, db, clock, settings, smtp, uploads)
    finally:
        db.dispose()


@pytest.fixture
def site(tmp_path: Path, socialaftale: Bundle, smtp: SmtpServer) -> Iterator[Site]:
    """The questionnaire stage: invitations queued on 4 April 2022; now is 5 April 10:00."""
    yield from _site(
        tmp_path, socialaftale, smtp, AFTER_INVITATIONS, datetime(2022, 4, 5, 10, 0, tzinfo=TZ)
    )


@pytest.fixture
def kkr_site(tmp_path: Path, socialaftale: Bundle, smtp: SmtpServer) -> Iterator[Site]:
    """KKR's decision stage open, its meeting not yet held: now is 19 April 2022 10:00, three
    weeks after the meeting (nobody has recorded the decision)."""
    yield from _site(
        tmp_path,
        socialaftale,
        smtp,
        datetime(2022, 3, 24, 10, 0, tzinfo=TZ),
        datetime(2022, 4, 19, 10, 0, tzinfo=TZ),
    )


@pytest.fixture
def approval_site(tmp_path: Path, socialaftale: Bundle, smtp: SmtpServer) -> Iterator[Site]:
    """The approval stage: requests queued on 7 November 2022; now is 9 November 11:00."""
    yield from _site(
        tmp_path,
        socialaftale,
        smtp,
        AFTER_APPROVAL_REQUESTS,
        datetime(2022, 11, 9, 11, 0, tzinfo=TZ),
    )


@pytest.fixture
def own_definitions_site(tmp_path: Path, smtp: SmtpServer) -> Iterator[Site]:
    """``site`` on a copy of the definitions under ``tmp_path`` (a test that changes the
    calendar file changes the copy); now is 5 April 2022 10:00."""
    from tests.conftest import ROOT
    from workflow.loader import load_bundle

    root = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", root)
    bundle = load_bundle(root / "processes" / "socialaftale.yaml", reference_year=2022)
    yield from _site(
        tmp_path, bundle, smtp, AFTER_INVITATIONS, datetime(2022, 4, 5, 10, 0, tzinfo=TZ)
    )
