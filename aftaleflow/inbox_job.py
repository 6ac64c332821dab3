"""The scheduler's ``inbox`` job: read the IMAP mailbox every interval, when
``AFTALEFLOW_IMAP_URL`` is set (``run_scheduler.py`` calls ``inbox_reader`` and
``add_inbox_job``).

The URL is checked when the reader is made (before anything starts), so a wrong one stops the scheduler at start-up with
one clear message; an unreachable mailbox later is logged and tried again next interval.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from aftaleflow.config import Settings
from notifications.inbox import ImapConfig, InboxError, fetch
from workflow.clock import Clock
from workflow.mail_replies import take_in
from workflow.risk_reads import calendars_of
from workflow.service import Service
from workflow.storage.db import Database

log = logging.getLogger("aftaleflow.scheduler")


class InboxReader:
    """One run: read what is new, store it, move it (``notifications.inbox.fetch``)."""

    def __init__(
        self, settings: Settings, db: Database, clock: Clock, *, stopping: threading.Event
    ) -> None:
        assert settings.imap_url
        self.config = ImapConfig.parse(settings.imap_url)  # raises InvalidImapUrl
        self.settings = settings
        self.db = db
        self.clock = clock
        self.stopping = stopping
        self.worker = f"scheduler@{socket.gethostname()}:{os.getpid()}"
        self.service = Service(db, link_secret=settings.secret_key, calendars=calendars_of)

    @property
    def description(self) -> str:
        return self.config.description

    def __call__(self) -> None:
        if self.stopping.is_set():
            return
        at = self.clock()
        try:
            fetch(
                self.db,
                self.config,
                at,
                own_domain=self.settings.mail_domain,
                upload_dir=self.settings.upload_dir,
                worker=self.worker,
            )
            take_in(self.service, self.settings.upload_dir, at)  # the engine's part
        except (InboxError, SQLAlchemyError) as e:
            log.error(
                "reading the inbox failed (the next run tries again): %s",
                " ".join(str(e).split())[:300],
                extra={"action": "inbox_failed", "at": at},
            )


def inbox_reader(
    settings: Settings, db: Database, clock: Clock, *, stopping: threading.Event
) -> InboxReader | None:
    """The reader when AFTALEFLOW_IMAP_URL is set (checked now: raises ``InvalidImapUrl``)."""
    if not settings.imap_url:
        return None
    return InboxReader(settings, db, clock, stopping=stopping)


def add_inbox_job(
    scheduler: Any, reader: InboxReader | None, *, seconds: float, common: dict[str, Any]
) -> None:
    """Run ``reader`` every ``seconds`` (nothing when there is no reader)."""
    if reader is None:
        return
    scheduler.add_job(reader, "interval", seconds=seconds, id="inbox", name="inbox", **common)
    log.info(
        "reading the inbox %s every %g s",
        reader.description,
        seconds,
        extra={"action": "inbox_job", "mailbox": reader.description},
    )
