"""The ``Content-Disposition`` of a download (RFC 6266): whatever name a party typed, the
header is one line of ASCII, always ``attachment``, and the name carries the extension of
the type found in the content."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from web.downloads import content_disposition


def parts(header: str) -> tuple[str, str, str]:
    kind, fallback, encoded = header.split("; ")
    assert fallback.startswith('filename="') and fallback.endswith('"')
    assert encoded.startswith("filename*=UTF-8''")
    return kind, fallback[len('filename="') : -1], unquote(encoded[len("filename*=UTF-8''") :])


@pytest.mark.parametrize(
    ("typed", "kind", "fallback", "name"),
    [
        ("Referat 8-11.pdf", "pdf", "Referat 8-11.pdf", "Referat 8-11.pdf"),
        (
            "Bilag – Ærø Å.pdf",
            "pdf",
            "Bilag - Aeroe Aa.pdf",
            "Bilag – Ærø Å.pdf",
        ),
        (
            'a"; filename=evil.html',
            "pdf",
            "a_ filename_evil.html.pdf",
            'a"; filename=evil.html.pdf',
        ),
        ("x\r\nSet-Cookie: a=b.pdf", "pdf", "x Set-Cookie_ a_b.pdf", "x Set-Cookie: a=b.pdf"),
        ("..\\..\\windows\\win.ini", "docx", "win.ini.docx", "win.ini.docx"),
        ("Ωμέγα", "odt", "bilag.odt", "Ωμέγα.odt"),
        ("", "pdf", "bilag.pdf", "bilag.pdf"),
        ("REFERAT.PDF", "pdf", "REFERAT.PDF", "REFERAT.PDF"),
    ],
)
def test_any_typed_name_gives_a_safe_attachment_header(
    typed: str, kind: str, fallback: str, name: str
) -> None:
    header = content_disposition(typed, kind, fallback="bilag")
    assert header.isascii() and "\r" not in header and "\n" not in header
    got_kind, got_fallback, got_name = parts(header)
    assert (got_kind, got_fallback, got_name) == ("attachment", fallback, name)
