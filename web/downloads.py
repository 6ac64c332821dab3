"""A stored file sent back to a browser: always as an attachment, its media type sniffed from
the content (never the uploader's word), so an upload can never become a page of ours."""

from __future__ import annotations

import io

from werkzeug.wrappers import Response

from workflow.responses import file_kind

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}


def attachment(content: bytes, filename: str, *, fallback: str = "fil") -> Response:
    kind = file_kind(io.BytesIO(content))
    response = Response(content, mimetype=MEDIA_TYPES.get(kind or "", "application/octet-stream"))
    response.headers.set("Content-Disposition", "attachment", filename=filename or fallback)
    response.headers.set("X-Content-Type-Options", "nosniff")
    return response
