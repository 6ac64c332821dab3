"""Council secretariats record decisions through their approval links: the decision shows in
``aftaleflow status``, a rejection blocks and tells the secretariat, and the stage completes
only when all twelve parties' chains have approved."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.browser.support import (
    AFTER_APPROVAL_REQUESTS,
    APPROVAL,
    KEY,
    SECRET,
    Clock,
    build_app,
    pdf_bytes,
    run_until,
    token,
)
from tests.integration.test_web_respond import post_multipart
from web import close_app
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.queries import process_status
from workflow.service import Service, bound_for
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, TaskRow

ROOT = Path(__file__).resolve().parents[2]

DECISION = {
    "meeting_date": "2022-11-08",
    "agenda_item": "7",
    "decision": "approved",
    "decision_text": "Godkendt",
}


@dataclass
class Council:
    app: Flask
    client: FlaskClient
    clock: Clock
    db: Database
    uploads: Path

    def url(self, party: str, step: str) -> str:
        return f"/godkend/{token(self.db, party, stage=APPROVAL, step=step)}"

    def decide(self, party: str, step: str, **fields: Any) -> TestResponse:
        url = self.url(party, step)
        page = self.client.get(url)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text
        return post_multipart(self.client, url, {"csrf_token": csrf.group(1), **DECISION, **fields})

    def step(self, party: str, step: str) -> TaskRow:
        with self.db.sessions() as s:
            t = s.scalar(
                select(TaskRow).where(
                    TaskRow.stage_id == APPROVAL, TaskRow.party == party, TaskRow.step == step
                )
            )
        assert t is not None
        return t

    def status(self) -> tuple[str, str]:
        with self.db.sessions() as s:
            row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
            assert row is not None
            st = process_status(s, KEY, bound_for(row))
        return st.status, next(x.status for x in st.stages if x.id == APPROVAL)


@pytest.fixture
def council(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Council]:
    run_until(db, socialaftale, AFTER_APPROVAL_REQUESTS)
    clock = Clock(datetime(2022, 11, 9, 11, 0, tzinfo=TZ))
    app = build_app(db_url, tmp_path / "uploads", clock)
    yield Council(app, app.test_client(), clock, db, tmp_path / "uploads")
    close_app(app)


def cli_status(db_url: str, tmp_path: Path) -> str:
    env = {
        **os.environ,
        "AFTALEFLOW_DATABASE_URL": db_url,
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "cli-var"),
        "AFTALEFLOW_SECRET_KEY": SECRET,
        "COLUMNS": "400",
    }
    done = subprocess.run(
        [sys.executable, "-m", "aftaleflow", "status", KEY],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def party_line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if name in line and "│" in line)


def test_an_approval_through_the_page_shows_in_aftaleflow_status(
    council: Council, db_url: str, tmp_path: Path
) -> None:
    page = council.client.get(council.url("aalborg", "socialudvalg"))
    assert "Socialudvalget: beslutning om Nordjysk Socialaftale 2023-2024" in page.text
    assert 'max="2022-11-09"' in page.text
    done = council.decide(
        "aalborg", "socialudvalg", minutes_url="https://aalborg.example/dagsorden/7"
    )
    assert done.status_code == 303
    recorded = council.client.get(done.headers["Location"])
    assert "Beslutningen er registreret" in recorded.text
    assert "Godkendt på mødet tirsdag den 8. november 2022, punkt 7" in recorded.text

    step = council.step("aalborg", "socialudvalg")
    assert step.status == "approved"
    assert step.decision is not None
    assert {
        k: step.decision[k] for k in ("meeting_date", "agenda_item", "minutes", "recorded_by")
    } == {
        "meeting_date": "2022-11-08",
        "agenda_item": "7",
        "minutes": "https://aalborg.example/dagsorden/7",
        "recorded_by": "link:aalborg/socialudvalg",
    }
    assert council.step("aalborg", "byraad").status == "requested"  # the chain moves on
    assert "Anmodet (Byråd)" in party_line(cli_status(db_url, tmp_path), "Aalborg")

    council.decide("aalborg", "byraad", agenda_item="12")
    assert "Godkendt (Byråd)" in party_line(cli_status(db_url, tmp_path), "Aalborg")
    again = council.client.get(council.url("aalborg", "byraad"))
    assert "Beslutningen er endelig" in again.text and "<form" not in again.text


def test_the_stage_advances_only_when_all_twelve_chains_are_approved(
    council: Council, socialaftale: Bundle
) -> None:
    chains = socialaftale.process.stage(APPROVAL).chains  # type: ignore[union-attr]
    steps = [(p.slug, body) for p in socialaftale.parties.parties for body in chains[p.kind]]
    assert len(steps) == 23
    for party, body in steps:
        assert council.status() == ("running", "open"), f"closed early, before {party} {body}"
        council.clock.advance(timedelta(minutes=10))
        assert council.decide(party, body).status_code == 303
    assert council.status() == ("running", "completed")
    # the agreement goes to Socialstyrelsen when its stage opens (5 December)
    Service(council.db, link_secret=SECRET).tick(datetime(2022, 12, 5, 9, 0, tzinfo=TZ))
    with council.db.sessions() as s:
        submission = s.scalar(select(OutboxRow).where(OutboxRow.kind == "submission"))
    assert submission is not None
    assert len(submission.context["approvals"]) == 23
    assert {a["recorded_by"] for a in submission.context["approvals"]} == {
        f"link:{party}/{body}" for party, body in steps
    }


def test_a_rejection_blocks_the_process_and_tells_the_secretariat(council: Council) -> None:
    done = council.decide(
        "laeso",
        "socialudvalg",
        decision="rejected",
        decision_text="Udvalget kan ikke anbefale <b>aftalen</b>",
    )
    assert done.status_code == 303
    assert council.status() == ("blocked", "blocked")
    with council.db.sessions() as s:
        (mail,) = s.scalars(select(OutboxRow).where(OutboxRow.kind == "rejection")).all()
    assert mail.party == "laeso"
    assert mail.context["decision_text"] == "Udvalget kan ikke anbefale <b>aftalen</b>"
    page = council.client.get(council.url("laeso", "socialudvalg"))
    assert "&lt;b&gt;aftalen&lt;/b&gt;" in page.text and "<b>aftalen" not in page.text
    assert "kan I registrere en ny beslutning" in page.text

    # the committee decides again: approved, and the process runs on
    council.clock.advance(timedelta(days=7))
    council.decide("laeso", "socialudvalg", meeting_date="2022-11-15")
    assert council.status() == ("running", "open")


def test_minutes_are_uploaded_checked_and_recorded(council: Council) -> None:
    refused = council.decide(
        "rebild", "socialudvalg", minutes_file=(io.BytesIO(b"GIF89a"), "referat.pdf")
    )
    assert refused.status_code == 422
    assert 'href="#q-minutes_file"' in refused.text
    assert council.step("rebild", "socialudvalg").status == "requested"

    done = council.decide(
        "rebild", "socialudvalg", minutes_file=(io.BytesIO(pdf_bytes()), "Referat 8-11.pdf")
    )
    assert done.status_code == 303
    step = council.step("rebild", "socialudvalg")
    assert step.decision is not None
    assert step.decision["minutes"] == "Referat 8-11.pdf"
    assert step.decision["minutes_file"]["sha256"] == hashlib.sha256(pdf_bytes()).hexdigest()
    with council.db.sessions() as s:
        event = s.scalar(select(EventRow).where(EventRow.kind == "file_uploaded"))
    assert event is not None
    stored = council.uploads / event.data["stored_as"]
    assert stored.read_bytes() == pdf_bytes()


def test_a_refused_decision_keeps_what_was_typed(council: Council) -> None:
    refused = council.decide(
        "thisted",
        "socialudvalg",
        meeting_date="2022-12-24",
        agenda_item="",
        decision_text="Anbefales",
        minutes_url="ftp://x",
    )
    assert refused.status_code == 422
    html = refused.text
    for field in ("meeting_date", "agenda_item", "minutes_url"):
        assert f'href="#q-{field}"' in html
    assert "Mødedatoen kan ikke ligge efter i dag" in html
    assert 'value="2022-12-24"' in html
    assert "Anbefales</textarea>" in html
    assert re.search(r'value="approved" checked', html)
    assert council.step("thisted", "socialudvalg").status == "requested"


def test_a_decision_date_is_today_at_the_latest(council: Council) -> None:
    council.clock.set(datetime(2022, 11, 8, 23, 30, tzinfo=TZ))  # Danish date: 8 November
    assert council.decide("morso", "socialudvalg").status_code == 303
    decided = council.step("morso", "socialudvalg")
    assert decided.decision is not None
    assert date.fromisoformat(decided.decision["meeting_date"]) == date(2022, 11, 8)


def test_minutes_attached_to_an_approval_are_not_the_approved_agreement(
    council: Council, socialaftale: Bundle
) -> None:
    """Issue 11 point 1: the approval records the agreement version up for approval when it
    was given; the minutes are kept apart, as minutes, and the submission is not refused."""
    svc = Service(council.db, link_secret=SECRET)
    agreement = pdf_bytes("Nordjysk Socialaftale 2023-24")
    version = svc.add_document(
        KEY,
        filename="socialaftale-2023-24.pdf",
        media_type="application/pdf",
        content=agreement,
        at=council.clock(),
        actor="sekretariatet",
    )
    wanted = svc.put_up_for_approval(
        KEY, version, at=council.clock(), actor="sekretariatet", reason="KKR's anbefaling"
    )
    assert wanted == hashlib.sha256(agreement).hexdigest()
    council.clock.advance(timedelta(hours=1))
    minutes = pdf_bytes("Referat fra byraadet i Rebild")
    done = council.decide(
        "rebild", "socialudvalg", minutes_file=(io.BytesIO(minutes), "Referat 8-11.pdf")
    )
    assert done.status_code == 303
    step = council.step("rebild", "socialudvalg")
    assert step.decision is not None
    assert step.decision["document_hash"] == wanted
    assert step.decision["document_version"] == version
    assert step.decision["minutes_file"]["sha256"] == hashlib.sha256(minutes).hexdigest()
    assert step.decision["minutes_file"]["filename"] == "Referat 8-11.pdf"
    assert step.decision["minutes"] == "Referat 8-11.pdf"

    chains = socialaftale.process.stage(APPROVAL).chains  # type: ignore[union-attr]
    for p in socialaftale.parties.parties:
        for body in chains[p.kind]:
            if (p.slug, body) != ("rebild", "socialudvalg"):
                council.clock.advance(timedelta(minutes=10))
                assert (
                    council.decide(
                        p.slug, body, minutes_file=(io.BytesIO(minutes), "referat.pdf")
                    ).status_code
                    == 303
                )
    Service(council.db, link_secret=SECRET).tick(datetime(2022, 12, 5, 9, 0, tzinfo=TZ))
    with council.db.sessions() as s:
        submission = s.scalar(select(OutboxRow).where(OutboxRow.kind == "submission"))
    assert submission is not None, "the submission was refused"
    assert submission.context["document"]["sha256"] == wanted
    assert {a["document_hash"] for a in submission.context["approvals"]} == {wanted}


def cli(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AFTALEFLOW_DATABASE_URL": db_url,
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "cli-var"),
        "AFTALEFLOW_SECRET_KEY": SECRET,
        "COLUMNS": "400",
    }
    return subprocess.run(
        [sys.executable, "-m", "aftaleflow", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_record_approval_at_refuses_before_the_stage_opened_or_in_the_future(
    council: Council, db_url: str, tmp_path: Path
) -> None:
    """Issue 11 point 7: ``record approval --at`` is a moment the decision can have been
    recorded: not before the stage asked for it, not later than now."""
    base = ("record", "approval", APPROVAL, "aalborg", "socialudvalg", "--decision", "approved")
    early = cli(db_url, tmp_path, *base, "--at", "2022-11-01T10:00")
    assert early.returncode != 0
    assert (
        "fasen »Aftalen godkendes politisk« åbnede først 07.11.2022" in early.stderr + early.stdout
    )
    assert "Traceback" not in early.stderr
    future = cli(db_url, tmp_path, *base, "--at", "2999-01-01T10:00")
    assert future.returncode == 2
    assert "i fremtiden" in future.stderr
    assert council.step("aalborg", "socialudvalg").status == "requested"
    ok = cli(db_url, tmp_path, *base, "--at", "2022-11-08T10:00")
    assert ok.returncode == 0, ok.stderr
    assert council.step("aalborg", "socialudvalg").status == "approved"


def test_danish_content_on_the_english_approval_page_is_marked_danish(council: Council) -> None:
    r = council.decide("aalborg", "socialudvalg", decision_text="Udvalget anbefaler aftalen.")
    assert r.status_code == 303
    page = council.client.get(council.url("aalborg", "socialudvalg") + "?lang=en").text
    assert '<html lang="en">' in page
    assert '<p class="caption" lang="da">Aalborg Kommune · Aftalen godkendes politisk</p>' in page
    assert '<p class="pre" lang="da">Udvalget anbefaler aftalen.</p>' in page
    danish = council.client.get(council.url("aalborg", "socialudvalg") + "?lang=da").text
    assert danish.count(' lang="da"') == 1, "only <html>: the whole page is Danish"
