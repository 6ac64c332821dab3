"""Shared steps of the reply-by-mail tests: the 2022 invitations really sent (aiosmtpd), a
Word form built by our own builder and filled in with python-docx as a committee secretary
would, and ``aftaleflow inbox fetch`` run in this process against a real dovecot."""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from aftaleflow.cli import main
from aftaleflow.config import from_env
from notifications.forms import questionnaire_docx
from notifications.sender import deliver_due
from notifications.transports import SmtpTransport
from tests.browser.support import SECRET
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow

from .conftest import SmtpServer
from .imap_server import ImapServer

TICK = "☒"


def env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
        "AFTALEFLOW_DATABASE_URL": db_url,
        "AFTALEFLOW_SECRET_KEY": SECRET,
        "AFTALEFLOW_MAIL_DOMAIN": "aftaleflow.example",
        "AFTALEFLOW_BASE_URL": "https://aftaleflow.example",
        "AFTALEFLOW_UPLOAD_DIR": str(tmp_path / "uploads"),
        **extra,
    }


def send_invitations(db: Database, db_url: str, tmp_path: Path, server: SmtpServer,
                     at: datetime) -> dict[str, str]:  # fmt: skip
    """Deliver the queued invitations through aiosmtpd; each party's Message-ID."""
    settings = from_env(env(db_url, tmp_path, AFTALEFLOW_SMTP_URL=server.url))
    assert settings.smtp_url
    transport = SmtpTransport(settings.smtp_url, local_hostname=settings.mail_domain)
    assert deliver_due(db, transport, settings, at, worker="test").sent == 12
    with db.sessions() as s:
        return {
            r.party: str(r.message_id)
            for r in s.scalars(select(OutboxRow).where(OutboxRow.kind == "invitation"))
        }


def filled_form(bundle: Bundle) -> bytes:
    """Our Word form of the fagudvalg questionnaire, filled in: boxes replaced by ticks, a
    text typed, two ticks where one is asked, and a box ticked beside a text of its own."""
    doc = Document(io.BytesIO(questionnaire_docx(bundle.questionnaires["fagudvalg"],
                                                 deadline="2022-05-20")))  # fmt: skip
    tables = {}
    for table in doc.tables:
        for p in table.cell(0, 0).paragraphs:
            if p.text.startswith("id: "):
                tables[p.text[4:].strip()] = table
    tick(tables["vision-egenmestring"], "4")
    tick(tables["vision-retningspile"], "Vi skal stå sammen")
    tick(tables["vision-retningspile"], "Vi skal sætte ind, før")
    tick(tables["fokusomraader-prioritet"], "Den gode alderdom")
    tick(tables["udvidelse-forebyggelse"], "Ja")
    tick(tables["udvidelse-forebyggelse"], "Nej")  # two where one is asked: skipped
    cell = tables["temaer-oenskede"].cell(1, 0)
    cell.add_paragraph(f"{TICK} Bedre veje på Læsø")  # not one of ours: skipped
    tick(tables["temaer-oenskede"], "Rehabilitering")
    answer = tables["oevrige-oensker"].cell(1, 0).paragraphs[0]
    answer.add_run("Færgen skal med i overvejelserne.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def tick(table: object, starts: str) -> None:
    cell = table.cell(1, 0)  # type: ignore[attr-defined]
    for p in cell.paragraphs:
        if p.text.startswith(f"☐ {starts}"):
            text = p.text
            for run in p.runs[1:]:
                run.text = ""
            p.runs[0].text = TICK + text[1:]
            return
    raise AssertionError(f"no box {starts!r}")


def inbox_fetch(db_url: str, tmp_path: Path, imap: ImapServer, at: str,
                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:  # fmt: skip
    """``aftaleflow inbox fetch --at AT`` in this process; its output."""
    with monkeypatch.context() as m:
        for name in [k for k in os.environ if k.startswith("AFTALEFLOW_")]:
            m.delenv(name)
        for k, v in env(db_url, tmp_path, AFTALEFLOW_IMAP_URL=imap.url(tls="plain")).items():
            m.setenv(k, v)
        code = main(["inbox", "fetch", "--at", at])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out
