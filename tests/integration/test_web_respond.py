"""The questionnaire through personal links, over HTTP (Flask's test client) on SQLite and
PostgreSQL: open, draft, resume, validate, submit, edit, late, closed, uploads."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import EnvironBuilder, TestResponse

from tests.browser.support import (
    AFTER_CLOSE,
    AFTER_DEADLINE,
    AFTER_GRACE,
    AFTER_INVITATIONS,
    BEFORE_DEADLINE,
    KEY,
    QUESTIONNAIRE,
    WALL_START,
    Clock,
    build_app,
    pdf_bytes,
    run_until,
    token,
)
from web import close_app
from workflow.calendar import TZ
from workflow.loader import Bundle, load_bundle
from workflow.storage.db import Database
from workflow.storage.models import AnswerRow, EventRow, OutboxRow, TaskRow

ROOT = Path(__file__).resolve().parents[2]

COMPLETE = {
    "vision-egenmestring": "4",
    "vision-retningspile": ["staa-sammen", "tidlig-indsats"],
    "fokusomraader-prioritet": "socialpsykiatri",
    "udvidelse-forebyggelse": "ja",
    "alderdom-initiativer": ["viso-light"],
    "socialpsykiatri-initiativer": ["akutpladser", "faelles-investering"],
    "temaer-oenskede": ["velfaerdsteknologi", "hjemloese"],
    "specialviden-deling": "5",
    "oevrige-oensker": "Udvalget ønsker fokus på unge.\nOg på ældre.",
}


@dataclass
class Web:
    app: Flask
    client: FlaskClient
    clock: Clock
    db: Database
    uploads: Path
    wall: Clock

    def url(self, party: str = "aalborg", suffix: str = "") -> str:
        return f"/svar/{token(self.db, party)}{suffix}"

    def csrf(self, url: str) -> str:
        page = self.client.get(url)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def post(self, url: str, data: dict[str, Any], *, action: str = "submit") -> TestResponse:
        form = {"csrf_token": self.csrf(url), "action": action, **data}
        return post_multipart(self.client, url, form)

    def task(self, party: str = "aalborg") -> TaskRow:
        with self.db.sessions() as s:
            t = s.scalar(
                select(TaskRow).where(TaskRow.stage_id == QUESTIONNAIRE, TaskRow.party == party)
            )
        assert t is not None
        return t

    def answers(self, party: str = "aalborg") -> list[AnswerRow]:
        with self.db.sessions() as s:
            return list(
                s.scalars(
                    select(AnswerRow)
                    .where(AnswerRow.party == party)
                    .order_by(AnswerRow.state, AnswerRow.version)
                )
            )

    def outbox(self, kind: str) -> list[OutboxRow]:
        with self.db.sessions() as s:
            return list(
                s.scalars(select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id))
            )


def post_multipart(client: FlaskClient, url: str, form: dict[str, Any]) -> TestResponse:
    """A multipart POST whose encoded body is closed afterwards (the test client leaves a
    large one open, which ``filterwarnings = error`` turns into a failure)."""
    builder = EnvironBuilder(path=url, method="POST", data=form, content_type="multipart/form-data")
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def make_web(db_url: str, db: Database, bundle: Bundle, tmp_path: Path) -> Iterator[Web]:
    run_until(db, bundle, AFTER_INVITATIONS)
    clock = Clock(datetime(2022, 4, 5, 10, 0, tzinfo=TZ))
    wall = Clock(WALL_START)
    app = build_app(db_url, tmp_path / "uploads", clock, wall_clock=wall)
    yield Web(app, app.test_client(), clock, db, tmp_path / "uploads", wall)
    close_app(app)


@pytest.fixture
def web(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Web]:
    yield from make_web(db_url, db, socialaftale, tmp_path)


def checked(html: str, name: str, value: str) -> bool:
    return bool(re.search(rf'name="{re.escape(name)}" value="{re.escape(value)}" checked', html))


def test_opening_the_link_marks_the_task_opened_once(web: Web) -> None:
    page = web.client.get(web.url())
    assert page.status_code == 200
    assert '<html lang="da">' in page.text
    assert "Spørgsmål til de politiske udvalg" in page.text
    assert "Aalborg Kommune" in page.text
    assert "fredag den 20. maj 2022" in page.text
    web.clock.advance(timedelta(hours=2))
    web.client.get(web.url())
    task = web.task()
    assert task.status == "opened"
    assert task.opened_at == datetime(2022, 4, 5, 10, 0, tzinfo=TZ)
    with web.db.sessions() as s:
        opened = list(s.scalars(select(EventRow).where(EventRow.kind == "link_opened")))
    assert [(e.party, e.actor) for e in opened] == [("aalborg", "link:aalborg")]


def test_a_draft_is_saved_overwritten_and_resumed(web: Web) -> None:
    url = web.url()
    saved = web.post(
        url, {"vision-egenmestring": "2", "oevrige-oensker": "Første udkast"}, action="draft"
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith(url)
    page = web.client.get(url)
    assert "Kladden er gemt tirsdag den 5. april 2022 kl. 10.00" in page.text
    assert checked(page.text, "vision-egenmestring", "2")
    assert "Første udkast</textarea>" in page.text
    assert web.task().status == "draft"

    web.clock.advance(timedelta(days=1))
    web.post(
        url,
        {"vision-egenmestring": "3", "fokusomraader-prioritet": "socialpsykiatri"},
        action="draft",
    )
    drafts = web.answers()
    assert [(a.state, a.version) for a in drafts] == [("draft", 0)]  # one draft, overwritten
    assert drafts[0].data == {
        "vision-egenmestring": 3,
        "fokusomraader-prioritet": "socialpsykiatri",
    }

    fresh = web.app.test_client()  # another browser: the draft is in the database
    page = fresh.get(url)
    assert "I fortsætter på kladden, der blev gemt onsdag den 6. april 2022 kl. 10.00" in page.text
    assert checked(page.text, "vision-egenmestring", "3")
    assert checked(page.text, "fokusomraader-prioritet", "socialpsykiatri")
    assert "Første udkast" not in page.text


def test_a_refused_submission_keeps_everything_typed_and_the_uploaded_file(web: Web) -> None:
    url = web.url()
    typed = {
        "vision-retningspile": ["selvhjulpen"],
        "oevrige-oensker": "Vigtig bemærkning",
        "referat": (io.BytesIO(pdf_bytes()), "referat.pdf"),
    }
    refused = web.post(url, typed)
    assert refused.status_code == 422
    html = refused.text
    summary = html[html.index('class="error-summary"') : html.index("</ul>")]
    assert 'role="alert"' in html
    for qid in ("vision-egenmestring", "fokusomraader-prioritet", "udvidelse-forebyggelse"):
        assert f'href="#q-{qid}"' in summary
    assert "vision-retningspile" not in summary
    assert 'id="q-vision-egenmestring"' in html
    assert checked(html, "vision-retningspile", "selvhjulpen")
    assert "Vigtig bemærkning</textarea>" in html
    assert "Vedhæftet nu: referat.pdf" in html
    kept = re.search(r'name="referat-kept" value="([^"]+)"', html)
    assert kept
    assert web.answers() == []  # nothing submitted
    stored = list(web.uploads.iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == pdf_bytes()

    # the second post sends no file again: the kept reference carries it
    second = web.post(url, {**COMPLETE, "referat-kept": kept.group(1)})
    assert second.status_code == 303
    (version,) = web.answers()
    assert version.data["referat"]["filename"] == "referat.pdf"
    assert version.data["referat"]["sha256"] == hashlib.sha256(pdf_bytes()).hexdigest()
    assert version.data["referat"]["stored_as"] == stored[0].name


def test_submit_confirm_receipt_and_edit_before_the_deadline(
    web: Web, socialaftale: Bundle
) -> None:
    url = web.url()
    done = web.post(url, COMPLETE)
    assert done.status_code == 303 and done.headers["Location"].endswith(url + "/kvittering")
    confirmation = web.client.get(done.headers["Location"])
    assert "Svaret er indsendt" in confirmation.text
    assert "Version 1, indsendt tirsdag den 5. april 2022 kl. 10.00" in confirmation.text
    assert "Sammen om en stærk socialpsykiatri" in confirmation.text
    assert web.task().status == "submitted"

    (receipt,) = web.outbox("receipt")
    assert receipt.party == "aalborg" and receipt.seq == 1
    secretaries = socialaftale.parties.get("aalborg").addresses("committee_secretary")
    assert receipt.recipients == [{"name": c.name, "email": c.email} for c in secretaries]
    ctx = receipt.context
    assert (ctx["version"], ctx["late"], ctx["process_key"]) == (1, False, KEY)
    assert ctx["link"] == {"generation": 1}
    answers = {a["question"]: a["answer"] for a in ctx["answers"]}
    assert (
        answers[
            "Hvilket fokusområde bør efter udvalgets opfattelse have højest prioritet i den nye aftale?"
        ]
        == "Sammen om en stærk socialpsykiatri"
    )

    # coming back shows the submitted answers; edit and submit again before the deadline
    web.clock.set(BEFORE_DEADLINE)
    page = web.client.get(url)
    assert "I indsendte version 1" in page.text
    assert checked(page.text, "fokusomraader-prioritet", "socialpsykiatri")
    again = web.post(url, {**COMPLETE, "fokusomraader-prioritet": "den-gode-alderdom"})
    assert again.status_code == 303
    versions = web.answers()
    assert [(a.version, a.late, a.data["fokusomraader-prioritet"]) for a in versions] == [
        (1, False, "socialpsykiatri"),
        (2, False, "den-gode-alderdom"),
    ]
    assert [r.seq for r in web.outbox("receipt")] == [1, 2]
    confirmation = web.client.get(url + "/kvittering")
    assert "Version 2" in confirmation.text and "Indsendte versioner" in confirmation.text
    assert web.task().status == "submitted"


def test_a_late_answer_is_taken_and_marked_late(web: Web) -> None:
    web.post(web.url("rebild"), COMPLETE)  # rebild answered on time
    web.clock.set(AFTER_DEADLINE)  # no tick has run since the deadline
    url = web.url()
    page = web.client.get(url)
    assert "Fristen fredag den 20. maj 2022 er overskredet" in page.text
    assert web.post(url, COMPLETE).status_code == 303
    confirmation = web.client.get(url + "/kvittering")
    assert "markeret som for sent" in confirmation.text
    (version,) = web.answers()
    assert version.late
    assert web.task().status == "late"
    assert web.outbox("receipt")[-1].context["late"] is True

    # an on-time party that corrects its answer after the deadline: that version is late
    assert web.post(web.url("rebild"), COMPLETE).status_code == 303
    assert [a.late for a in web.answers("rebild")] == [False, True]
    assert web.task("rebild").status == "submitted"


def test_a_closed_stage_refuses_politely_and_an_expired_link_is_gone(web: Web) -> None:
    web.post(web.url(), COMPLETE)
    url = web.url("hjorring")
    csrf = web.csrf(url)  # the form was opened while the stage was open
    web.clock.set(AFTER_CLOSE)
    page = web.client.get(web.url())
    assert page.status_code == 200
    assert "Spørgeskemaet er lukket" in page.text
    assert "Jeres seneste svar (version 1)" in page.text
    assert "<form" not in page.text

    refused = web.client.post(url, data={"csrf_token": csrf, "action": "submit", **COMPLETE})
    assert refused.status_code == 409
    assert "er ikke gemt" in refused.text
    assert web.answers("hjorring") == []

    web.clock.set(AFTER_GRACE)
    assert web.client.get(web.url()).status_code == 404


def test_late_answers_refused_when_the_definition_says_so(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    definitions = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", definitions)
    process = definitions / "processes" / "socialaftale.yaml"
    process.write_text(process.read_text().replace("accept_late: true", "accept_late: false"))
    bundle = load_bundle(process, reference_year=2022)
    web = next(make_web(db_url, db, bundle, tmp_path))
    try:
        web.clock.set(AFTER_DEADLINE)
        page = web.client.get(web.url())
        assert "Fristen er overskredet" in page.text and "<form" not in page.text
        url = web.url()
        web.clock.set(BEFORE_DEADLINE)
        csrf = web.csrf(url)
        web.clock.set(AFTER_DEADLINE)
        response = web.client.post(url, data={"csrf_token": csrf, **COMPLETE})
        assert response.status_code == 409
        assert web.answers() == []
    finally:
        close_app(web.app)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"<html><script>alert(1)</script></html>",
            "referat.pdf",
            "Filen skal være PDF, DOCX eller ODT",
        ),
        (b"", "tom.pdf", "Den valgte fil er tom"),
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), "stor.pdf", "Filen må højst fylde 10 MB"),
    ],
)
def test_uploads_are_checked_by_content_and_size(
    web: Web, content: bytes, name: str, message: str
) -> None:
    response = web.post(
        web.url(), {**COMPLETE, "referat": (io.BytesIO(content), name)}, action="draft"
    )
    assert response.status_code == 422
    assert message in response.text
    assert 'href="#q-referat"' in response.text
    assert checked(response.text, "fokusomraader-prioritet", "socialpsykiatri")
    assert web.answers() == []
    assert list(web.uploads.iterdir()) == []  # nothing refused is kept


def test_a_file_can_be_removed(web: Web) -> None:
    url = web.url()
    web.post(url, {**COMPLETE, "referat": (io.BytesIO(pdf_bytes()), "r.pdf")}, action="draft")
    page = web.client.get(url)
    kept = re.search(r'name="referat-kept" value="([^"]+)"', page.text)
    assert kept
    web.post(url, {**COMPLETE, "referat-kept": kept.group(1), "referat-remove": "1"})
    (version,) = web.answers()
    assert "referat" not in version.data


def test_a_kept_file_reference_of_another_party_is_ignored(web: Web) -> None:
    web.post(
        web.url("rebild"), {"referat": (io.BytesIO(pdf_bytes()), "rebild.pdf")}, action="draft"
    )
    page = web.client.get(web.url("rebild"))
    kept = re.search(r'name="referat-kept" value="([^"]+)"', page.text)
    assert kept
    web.post(web.url(), {**COMPLETE, "referat-kept": kept.group(1)})
    (version,) = web.answers()
    assert "referat" not in version.data


def test_a_failed_csrf_check_shows_the_form_again_with_what_was_typed(web: Web) -> None:
    url = web.url()
    response = web.client.post(url, data={"csrf_token": "forged", "action": "submit", **COMPLETE})
    assert response.status_code == 400
    assert "sikkerhedstjekket fejlede" in response.text
    assert checked(response.text, "fokusomraader-prioritet", "socialpsykiatri")
    assert "Udvalget ønsker fokus på unge." in response.text
    assert web.answers() == []


def test_english_is_a_switch_away_and_is_remembered(web: Web) -> None:
    page = web.client.get(web.url() + "?lang=en")
    assert '<html lang="en">' in page.text
    # the questions are Danish content on an English page: marked so (WCAG 3.1.2)
    assert '<h1 lang="da">Spørgsmål til de politiske udvalg om den nye' in page.text
    label = "Har udvalget andre ønsker, bemærkninger til visionen"
    assert f'<span lang="da">{label}' in page.text
    assert '<label for="q-vision-retningspile" lang="da">' in page.text
    assert '<span class="marker">(required)</span>' in page.text
    danish_page = web.client.get(web.url() + "?lang=da").text
    assert danish_page.count(' lang="da"') == 1, "only <html>: the whole page is Danish"
    web.client.get(web.url() + "?lang=en")
    assert "Submit answers" in page.text and "Save draft" in page.text
    assert 'href="?lang=da"' in page.text
    page = web.client.get(web.url())
    assert "Submit answers" in page.text
    refused = web.post(web.url(), {})
    assert "There is a problem" in refused.text and "Select an answer" in refused.text
