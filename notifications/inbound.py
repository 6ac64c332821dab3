"""A received mail stored once, matched to the mail it answers, and its effects recorded — all
in the caller's transaction (the reader moves the message out of the inbox only after it
commits).

Matching uses only what Aftaleflow itself put in the world: the Message-IDs of the mails it
sent (``outbox.message_id``), found in the reply's ``In-Reply-To``/``References`` or, for a
bounce, in the returned original. A ``From`` address alone never matches: anybody can write
one. A mail that matches nothing waits with status ``new`` on the secretariat's Indbakke.

Effects: a bounce marks each permanently failed address failing (the same mark an immediate
SMTP 5xx sets) and is audited; an auto-reply is recorded with its text and never counted as an
answer; a reply's accepted attachments are written next to the web uploads under random
names. Turning a matched reply into "svar modtaget pr. mail" is the engine's (not done here).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.audit import mark_failing
from notifications.classify import Part, Reading
from workflow.events import write_events
from workflow.service import system_clock
from workflow.storage.models import InboundMailRow, OutboxRow

#: Folder (under the upload folder) where attachments of received mail are kept.
INBOUND_DIR = "indbakke"

#: Event kinds by classification.
EVENT_KINDS = {
    "reply": "mail_received",
    "auto_reply": "mail_auto_reply",
    "bounce": "mail_bounced",
    "automatic": "mail_received_automatic",
    "own": "mail_loop_ignored",
}


@dataclass(frozen=True)
class Where:
    """Where a message sits in the mailbox: its folder, the folder's UIDVALIDITY, its UID."""

    mailbox: str
    uidvalidity: int
    uid: int


def already_stored(s: Session, where: Where, sha256: str | None = None) -> bool:
    """True if this message (by UID, or by content after the mailbox was rebuilt) is stored."""
    by_uid = select(InboundMailRow.id).where(
        InboundMailRow.mailbox == where.mailbox,
        InboundMailRow.uidvalidity == where.uidvalidity,
        InboundMailRow.uid == where.uid,
    )
    if s.execute(by_uid).first() is not None:
        return True
    if sha256 is None:
        return False
    by_content = select(InboundMailRow.id).where(InboundMailRow.sha256 == sha256).limit(1)
    return s.execute(by_content).first() is not None


def stored_uids(s: Session, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> set[int]:
    """Which of ``uids`` are stored already (one query)."""
    if not uids:
        return set()
    query = select(InboundMailRow.uid).where(
        InboundMailRow.mailbox == mailbox,
        InboundMailRow.uidvalidity == uidvalidity,
        InboundMailRow.uid.in_(list(uids)),
    )
    return set(s.execute(query).scalars())


def match(s: Session, references: Sequence[str]) -> tuple[OutboxRow | None, str]:
    """The sent mail ``references`` point at (the most direct reference wins) and how."""
    if not references:
        return None, ""
    rows = s.scalars(select(OutboxRow).where(OutboxRow.message_id.in_(list(references))))
    by_id = {r.message_id: r for r in rows}
    for position, ref in enumerate(references):
        if ref in by_id:
            return by_id[ref], ("in-reply-to" if position == 0 else "references")
    return None, ""


def record(
    s: Session,
    reading: Reading,
    raw: bytes,
    *,
    where: Where,
    at: datetime,
    upload_dir: Path,
    worker: str,
) -> InboundMailRow:
    """Store ``raw`` with what ``reading`` found, and apply its effects, in ``s``'s transaction."""
    sent, how = (None, "") if reading.classification == "own" else match(s, reading.references)
    if how and reading.classification == "bounce":
        how = "bounced-original"  # whichever header named it, it is the mail that bounced
    files = [_keep(p, upload_dir) for p in reading.parts]
    details = {**reading.details(), "attachments": files}
    status = "ignored" if reading.classification == "own" else ("assigned" if sent else "new")
    row = InboundMailRow(
        mailbox=where.mailbox,
        uidvalidity=where.uidvalidity,
        uid=where.uid,
        message_id=reading.message_id,
        sha256=reading.sha256,
        from_address=reading.from_address,
        from_name=reading.from_name,
        subject=reading.subject,
        sent_at=reading.sent_at,
        received_at=at,
        size=reading.size,
        raw=raw,
        body_text=reading.text,
        classification=reading.classification,
        details=details,
        outbox_id=sent.id if sent else None,
        process_id=sent.process_id if sent else None,
        stage_id=sent.stage_id if sent else "",
        party=sent.party if sent else "",
        step=sent.step if sent else "",
        matched_by=how,
        status=status,
        updated_at=at,
        updated_by=worker,
    )
    s.add(row)
    s.flush()
    for failure in reading.failures:
        if failure.permanent:
            mark_failing(s, failure.address, _failing_reason(failure.status, failure.reason), at)
    write_events(s, [_event(row, at, worker)])
    return row


def _failing_reason(status: str, reason: str) -> str:
    text = reason if status and status in reason else " ".join(x for x in (status, reason) if x)
    return f"bounce: {text}"[:1000]


def _event(row: InboundMailRow, at: datetime, worker: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "inbound_id": row.id,
        "message_id": row.message_id,
        "from": row.from_address,
        "subject": row.subject[:300],
        "classification": row.classification,
        "matched_by": row.matched_by,
        "outbox_id": row.outbox_id,
    }
    if row.classification == "bounce":
        data["failures"] = row.details.get("failures", [])
    if row.classification == "auto_reply":
        data["text"] = row.body_text[:2000]
    if row.details.get("attachments"):
        data["attachments"] = [
            {k: a.get(k) for k in ("filename", "kind", "size", "refused")}
            for a in row.details["attachments"]
        ]
    return {
        "process_id": row.process_id,
        "at": at,
        "recorded_at": system_clock(),
        "actor": f"inbox:{worker}",
        "kind": EVENT_KINDS.get(row.classification, "mail_received"),
        "stage_id": row.stage_id,
        "party": row.party,
        "step": row.step,
        "reason": "",
        "data": data,
    }


def _keep(part: Part, upload_dir: Path) -> dict[str, Any]:
    """Write an accepted attachment under a random name (like a web upload); a refused one is
    only listed. A crash before the commit leaves an unreferenced file, never a missing one."""
    listed: dict[str, Any] = {"filename": part.filename, "size": part.size, "kind": part.kind}
    if part.kind is None:
        return {**listed, "refused": part.refused}
    folder = upload_dir / INBOUND_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stored_as = f"{secrets.token_hex(16)}.{part.kind}"
    path = folder / stored_as
    with path.open("xb") as out:
        out.write(part.content)
        out.flush()
        os.fsync(out.fileno())
    return {
        **listed,
        "stored_as": f"{INBOUND_DIR}/{stored_as}",
        "sha256": hashlib.sha256(part.content).hexdigest(),
    }
