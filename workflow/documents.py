"""The agreement document: versions, and the one put up for approval. Functions of a
``ProcessTx``."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, insert, select

from workflow.errors import GuardRefused, NotFound
from workflow.storage.models import DocumentRow
from workflow.tx import ProcessTx


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
    latest = tx.session.scalar(
        select(func.max(DocumentRow.version)).where(DocumentRow.process_id == pid)
    )
    version = (latest or 0) + 1
    tx.documents_changed = True
    tx.state.document = None
    tx.write(
        insert(DocumentRow).values(
            process_id=pid,
            version=version,
            filename=filename,
            media_type=media_type,
            sha256=digest,
            size=len(content),
            content=content,
            note=note,
            uploaded_at=at,
            uploaded_by=actor,
        )
    )
    data = {"version": version, "sha256": digest, "filename": filename, "size": len(content)}
    tx.event(at, actor, "document_uploaded", reason=note, data=data)
    return version


def put_up_for_approval(
    tx: ProcessTx, version: int, *, at: datetime, actor: str, reason: str
) -> str:
    """The version the parties approve; every approval records its hash."""
    doc = tx.session.scalar(
        select(DocumentRow).where(
            DocumentRow.process_id == tx.process.id, DocumentRow.version == version
        )
    )
    if doc is None:
        raise NotFound(f"process {tx.process.key} has no document version {version}")
    previous = tx.process.approval_document_hash
    tx.process.approval_document_hash = doc.sha256
    data = {"version": version, "sha256": doc.sha256, "previous": previous or ""}
    tx.event(at, actor, "document_put_up_for_approval", reason=reason, data=data)
    return doc.sha256
