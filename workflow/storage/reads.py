"""The other rows a process transaction reads (the agreement version up for approval, the
mails already queued for a stage, a workshop's sign-ups), on prepared statements
(``workflow.storage.fast``). The engine keeps what the first two return in the process's state
(``workflow.state``) while it is current."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, select

from workflow.storage.fast import STATEMENTS
from workflow.storage.models import TABLES

_DOCUMENTS = TABLES["documents"]
_OUTBOX = TABLES["outbox"]
_SIGNUPS = TABLES["workshop_signups"]
#: What a mail and an approval name of the agreement version up for approval.
DOCUMENT_KEYS = ("id", "version", "filename", "sha256", "media_type", "size")
#: A mail's place among a task's mails: (kind, party, step) within a stage.
MailKey = tuple[str, str, str]


def document_up(conn: Connection, process_id: int, sha256: str) -> dict[str, Any]:
    """The newest version of the process's agreement with this hash (without its content),
    or ``{"sha256": …}`` if there is none."""
    d = _DOCUMENTS.c
    stmt = STATEMENTS.get(
        "document by hash",
        conn,
        lambda: (
            select(*(d[k] for k in DOCUMENT_KEYS))
            .where(d.process_id == bindparam("pid"), d.sha256 == bindparam("sha"))
            .order_by(d.version.desc())
            .limit(1)
        ),
    )
    row = stmt.first(conn, {"pid": process_id, "sha": sha256})
    if row is None:
        return {"sha256": sha256}
    return dict(zip(DOCUMENT_KEYS, row, strict=True))


def document_version(conn: Connection, process_id: int, version: int) -> dict[str, Any] | None:
    """One version of the process's agreement (without its content), or None."""
    d = _DOCUMENTS.c
    stmt = STATEMENTS.get(
        "document by version",
        conn,
        lambda: select(*(d[k] for k in DOCUMENT_KEYS)).where(
            d.process_id == bindparam("pid"), d.version == bindparam("version")
        ),
    )
    row = stmt.first(conn, {"pid": process_id, "version": version})
    return None if row is None else dict(zip(DOCUMENT_KEYS, row, strict=True))


def latest_document_version(conn: Connection, process_id: int) -> int:
    """The process's newest agreement version number (0 before the first)."""
    d = _DOCUMENTS.c
    stmt = STATEMENTS.get(
        "latest document",
        conn,
        lambda: select(func.max(d.version)).where(d.process_id == bindparam("pid")),
    )
    row = stmt.first(conn, {"pid": process_id})
    return int(row[0] or 0) if row else 0


def stage_mails(conn: Connection, process_id: int, stage_id: str) -> dict[MailKey, list[int]]:
    """The mails queued (in any status) for a stage: (kind, party, step) → [highest sequence,
    how many]."""
    o = _OUTBOX.c
    stmt = STATEMENTS.get(
        "mails of a stage",
        conn,
        lambda: (
            select(o.kind, o.party, o.step, func.max(o.seq), func.count())
            .where(o.process_id == bindparam("pid"), o.stage_id == bindparam("stage"))
            .group_by(o.kind, o.party, o.step)
        ),
    )
    rows = stmt.all(conn, {"pid": process_id, "stage": stage_id})
    return {(kind, party, step): [int(top), int(n)] for kind, party, step, top, n in rows}


class Signup(NamedTuple):
    """One ``workshop_signups`` row (``workflow.workshops``), as read in a transaction."""

    id: int
    process_id: int
    stage_id: str
    workshop_id: str
    party: str
    seq: int
    name: str
    role: str
    email: str
    status: str
    signed_up_at: datetime
    promoted_at: datetime | None
    cancelled_at: datetime | None
    attended: bool | None


def workshop_signups(
    conn: Connection, process_id: int, stage_id: str, workshop_id: str
) -> list[Signup]:
    """Every sign-up of a workshop, in the order they came (``seq``)."""
    w = _SIGNUPS.c
    stmt = STATEMENTS.get(
        "signups of a workshop",
        conn,
        lambda: (
            select(*(w[k] for k in Signup._fields))
            .where(
                w.process_id == bindparam("pid"),
                w.stage_id == bindparam("stage"),
                w.workshop_id == bindparam("workshop"),
            )
            .order_by(w.seq)
        ),
    )
    rows = stmt.all(conn, {"pid": process_id, "stage": stage_id, "workshop": workshop_id})
    return [Signup._make(r) for r in rows]
