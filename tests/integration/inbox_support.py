"""Shared steps of the inbox tests: invitations really sent (aiosmtpd), then received mail
put in a real dovecot with IMAP APPEND."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from aftaleflow.config import Settings
from notifications.inbox import FetchReport, ImapConfig, fetch
from notifications.sender import deliver_due
from workflow.storage.db import Database
from workflow.storage.models import InboundMailRow, OutboxRow

from .conftest import SmtpServer
from .imap_server import ImapServer
from .test_mail_failures import queue_invitations, smtp


def send_invitations(
    db: Database, settings: Settings, server: SmtpServer
) -> tuple[datetime, dict[str, bytes]]:
    """The twelve invitations of 2022 sent through aiosmtpd: the send time and each party's
    mail as it was received (the bytes a committee would reply to)."""
    at = queue_invitations(db, settings.secret_key)
    report = deliver_due(db, smtp(settings), settings, at, worker="test")
    assert report.sent == 12
    with db.sessions() as s:
        by_key = {r.idempotency_key: r.party for r in s.scalars(select(OutboxRow))}
    return at, {by_key[str(r.message["X-Aftaleflow-Key"]).strip()]: r.data for r in server.received}


def message_ids(db: Database) -> dict[str, str]:
    with db.sessions() as s:
        return {r.party: str(r.message_id) for r in s.scalars(select(OutboxRow))}


def read_inbox(db: Database, settings: Settings, imap: ImapServer, at: datetime, tmp_path: Path,
               **kwargs: object) -> FetchReport:  # fmt: skip
    return fetch(
        db,
        ImapConfig.parse(imap.url(tls="ssl")),
        at + timedelta(days=2),
        own_domain=settings.mail_domain,
        upload_dir=tmp_path / "uploads",
        worker="test",
        ssl_context=imap.ssl_context,
        **kwargs,  # type: ignore[arg-type]
    )


def inbound(db: Database) -> list[InboundMailRow]:
    with db.sessions() as s:
        return list(s.scalars(select(InboundMailRow).order_by(InboundMailRow.id)))
