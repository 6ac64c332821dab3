"""Claiming outbox rows for one sender, and recovering the rows of a sender that died.

Due ``queued`` rows, and ``sending`` rows whose lease ran out, become ``sending`` with
``claimed_at = at`` and a ``message_id`` that is kept for ever after (a resend after a crash
carries the same Message-ID). A sender claims one row at a time, right before sending it, so
only the mail in flight is ever ``sending``: a sender killed mid-batch holds one mail for the
lease, not the batch. PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``; every claim is also a
conditional UPDATE, so two senders never both win a row, on SQLite either.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Table,
    Update,
    and_,
    bindparam,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from notifications.audit import mail_event
from notifications.message import new_message_id
from notifications.outgoing import Attachment, OutgoingMail
from workflow import defaults
from workflow.definition_questions import Questionnaire
from workflow.loader import Bundle
from workflow.service import bound_for
from workflow.storage.db import Database
from workflow.storage.models import DocumentRow, MailFileRow, OutboxRow, ProcessRow

log = logging.getLogger("aftaleflow.mail")

#: A ``sending`` row claimed longer ago than this belongs to a sender that died.
LEASE = defaults.SEND_LEASE


@dataclass(frozen=True)
class Claimed:
    mail: OutgoingMail
    message_id: str
    claimed_at: datetime
    in_reply_to: str | None = None
    resent_after_crash: bool = False
    #: Attempts before this claim (only the claim's holder changes the row while it holds it).
    attempts: int = 0


def recover_stuck(db: Database, at: datetime, *, worker: str = "sender") -> int:
    """At start-up: every ``sending`` row was left by a sender that died; queue it again.

    Only call this when no other sender runs on the database (e.g. the one scheduler process
    starting); with several senders, the lease in ``claim`` recovers such rows instead.
    The row keeps its ``message_id`` and ``claimed_at``, so its resend is recognised.
    """
    if at.tzinfo is None:
        raise ValueError("the sender's time must be timezone-aware (UTC), not naive")
    with db.transaction() as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.status == "sending")).all()
        for row in rows:
            row.status = "queued"
            row.next_attempt_at = min(row.next_attempt_at, at)
            mail_event(
                s,
                at,
                worker,
                "mail_recovered",
                OutgoingMail.from_row(row),
                {
                    "message_id": row.message_id,
                    "claimed_at": row.claimed_at.isoformat() if row.claimed_at else None,
                },
                reason="en afsender stoppede, mens mailen blev sendt",
            )
    if rows:
        log.warning(
            "recovered %d mail(s) left in 'sending' by a stopped sender",
            len(rows),
            extra={"action": "mail_recovered", "mails": len(rows)},
        )
    return len(rows)


_OUTBOX_TABLE = cast(Table, OutboxRow.__table__)
_OUTBOX = _OUTBOX_TABLE.c


def _claim_statement(claimed_before: bool) -> Update:
    """The conditional claim, built once: the row must still be as we read it (same status,
    claim and due time: not claimed by another sender, cancelled or re-planned since).

    On PostgreSQL a row another sender holds locked is skipped (``FOR UPDATE SKIP LOCKED`` in
    the sub-select), not waited for; SQLite writes one transaction at a time anyway.
    """
    same_claim = (
        _OUTBOX.claimed_at == bindparam("old_claimed_at", type_=_OUTBOX.claimed_at.type)
        if claimed_before
        else _OUTBOX.claimed_at.is_(None)
    )
    unlocked = (
        select(_OUTBOX.id)
        .where(_OUTBOX.id == bindparam("outbox_id"))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(_OUTBOX_TABLE)
        .where(_OUTBOX.id == unlocked, _OUTBOX.status == bindparam("old_status"))
        .where(same_claim)
        .where(
            _OUTBOX.next_attempt_at
            == bindparam("old_next_attempt_at", type_=_OUTBOX.next_attempt_at.type)
        )
        .values(
            status="sending",
            claimed_at=bindparam("at", type_=_OUTBOX.claimed_at.type),
            message_id=bindparam("new_message_id"),
        )
    )


_CLAIM = {False: _claim_statement(False), True: _claim_statement(True)}


def _take(conn: Connection, row: OutboxRow, at: datetime, message_id: str) -> bool:
    """Conditional UPDATE: only wins if nobody changed the row since we read it."""
    params: dict[str, Any] = {
        "outbox_id": row.id,
        "old_status": row.status,
        "old_next_attempt_at": row.next_attempt_at,
        "at": at,
        "new_message_id": message_id,
    }
    if row.claimed_at is not None:
        params["old_claimed_at"] = row.claimed_at
    result = conn.execute(_CLAIM[row.claimed_at is not None], params)
    return cast(CursorResult[Any], result).rowcount == 1


def _thread_ids(
    s: Connection, keys: set[str], assigned: Mapping[str, str], domain: str
) -> dict[str, str]:
    """Message-IDs of the mails reminders thread under; assigned now if not sent yet.

    The assignment is conditional (``message_id IS NULL``), so a parent that another sender
    is claiming at the same moment keeps the Message-ID that sender gave it.
    """
    out = {k: assigned[k] for k in keys if k in assigned}
    missing = sorted(keys - set(out))
    for key in missing:
        s.execute(
            update(OutboxRow)
            .where(OutboxRow.idempotency_key == key, OutboxRow.message_id.is_(None))
            .values(message_id=new_message_id(domain))
            .execution_options(synchronize_session=False)
        )
    if missing:
        found = s.execute(
            select(OutboxRow.idempotency_key, OutboxRow.message_id).where(
                OutboxRow.idempotency_key.in_(missing)
            )
        )
        out.update({key: mid for key, mid in found if mid})
    return out


def _party_names(
    s: Session, process_id: int | None, cache: dict[int, dict[str, str]]
) -> dict[str, str]:
    if process_id is None:
        return {}
    if process_id not in cache:
        proc = s.get(ProcessRow, process_id)
        parties = bound_for(proc).bundle.parties if proc is not None else None
        cache[process_id] = {p.slug: p.name for p in parties.parties} if parties else {}
    return cache[process_id]


def _document(s: Session, document_id: int) -> tuple[Attachment, ...]:
    """The agreement version to attach, read from the database as it was approved."""
    doc = s.get(DocumentRow, document_id)
    if doc is None:  # never deleted by Aftaleflow; the mail still names the hash
        return ()
    maintype, _, subtype = (doc.media_type or "application/octet-stream").partition("/")
    return (Attachment(doc.filename, doc.content, maintype, subtype or "octet-stream"),)


def _message_files(
    conn: Connection, process_id: int | None, files: list[dict[str, Any]]
) -> tuple[Attachment, ...]:
    """The files the secretariat attached to a mail it wrote (``workflow.messages``), in the
    order it chose them; one that is gone (never deleted by Aftaleflow) is left out."""
    shas = {str(f.get("sha256")) for f in files}
    query = select(MailFileRow.sha256, MailFileRow.content).where(
        MailFileRow.process_id == process_id, MailFileRow.sha256.in_(shas)
    )
    found = {str(sha): bytes(content) for sha, content in conn.execute(query)}
    out = []
    for f in files:
        content = found.get(str(f.get("sha256")))
        if content is None:
            continue
        maintype, _, subtype = str(f.get("media_type") or "").partition("/")
        out.append(
            Attachment(
                str(f.get("filename") or "bilag"),
                bytes(content),
                maintype or "application",
                subtype or "octet-stream",
            )
        )
    return tuple(out)


def due_rows(
    db: Database, at: datetime, *, limit: int = 50, lease: timedelta = LEASE
) -> list[OutboxRow]:
    """The next ``limit`` due rows, oldest first, read without claiming any of them.

    A sender claims them one at a time (``claim_row``) just before sending each, so a sender
    killed mid-batch leaves at most the mail in flight claimed; the rest stay due for the next.
    """
    if at.tzinfo is None:
        raise ValueError("the sender's time must be timezone-aware (UTC), not naive")
    due = or_(
        and_(OutboxRow.status == "queued", OutboxRow.next_attempt_at <= at),
        and_(OutboxRow.status == "sending", OutboxRow.claimed_at < at - lease),
    )
    query = select(OutboxRow).where(due).order_by(OutboxRow.next_attempt_at, OutboxRow.id)
    with db.sessions() as s:
        return list(s.scalars(query.limit(limit)))


def claim_row(
    conn: Connection,
    row: OutboxRow,
    at: datetime,
    *,
    domain: str,
    worker: str = "sender",
    names: dict[int, dict[str, str]] | None = None,
) -> Claimed | None:
    """Claim one row read by ``due_rows``, in a transaction of its own on ``conn``.

    ``None`` when the row changed since it was read: another sender got it first (on
    PostgreSQL a row another sender is claiming right now is skipped, not waited for), or it
    was cancelled or re-planned.
    """
    # The row was claimed before and that claim never recorded a result: the sender holding
    # it stopped while this mail was in flight (recovered at start-up, or its lease ran out).
    # A retry after a temporary failure clears ``claimed_at``, so it does not count here.
    crashed = row.status == "sending" or row.claimed_at is not None
    message_id = row.message_id or new_message_id(domain)
    with conn.begin():
        if not _take(conn, row, at, message_id):
            return None
        parent = None
        if row.thread_key:
            own = {row.idempotency_key: message_id}
            parent = _thread_ids(conn, {row.thread_key}, own, domain).get(row.thread_key)
        mail = replace(OutgoingMail.from_row(row), message_id=message_id)
        needs_names = mail.kind in ("submission", "digest") and "party_names" not in mail.context
        document = mail.context.get("document") or {}
        asks = mail.kind == "invitation" and bool(mail.context.get("questionnaire"))
        files = mail.context.get("files") if mail.kind == "message" else None
        if files:
            mail = replace(mail, attachments=_message_files(conn, mail.process_id, files))
        if needs_names or asks or (mail.kind == "submission" and document.get("id")):
            with Session(bind=conn) as s:
                if needs_names:
                    cache = {} if names is None else names
                    party_names = _party_names(s, mail.process_id, cache)
                    mail = replace(mail, context={**mail.context, "party_names": party_names})
                if mail.kind == "submission" and document.get("id"):
                    mail = replace(mail, attachments=_document(s, int(document["id"])))
                if asks:
                    mail = replace(mail, questionnaire=_questionnaire(s, mail, {}))
        if crashed:
            mail_event(
                conn,
                at,
                worker,
                "mail_resent_after_crash",
                mail,
                {
                    "message_id": message_id,
                    "attempts": row.attempts,
                    "claimed_at": row.claimed_at.isoformat() if row.claimed_at else None,
                },
                reason="den forrige afsender stoppede, før resultatet blev registreret",
            )
    return Claimed(mail, message_id, at, parent, crashed, row.attempts)


def _questionnaire(
    s: Session, mail: OutgoingMail, cache: dict[int, Bundle | None]
) -> Questionnaire | None:
    """The questionnaire an invitation asks, from its process's stored definition."""
    if mail.process_id is None:
        return None
    if mail.process_id not in cache:
        proc = s.get(ProcessRow, mail.process_id)
        cache[mail.process_id] = bound_for(proc).bundle if proc is not None else None
    bundle = cache[mail.process_id]
    return bundle.questionnaires.get(str(mail.context["questionnaire"])) if bundle else None


def claim(
    db: Database,
    at: datetime,
    *,
    domain: str,
    batch_size: int = defaults.SEND_BATCH_SIZE,
    worker: str = "sender",
    lease: timedelta = LEASE,
) -> list[Claimed]:
    """Claim up to ``batch_size`` due rows at once, each in its own transaction.

    The sender itself claims one row at a time as it sends (``due_rows`` + ``claim_row``).
    """
    names: dict[int, dict[str, str]] = {}
    with db.engine.connect() as conn:
        claimed = [
            claim_row(conn, row, at, domain=domain, worker=worker, names=names)
            for row in due_rows(db, at, limit=batch_size, lease=lease)
        ]
    return [c for c in claimed if c is not None]
