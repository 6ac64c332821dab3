"""The sample agreement ``simulate`` puts up for approval: a one-page PDF that says it is one.

An approval stage opens only when a version of the agreement is up for approval. A simulation
of the whole year has no real agreement, so its simulated secretariat uploads this sample (the
process's title and "EKSEMPEL") just before the first approval stage would open: the year's mail
plan then shows the approval requests naming a version, and the submission with it attached.
"""

from __future__ import annotations

import io

FILENAME = "eksempel-aftale.pdf"
MEDIA_TYPE = "application/pdf"


def sample_agreement(title: str) -> bytes:
    """A small valid PDF (correct cross-reference table) naming ``title`` as an example."""
    lines = [f"EKSEMPEL: {title}", "Ikke en rigtig aftale - lavet af en simulering."]
    text = " ".join(
        f"BT /F1 14 Tf 72 {720 - 24 * i} Td ({_pdf_text(line)}) Tj ET"
        for i, line in enumerate(lines)
    )
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _pdf_text(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
