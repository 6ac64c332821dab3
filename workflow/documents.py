"""The agreement document: versions, and the one put up for approval. Functions of a
``ProcessTx``."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from workflow.agreement_path import recommends
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
        raise GuardRefused("Filen er tom.", en="The file is empty.")
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


def recommended_version(tx: ProcessTx) -> dict[str, Any]:
    """The version the recommending decision (KKR) recommended, ``{}`` if none was."""
    found: dict[str, Any] = {}
    for bst in tx.bound.stages:
        rec = tx.stages.get(bst.id)
        outcome = (rec.outcome or {}) if rec else {}
        if recommends(bst) and outcome.get("outcome") == "approved" and outcome.get("document"):
            found = dict(outcome["document"])
    return found


def put_up_for_approval(
    tx: ProcessTx, version: int | None, *, at: datetime, actor: str, reason: str
) -> str:
    """The version the parties approve (by default the one recommended); every approval
    records its hash. Putting up another version than the recommended one is allowed and
    said in the audit event (``differs_from_recommended``)."""
    rec = recommended_version(tx)
    if version is None:
        if not rec:
            raise GuardRefused(
                "Ingen beslutning har anbefalet en version af aftalen; angiv versionen.",
                en="No decision has recommended a version of the agreement; name the version.",
            )
        version = int(rec["version"])
    doc = reads.document_version(tx.conn, tx.process.id, version)
    if doc is None:
        raise NotFound(
            f"Processen {tx.process.key} har ingen version {version} af aftalen.",
            en=f"The process {tx.process.key} has no document version {version}.",
        )
    previous = tx.process.approval_document_hash
    sha256: str = doc["sha256"]
    tx.process.approval_document_hash = sha256
    data: dict[str, Any] = {"version": version, "sha256": sha256, "previous": previous or ""}
    if rec:
        data["recommended_version"] = rec.get("version")
        data["differs_from_recommended"] = rec.get("sha256") != sha256
    tx.event(at, actor, "document_put_up_for_approval", reason=reason, data=data)
    return sha256
