"""Fixtures for the mail tests: a real SMTP server on loopback and a fresh database per test.

Names are prefixed (``smtp_server``, ``mail_db``, ``mail_settings``) so they never shadow
fixtures of the other integration tests.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, make_url, text

from aftaleflow.config import Settings, from_env
from workflow.storage.db import Database

PG_ENV = "AFTALEFLOW_TEST_DATABASE_URL"
DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])


def free_port() -> int:
    """aiosmtpd's Controller(port=0) fails its ready check, so pick a free port first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


class RecordingHandler:
    """Records every accepted envelope; can refuse a recipient (550), fail temporarily (451)
    or answer 421 (closing the channel) to a DATA."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.tempfail_rcpt: set[str] = set()
        self.tempfail_data = 0
        self.closing_data = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            if address in self.refuse:
                return self.refuse[address]
            if address in self.tempfail_rcpt:
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.closing_data > 0:
                self.closing_data -= 1
                return "421 4.3.2 Service shutting down, closing transmission channel"
            if self.tempfail_data > 0:
                self.tempfail_data -= 1
                return "451 4.3.0 Temporary local problem"
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
            return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=DATABASES)
def mail_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'mail.db'}")
        db.migrate()
        yield db
        db.dispose()
        return
    base = os.environ[PG_ENV]
    schema = f"mailtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(url.render_as_string(hide_password=False))
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_settings(tmp_path: Path, db: Database, smtp_url: str | None, **extra: str) -> Settings:
    env = {
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
        "AFTALEFLOW_DATABASE_URL": db.url,
        "AFTALEFLOW_SECRET_KEY": "test-secret",
        "AFTALEFLOW_MAIL_DOMAIN": "aftaleflow.example",
        "AFTALEFLOW_BASE_URL": "https://aftaleflow.example",
        **extra,
    }
    if smtp_url:
        env["AFTALEFLOW_SMTP_URL"] = smtp_url
    return from_env(env)


@pytest.fixture
def mail_settings(tmp_path: Path, mail_db: Database, smtp_server: SmtpServer) -> Settings:
    return make_settings(tmp_path, mail_db, smtp_server.url)


from .imap_server import imap_server  # noqa: E402, F401  (a real dovecot for the inbox tests)
