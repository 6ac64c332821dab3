"""Uploaded documents: how the upload store names a file, and what type a file's content is.

A file's type is decided by its content, never by its name or the browser's word for it.
"""

from __future__ import annotations

import re
import zipfile
from typing import IO

#: How the upload store names a file (random, never the uploader's name) and its hash.
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|docx|odt)")
SHA256 = re.compile(r"[0-9a-f]{64}")

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
#: ``[Content_Types].xml`` larger than this is not a Word document (and not read).
_ZIP_MEMBER_MAX = 1024 * 1024


def file_kind(fp: IO[bytes]) -> str | None:
    """The document type of a file by its content, never by its name: ``pdf`` (starts with
    ``%PDF-``), ``docx`` (a zip whose ``[Content_Types].xml`` names a Word main document),
    ``odt`` (a zip whose ``mimetype`` entry is OpenDocument text), or None."""
    fp.seek(0)
    head = fp.read(5)
    fp.seek(0)
    if head == b"%PDF-":
        return "pdf"
    if head[:4] != b"PK\x03\x04":
        return None
    try:
        with zipfile.ZipFile(fp) as z:
            names = set(z.namelist())
            if (
                "mimetype" in names
                and z.getinfo("mimetype").file_size <= 200
                and z.read("mimetype").strip() == ODT_MIMETYPE
            ):
                return "odt"
            if (
                "[Content_Types].xml" in names
                and z.getinfo("[Content_Types].xml").file_size <= _ZIP_MEMBER_MAX
                and DOCX_MAIN in z.read("[Content_Types].xml")
            ):
                return "docx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        return None
    finally:
        fp.seek(0)
    return None
