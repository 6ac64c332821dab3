"""A mail the secretariat writes itself ("Skriv en mail"): to chosen parties and roles, with a
subject, a text and files (PDF, Word, OpenDocument; checked by content like every upload).

It is queued through the outbox like every other mail (kind ``message``), one row per party,
so it has the same guarantees: the row is written in the transaction that audits it, its
idempotency key ends in the form's one-time id (the same form sent twice is queued once),
temporary failures are retried with backoff, the result is audited. Like a re-issued link it
goes at the next office moment of the definition's calendar unless the secretariat chooses
"send nu". Each party's mail threads under the newest mail to that party in the process
(In-Reply-To and References), if there is one. The files are kept once per process and
content (``mail_files``) and attached from there when the mail is sent.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select

from workflow.definition_parties import ROLES, Contact
from workflow.errors import GuardRefused
from workflow.file_types import file_kind
from workflow.mail import Mail, mail_key
from workflow.storage.models import MailFileRow, OutboxRow
from workflow.tx import ProcessTx

MAIL_KIND = "message"
#: One file, and all files of one mail, at most.
MAX_FILE = 10 * 1024 * 1024
MAX_FILES = 20 * 1024 * 1024
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
#: The form's one-time id (``new_token`` in the dashboard): letters and digits.
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}\Z")
_FILES = cast(Table, MailFileRow.__table__)


@dataclass(frozen=True)
class MessageFile:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Message:
    """What the secretariat wrote, and to whom (party slugs, contact roles)."""

    parties: tuple[str, ...]
    roles: tuple[str, ...]
    subject: str
    text: str
    token: str
    files: tuple[MessageFile, ...] = ()
    now: bool = False


def _refuse(da: str, en: str) -> GuardRefused:
    return GuardRefused(da, en=en)


def already_queued() -> GuardRefused:
    return _refuse("Denne mail er allerede lagt i udbakken.", "This mail is in the outbox already.")


def checked_files(files: tuple[MessageFile, ...]) -> list[dict[str, Any]]:
    """Each file's type by content and size; refuses any other type and files too large."""
    out = []
    total = 0
    for f in files:
        kind = file_kind(io.BytesIO(f.content))
        if kind is None:
            raise _refuse(
                f"Filen {f.filename!r} er hverken PDF, Word (docx) eller OpenDocument (odt).",
                f"The file {f.filename!r} is not PDF, Word (docx) or OpenDocument (odt).",
            )
        if len(f.content) > MAX_FILE:
            raise _refuse(
                f"Filen {f.filename!r} er større end 10 MB.",
                f"The file {f.filename!r} is larger than 10 MB.",
            )
        total += len(f.content)
        out.append(
            {
                "filename": f.filename,
                "sha256": hashlib.sha256(f.content).hexdigest(),
                "media_type": MEDIA_TYPES[kind],
                "size": len(f.content),
            }
        )
    if total > MAX_FILES:
        raise _refuse("Filerne fylder mere end 20 MB i alt.", "The files exceed 20 MB in total.")
    return out


def _check(tx: ProcessTx, msg: Message) -> None:
    known = tx.bound.bundle.parties.by_slug
    if not msg.subject.strip() or not msg.text.strip():
        raise _refuse(
            "En mail skal have et emne og en tekst.", "A mail needs a subject and a text."
        )
    if not msg.parties or any(p not in known for p in msg.parties):
        raise _refuse("Vælg mindst én part.", "Choose at least one party.")
    if not msg.roles or any(r not in ROLES for r in msg.roles):
        raise _refuse("Vælg mindst én rolle.", "Choose at least one role.")
    if not TOKEN.match(msg.token):
        raise _refuse("Formularen er ugyldig; åbn den igen.", "The form is invalid; open it again.")
    if tx.process.status == "cancelled":
        raise _refuse(
            f"Processen {tx.process.key} er annulleret; intet sendes.",
            f"The process {tx.process.key} is cancelled; nothing is sent.",
        )


def latest_mails(tx: ProcessTx, parties: tuple[str, ...]) -> dict[str, str]:
    """Party → the idempotency key of the newest mail to it in the process (not cancelled)."""
    rows = tx.conn.execute(
        select(OutboxRow.party, OutboxRow.idempotency_key)
        .where(
            OutboxRow.process_id == tx.process.id,
            OutboxRow.party.in_(parties),
            OutboxRow.status.in_(("queued", "sending", "sent")),
        )
        .order_by(OutboxRow.created_at, OutboxRow.id)
    )
    return {party: key for party, key in rows}


def recipients(tx: ProcessTx, party: str, roles: tuple[str, ...]) -> tuple[Contact, ...]:
    """The party's contacts of ``roles``, each address once."""
    seen: set[str] = set()
    out = []
    for role in roles:
        for c in tx.addresses(party, role):
            if c.email.lower() not in seen:
                seen.add(c.email.lower())
                out.append(c)
    return tuple(out)


def _keep_files(tx: ProcessTx, msg: Message, infos: list[dict[str, Any]], at: datetime) -> None:
    shas = {i["sha256"] for i in infos}
    if not shas:
        return
    have = set(
        tx.conn.scalars(
            select(MailFileRow.sha256).where(
                MailFileRow.process_id == tx.process.id, MailFileRow.sha256.in_(shas)
            )
        )
    )
    for f, info in zip(msg.files, infos, strict=True):
        if info["sha256"] in have:
            continue
        have.add(info["sha256"])
        values = {k: info[k] for k in ("sha256", "media_type", "size")}
        tx.write(
            insert(_FILES),
            {"process_id": tx.process.id, "content": f.content, "created_at": at, **values},
        )


def queue_message(tx: ProcessTx, msg: Message, at: datetime, actor: str) -> list[str]:
    """Queue the mail to each chosen party that has a contact of a chosen role; returns them.

    Refused (``GuardRefused``) when something is missing, a file is not allowed, or this form
    was sent already (its one-time id is in the queued mails' keys)."""
    _check(tx, msg)
    infos = checked_files(msg.files)
    keys = [mail_key(tx.process.id, "", p, "", MAIL_KIND, 0) + f"/{msg.token}" for p in msg.parties]
    if tx.conn.scalar(select(OutboxRow.id).where(OutboxRow.idempotency_key.in_(keys)).limit(1)):
        raise already_queued()
    _keep_files(tx, msg, infos, at)
    latest = latest_mails(tx, msg.parties)
    sent, skipped = [], []
    for party in msg.parties:
        to = recipients(tx, party, msg.roles)
        if not to:
            skipped.append(party)
            continue
        details = {"subject": msg.subject.strip(), "text": msg.text.strip(), "files": infos}
        tx.mail(
            Mail(
                kind=MAIL_KIND,
                party=party,
                recipients=to,
                details={**details, "author": actor},
                now=msg.now,
                tag=msg.token,
                thread_to=latest.get(party, ""),
            ),
            at,
        )
        sent.append(party)
    if not sent:
        raise _refuse(
            "Ingen af de valgte parter har en kontakt i de valgte roller.",
            "None of the chosen parties has a contact in the chosen roles.",
        )
    tx.event(
        at,
        actor,
        "message_queued",
        reason=msg.subject.strip(),
        data={
            "subject": msg.subject.strip(),
            "parties": sent,
            "skipped": skipped,
            "roles": list(msg.roles),
            "files": [i["filename"] for i in infos],
            "now": msg.now,
            "token": msg.token,
        },
    )
    return sent
