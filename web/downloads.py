"""A stored file sent back to a browser: always as an attachment, its media type sniffed from
the content (never the uploader's word), so an upload can never become a page of ours.

The file name in ``Content-Disposition`` follows RFC 6266: an ASCII ``filename`` for old
clients and the real name as ``filename*`` (UTF-8, percent-encoded), so no name a party
typed (quotes, semicolons, line breaks, any script) can break the header; its extension is
the one of the type found in the content, so a PDF never saves as ``.html``."""

from __future__ import annotations

import io
import re
import unicodedata
from urllib.parse import quote

from werkzeug.wrappers import Response

from workflow.file_types import file_kind
from workflow.validation import clean_filename

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}

#: What the ASCII fallback name keeps; anything else becomes "_".
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._()\- ]+")
#: Danish letters and dashes spelled in ASCII for the fallback name (NFKD does the rest).
_ASCII_SPELLING = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "–": "-", "—": "-"}
)
#: RFC 5987 attr-chars that need no percent-encoding in ``filename*``.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(filename: str, kind: str | None, *, fallback: str = "fil") -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` for a file of type ``kind``."""
    name = clean_filename(filename) if filename.strip() else fallback
    if kind and not name.lower().endswith(f".{kind}"):
        name = f"{name}.{kind}"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    simple = unicodedata.normalize("NFKD", stem.translate(_ASCII_SPELLING))
    simple = _ASCII_UNSAFE.sub("_", simple.encode("ascii", "ignore").decode("ascii"))
    simple = re.sub(r"\s+", " ", simple).strip(" ._")
    if not re.search(r"[A-Za-z0-9]", simple):
        simple = fallback
    if ext:
        simple = f"{simple}.{_ASCII_UNSAFE.sub('_', ext)}"
    return f"attachment; filename=\"{simple}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"


def attachment(content: bytes, filename: str, *, fallback: str = "fil") -> Response:
    kind = file_kind(io.BytesIO(content))
    response = Response(content, mimetype=MEDIA_TYPES.get(kind or "", "application/octet-stream"))
    response.headers["Content-Disposition"] = content_disposition(filename, kind, fallback=fallback)
    response.headers.set("X-Content-Type-Options", "nosniff")
    return response
