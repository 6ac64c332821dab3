"""Storing uploaded files: streamed to disk under a random name, kept only if the content is
an accepted document type and within the size limit.

The type is decided by the content (``workflow.file_types.file_kind``), never by the name or
the browser's Content-Type. The stored name is random, so a file name typed by someone
else never becomes a path; the original name is kept for showing only.

Too much data never costs what was typed. The app reads a request body up to a hard cap
(``MAX_CONTENT_LENGTH``, far above any file limit) and, while it parses, spools the files of
one request into a shared budget (``AFTALEFLOW_FILES_MB``): a file past the budget is read
and thrown away, not kept, and ``store_upload`` answers it with an issue naming the limit
that was hit (the question's own ``max_mb``, or the budget for all files together). The text
fields arrive as usual, so the form comes back with everything typed and one clear message.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from flask import Request, current_app
from werkzeug.datastructures import FileStorage

from workflow.file_types import file_kind
from workflow.validation import Issue, clean_filename

CHUNK = 64 * 1024
MB = 1024 * 1024
#: The app setting that holds the budget, in MB, for all files of one request together.
FILES_MB = "AFTALEFLOW_FILES_MB"
#: A file up to this size is spooled in memory, a larger one in a temporary file.
IN_MEMORY = 500 * 1024


class FileBudget:
    """What is left of one request's budget for files."""

    def __init__(self, limit_mb: int) -> None:
        self.limit_mb = limit_mb
        self.left = limit_mb * MB


class CappedSpool:
    """Where the form parser writes one uploaded file: kept while the request's budget lasts;
    past it, the rest is counted and thrown away and ``overflowed`` is set."""

    def __init__(self, budget: FileBudget) -> None:
        self.budget = budget
        self.size = 0
        self.overflowed = False
        self._file: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY, mode="w+b")  # noqa: SIM115

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if not self.overflowed:
            if len(data) > self.budget.left:
                self.overflowed = True
                self._file.seek(0)
                self._file.truncate()  # nothing of a file that does not fit is kept
            else:
                self.budget.left -= len(data)
                self._file.write(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class CappedRequest(Request):
    """Flask's request, whose uploaded files share the app's budget (``FILES_MB``)."""

    _budget: FileBudget | None = None

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if self._budget is None:
            self._budget = FileBudget(int(current_app.config[FILES_MB]))
        return CappedSpool(self._budget)  # type: ignore[return-value]


def overflowed(upload: FileStorage) -> bool:
    """Whether the upload did not fit the request's budget for files (nothing of it is kept)."""
    return isinstance(upload.stream, CappedSpool) and upload.stream.overflowed


def store_upload(
    upload: FileStorage, *, accept: Sequence[str], max_mb: int, upload_dir: Path
) -> tuple[dict[str, Any] | None, Issue | None]:
    """``({filename, stored_as, sha256, size, kind}, None)`` or ``(None, the problem)``."""
    spool = upload.stream
    if isinstance(spool, CappedSpool) and spool.overflowed:
        if spool.size > max_mb * MB:
            return None, Issue("file_too_large", {"max_mb": max_mb})
        return None, Issue("files_too_large", {"max_mb": spool.budget.limit_mb})
    upload_dir.mkdir(parents=True, exist_ok=True)
    limit = max_mb * MB
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
