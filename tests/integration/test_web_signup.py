"""The workshop sign-up page over HTTP (Flask's test client) on SQLite and PostgreSQL: the
form with blank rows and "add another", a forged link, malformed input (a Danish message,
everything typed kept, nothing saved), a sign-up that works, and a party's own cancellation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.browser.support import SECRET, WALL_START, Clock, build_app
from tests.workshop_support import STAGE, WORKSHOP, at, workshop_bundle
from web import close_app
from workflow.links import LinkKey, make_token
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow, WorkshopSignupRow


@dataclass
class Site:
    client: FlaskClient
    clock: Clock
    db: Database
    pid: int

    def url(self, party: str = "aalborg") -> str:
        return f"/tilmeld/{make_token(SECRET, LinkKey(self.pid, STAGE, party, WORKSHOP, 1))}"

    def post(self, url: str, data: dict[str, str]) -> TestResponse:
        page = self.client.get(url.removesuffix("/afmeld"))
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return self.client.post(url, data={"csrf_token": found.group(1), **data})

    def signups(self) -> int:
        with self.db.sessions() as s:
            return s.scalar(select(func.count()).select_from(WorkshopSignupRow)) or 0


@pytest.fixture
def site(db_url: str, db: Database, tmp_path: Path) -> Iterator[Site]:
    svc = Service(db, link_secret=SECRET)
    key = svc.start(workshop_bundle(tmp_path), 2022, at=at("2022-08-01"))
    svc.tick(at("2022-09-01", 9))
    with db.sessions() as s:
        pid = s.scalar(select(OutboxRow.process_id))
    assert pid is not None and key
    clock = Clock(at("2022-09-02", 10))
    app = build_app(db_url, tmp_path / "uploads", clock, wall_clock=Clock(WALL_START))
    yield Site(app.test_client(), clock, db, pid)
    close_app(app)


def test_the_form_has_blank_rows_and_adds_one_without_javascript(site: Site) -> None:
    page = site.client.get(site.url())
    assert page.status_code == 200 and '<html lang="da">' in page.text
    assert "Workshop – Sammen om en stærk socialpsykiatri" in page.text
    assert "3 i alt, 3 ledige" in page.text
    assert len(re.findall(r'name="email-\d"', page.text)) == 3
    more = site.post(site.url(), {"rows": "3", "name-0": "Anna Berg", "action": "add_row"})
    assert more.status_code == 200
    assert len(re.findall(r'name="email-\d"', more.text)) == 4
    assert 'value="Anna Berg"' in more.text
    assert site.signups() == 0


def test_a_forged_or_foreign_link_is_a_plain_404(site: Site) -> None:
    forged = make_token("another-secret", LinkKey(site.pid, STAGE, "aalborg", WORKSHOP, 1))
    no_signup = make_token(SECRET, LinkKey(site.pid, STAGE, "aalborg", "uden-tilmelding", 1))
    for token in (forged, no_signup, "kort"):
        assert site.client.get(f"/tilmeld/{token}").status_code == 404
    assert site.client.post(f"/tilmeld/{forged}", data={"name-0": "X"}).status_code == 404


def test_malformed_input_gets_a_danish_message_keeps_what_was_typed_and_saves_nothing(
    site: Site,
) -> None:
    form = {
        "rows": "3",
        "name-0": "Anna Berg",
        "role-0": "Konsulent",
        "email-0": "anna@@kommune",
        "name-1": "",
        "email-1": "bo@kommune.example",
        "name-2": "x" * 201,
        "email-2": "x@kommune.example",
        "action": "submit",
    }
    page = site.post(site.url(), form)
    assert page.status_code == 422
    assert "Skriv en gyldig e-mailadresse" in page.text
    assert "Skriv deltagerens navn" in page.text
    assert "Navnet må højst være 200 tegn" in page.text
    assert 'value="anna@@kommune"' in page.text and 'value="Konsulent"' in page.text
    assert 'href="#email-0"' in page.text and 'aria-invalid="true"' in page.text
    empty = site.post(site.url(), {"rows": "3", "action": "submit"})
    assert empty.status_code == 422 and "Udfyld mindst én deltager" in empty.text
    twice = {"rows": "2", "name-0": "A", "email-0": "a@k.example", "name-1": "B",
             "email-1": "A@k.example", "action": "submit"}  # fmt: skip
    page = site.post(site.url(), twice)
    assert page.status_code == 422 and "allerede tilmeldt" in page.text
    assert site.signups() == 0
    form = {"rows": "1", "name-0": "Anna", "email-0": "anna@k.example", "action": "submit"}
    assert site.post(site.url("hjorring"), form).status_code == 303
    again = site.post(site.url(), {**form, "email-0": "ANNA@k.example"})
    assert again.status_code == 422 and "allerede tilmeldt" in again.text, "another party's"
    assert site.signups() == 1
    with site.db.sessions() as s:
        assert s.scalar(select(func.count()).where(OutboxRow.kind.like("workshop_%"))) == 1


def test_signing_up_and_cancelling(site: Site) -> None:
    form = {"rows": "3", "name-0": "Anna Berg", "role-0": "Konsulent",
            "email-0": "anna@aalborg.example", "action": "submit"}  # fmt: skip
    done = site.post(site.url(), form)
    assert done.status_code == 303
    page = site.client.get(site.url())
    assert "1 tilmeldt, 0 på venteliste" in page.text
    assert "anna@aalborg.example" in page.text and "3 i alt, 2 ledige" in page.text
    other = site.client.get(site.url("hjorring"))
    assert "anna@aalborg.example" not in other.text, "a party sees only its own participants"
    with site.db.sessions() as s:
        seq = s.scalar(select(WorkshopSignupRow.seq))
    assert site.post(site.url("hjorring") + "/afmeld", {"seq": str(seq)}).status_code == 404
    gone = site.post(site.url() + "/afmeld", {"seq": str(seq)})
    assert gone.status_code == 303
    assert "Anna Berg er afmeldt." in site.client.get(site.url()).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', site.client.get(site.url()).text)
    assert token
    site.clock.set(at("2022-09-15", 10))
    closed = site.client.get(site.url())
    assert "Tilmeldingen lukkede" in closed.text and 'name="email-0"' not in closed.text
    late_form = {**form, "email-0": "bo@aalborg.example", "csrf_token": token.group(1)}
    late = site.client.post(site.url(), data=late_form)
    assert "Tilmeldingen lukkede" in late.text and 'value="bo@aalborg.example"' not in late.text
    assert late.status_code == 409


def test_a_refused_sign_up_and_cancellation_are_danish_and_english_with_lang_en(
    site: Site,
) -> None:
    form = {"rows": "1", "name-0": "Anna Berg", "email-0": "anna@aalborg.example",
            "action": "submit"}  # fmt: skip
    assert site.post(site.url(), form).status_code == 303
    found = re.search(r'name="csrf_token" value="([^"]+)"', site.client.get(site.url()).text)
    assert found
    token = found.group(1)
    with site.db.sessions() as s:
        seq = s.scalar(select(WorkshopSignupRow.seq))
    late = {**form, "email-0": "bo@aalborg.example", "csrf_token": token}
    site.clock.set(at("2022-09-15", 10))  # the sign-up closed at the end of 14 September
    da = site.client.post(site.url(), data=late)
    assert da.status_code == 409
    assert "Tilmeldingen lukkede onsdag den 14. september 2022 kl. 23.59." in da.text
    assert site.client.get(site.url() + "?lang=en").status_code == 200
    en = site.client.post(site.url(), data=late)
    assert en.status_code == 409 and '<html lang="en">' in en.text
    assert "The sign-up closed Wednesday 14 September 2022 at 23:59." in en.text
    assert "Tilmeldingen lukkede" not in en.text

    # The workshop has begun: the engine refuses the cancellation, in the page's language.
    site.clock.set(at("2022-09-21", 10))
    cancel = {"seq": str(seq), "csrf_token": token}
    en = site.client.post(site.url() + "/afmeld", data=cancel)
    assert en.status_code == 409
    assert (
        "The cancellation could not be made: The workshop »Workshop – Sammen om en stærk "
        "socialpsykiatri« has begun; nothing can be cancelled."
    ) in en.text
    assert site.client.get(site.url() + "?lang=da").status_code == 200
    da = site.client.post(site.url() + "/afmeld", data=cancel)
    assert da.status_code == 409
    assert (
        "Afmeldingen kunne ikke gennemføres: Workshoppen »Workshop – Sammen om en stærk "
        "socialpsykiatri« er begyndt; der kan ikke længere afmeldes."
    ) in da.text
    assert "has begun" not in da.text
    assert site.signups() == 1
