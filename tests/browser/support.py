"""Helpers shared by the web tests (browser and integration): a settable clock, a process
brought to the questionnaire or the approval stage, personal-link tokens, sample documents,
and the app served on a loopback port in a thread."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from web import close_app, create_app
from workflow.calendar import TZ
from workflow.links import LinkKey, make_token
from workflow.loader import Bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import ProcessRow

SECRET = "web-test-secret"
KEY = "socialaftale-2022"
QUESTIONNAIRE = "fagudvalg-spoergsmaal"
APPROVAL = "politisk-godkendelse"

#: Danish local times in the 2022 cycle (invitations 4 April 09:00, deadline 20 May,
#: stage closes 3 June; approval requests 7 November, deadline 30 November).
AFTER_INVITATIONS = datetime(2022, 4, 4, 9, 30, tzinfo=TZ)
BEFORE_DEADLINE = datetime(2022, 5, 19, 14, 0, tzinfo=TZ)
AFTER_DEADLINE = datetime(2022, 5, 24, 10, 0, tzinfo=TZ)
AFTER_CLOSE = datetime(2022, 6, 7, 10, 0, tzinfo=TZ)
AFTER_GRACE = datetime(2022, 6, 20, 10, 0, tzinfo=TZ)
AFTER_APPROVAL_REQUESTS = datetime(2022, 11, 7, 12, 0, tzinfo=TZ)
#: The day before: the approval stage waits for an agreement (``simulate`` puts its sample up
#: one minute before the stage would open).
BEFORE_APPROVAL = datetime(2022, 11, 6, 12, 0, tzinfo=TZ)


#: Where the tests' wall clock starts (the real time for rate limits and the lock-out).
WALL_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """The app's only "now": tests set and move it (no sleeps)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.at

    def set(self, at: datetime) -> None:
        with self._lock:
            self.at = at

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.at = self.at + delta


def run_until(db: Database, bundle: Bundle, until: datetime) -> None:
    """Start the 2022 cycle and let the simulation (ticks, simulated secretariat and
    parties) run until ``until``: simulated people act at 10:00 on the next working day,
    so at 09:30 after the invitations (or 12:00 on the day of the requests) nobody has
    answered yet. The simulated secretariat puts the sample agreement up for approval just
    before the approval stage opens (``workflow.sample_agreement``)."""
    simulate(Service(db, link_secret=SECRET), bundle, 2022, until=until)


def process_id(db: Database, key: str = KEY) -> int:
    with db.sessions() as s:
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
    assert pid is not None
    return pid


def token(
    db: Database, party: str, *, stage: str = QUESTIONNAIRE, step: str = "", generation: int = 1
) -> str:
    return make_token(SECRET, LinkKey(process_id(db), stage, party, step, generation))


def build_app(
    db_url: str,
    upload_dir: Path,
    clock: Clock,
    base_url: str = "http://127.0.0.1",
    wall_clock: Clock | None = None,
) -> Flask:
    """The app on business time ``clock``; ``wall_clock`` (the rate limits and the lock-out)
    defaults to a test clock of its own that stands still unless a test moves it."""
    return create_app(
        database_url=db_url,
        secret_key=SECRET,
        base_url=base_url,
        upload_dir=upload_dir,
        clock=clock,
        wall_clock=wall_clock or Clock(WALL_START),
    )


# ---------------------------------------------------------------------- sample documents


def pdf_bytes(text: str = "Referat fra socialudvalget") -> bytes:
    """A small, valid one-page PDF (with a correct cross-reference table)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
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


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def odt_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


# ---------------------------------------------------------------------- a served app


@dataclass
class LiveServer:
    app: Flask
    url: str


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """The app on a free loopback port, served by Werkzeug in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, name="web-test-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        close_app(app)
