"""The agreement document: versions, and the one put up for approval."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select

from workflow.engine import (
    Engine,
    _event,
    _process,
)
from workflow.errors import GuardRefused, NotFound


class Documents(Engine):
    # ------------------------------------------------------------------ the agreement document

    def add_document(
        self,
        key: str,
        *,
        filename: str,
        media_type: str,
        content: bytes,
        at: datetime,
        actor: str,
        note: str = "",
    ) -> int:
        """Store a new draft version of the agreement; returns its version number."""
        from workflow.storage.models import DocumentRow

        if not content:
            raise GuardRefused("the file is empty")
        digest = hashlib.sha256(content).hexdigest()
        with self.db.transaction() as s:
            row = _process(s, key)
            version = (
                s.scalar(
                    select(func.max(DocumentRow.version)).where(DocumentRow.process_id == row.id)
                )
                or 0
            ) + 1
            s.add(
                DocumentRow(
                    process_id=row.id,
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
            _event(
                s,
                row,
                at,
                actor,
                "document_uploaded",
                reason=note,
                data={
                    "version": version,
                    "sha256": digest,
                    "filename": filename,
                    "size": len(content),
                },
            )
            return version

    def put_up_for_approval(
        self, key: str, version: int, *, at: datetime, actor: str, reason: str
    ) -> str:
        """The version the parties approve; every approval records its hash."""
        from workflow.storage.models import DocumentRow

        with self.db.transaction() as s:
            row = _process(s, key)
            doc = s.scalar(
                select(DocumentRow).where(
                    DocumentRow.process_id == row.id, DocumentRow.version == version
                )
            )
            if doc is None:
                raise NotFound(f"process {key} has no document version {version}")
            previous = row.approval_document_hash
            row.approval_document_hash = doc.sha256
            _event(
                s,
                row,
                at,
                actor,
                "document_put_up_for_approval",
                reason=reason,
                data={"version": version, "sha256": doc.sha256, "previous": previous or ""},
            )
            self._advance(s, row, at, actor, [])
            return doc.sha256
