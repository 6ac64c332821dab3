"""Storing uploaded files: streamed to disk under a random name, kept only if the content is
an accepted document type and within the size limit.

The type is decided by the content (``workflow.responses.file_kind``), never by the name or
the browser's Content-Type. The stored name is random, so a file name typed by someone
else never becomes a path; the original name is kept for showing only.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage

from workflow.responses import Issue, clean_filename, file_kind

CHUNK = 64 * 1024


def store_upload(
    upload: FileStorage, *, accept: Sequence[str], max_mb: int, upload_dir: Path
) -> tuple[dict[str, Any] | None, Issue | None]:
    """``({filename, stored_as, sha256, size, kind}, None)`` or ``(None, the problem)``."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    limit = max_mb * 1024 * 1024
    part = upload_dir / f".{secrets.token_hex(16)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with part.open("wb") as out:
            while chunk := upload.stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    return None, Issue("file_too_large", {"max_mb": max_mb})
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            return None, Issue("file_empty")
        with part.open("rb") as fp:
            kind = file_kind(fp)
        if kind is None or kind not in accept:
            return None, Issue("file_type", {"accept": list(accept)})
        stored_as = f"{secrets.token_hex(16)}.{kind}"
        os.replace(part, upload_dir / stored_as)
        return {
            "filename": clean_filename(upload.filename or ""),
            "stored_as": stored_as,
            "sha256": digest.hexdigest(),
            "size": size,
            "kind": kind,
        }, None
    finally:
        part.unlink(missing_ok=True)
