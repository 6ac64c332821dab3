"""The agreement document: versions, and the one put up for approval. Functions of a
``ProcessTx``."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import insert

from workflow.errors import GuardRefused, NotFound
from workflow.storage import reads
from workflow.storage.models import TABLES
from workflow.tx import ProcessTx

_INSERT_DOCUMENT = insert(TABLES["documents"])


def add_document(
    tx: ProcessTx,
    *,
    filename: str,
    media_type: str,
    content: bytes,
    at: datetime,
    actor: str,
    note: str,
) -> int:
    """Store a new draft version of the agreement; returns its version number."""
    if not content:
        raise GuardRefused("the file is empty")
    digest = hashlib.sha256(content).hexdigest()
    pid = tx.process.id
    version = reads.latest_document_version(tx.conn, pid) + 1
    tx.documents_changed = True
    tx.state.document = None
    row = {
        "process_id": pid,
        "version": version,
        "filename": filename,
        "media_type": media_type,
        "sha256": digest,
        "size": len(content),
        "content": content,
        "note": note,
        "uploaded_at": at,
        "uploaded_by": actor,
    }
    tx.write(_INSERT_DOCUMENT, row, name="insert document")
    data = {"version": version, "sha256": digest, "filename": filename, "size": len(content)}
    tx.event(at, actor, "document_uploaded", reason=note, data=data)
    return version


def put_up_for_approval(
    tx: ProcessTx, version: int, *, at: datetime, actor: str, reason: str
) -> str:
    """The version the parties approve; every approval records its hash."""
    doc = reads.document_version(tx.conn, tx.process.id, version)
    if doc is None:
        raise NotFound(f"process {tx.process.key} has no document version {version}")
    sha256: str = doc["sha256"]
    previous = tx.process.approval_document_hash
    tx.process.approval_document_hash = sha256
    data = {"version": version, "sha256": sha256, "previous": previous or ""}
    tx.event(at, actor, "document_put_up_for_approval", reason=reason, data=data)
    return sha256
