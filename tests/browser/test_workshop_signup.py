"""Workshop sign-up in a real browser (Debian's chromium), with the mails at a real SMTP
server: two parties sign four people up for a workshop of three places through the links in
their invitations; three get a confirmation with the workshop's calendar file, one a
"venteliste" mail; a cancellation moves the one waiting up and mails them; the secretariat
downloads the participant list as XLSX. Every page passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from aftaleflow.config import from_env
from tests.browser.conftest import Site
from tests.browser.support import SECRET, Clock, build_app, serve
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.conftest import make_database
from tests.integration.conftest import SmtpServer
from tests.integration.dashboard_support import add_users
from tests.workshop_support import WORKSHOP, at, workshop_bundle
from workflow.service import Service

pytestmark = pytest.mark.browser

TITLE = "Workshop – Sammen om en stærk socialpsykiatri"


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


@pytest.fixture
def workshop_site(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[Site, str]]:
    """The workshops stage opened on 1 September 2022 (invitations queued); now is 2 September."""
    db, url = make_database("sqlite", tmp_path)
    try:
        svc = Service(db, link_secret=SECRET)
        key = svc.start(workshop_bundle(tmp_path), 2022, at=at("2022-08-01"))
        svc.tick(at("2022-09-01", 9))
        clock = Clock(at("2022-09-02", 10))
        with serve(build_app(url, tmp_path / "uploads", clock)) as live:
            settings = from_env(
                {
                    "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
                    "AFTALEFLOW_DATABASE_URL": url,
                    "AFTALEFLOW_SECRET_KEY": SECRET,
                    "AFTALEFLOW_BASE_URL": live.url,
                    "AFTALEFLOW_SMTP_URL": smtp.url,
                }
            )
            yield Site(live, db, clock, settings, smtp, tmp_path / "uploads"), key
    finally:
        db.dispose()


def signup_link(mails: list[EmailMessage], party_address: str) -> str:
    """The sign-up link in the workshop invitation to ``party_address``."""
    for m in mails:
        if party_address in str(m["To"]) and TITLE in str(m["Subject"]):
            body = m.get_body(("plain",))
            assert body is not None
            found = re.search(r"https?://\S+/tilmeld/[A-Za-z0-9_-]{43}", body.get_content())
            assert found, body.get_content()
            return found.group(0)
    raise AssertionError(f"no workshop invitation to {party_address}")


def fill(page: Page, row: int, name: str, role: str, email: str) -> None:
    person = page.get_by_role("group", name=f"Deltager {row}")
    person.get_by_label("Navn").fill(name)
    person.get_by_label("Rolle").fill(role)
    person.get_by_label("E-mail").fill(email)


def calendar_of(mail: EmailMessage) -> icalendar.Calendar:
    (part,) = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def test_four_people_for_three_places_a_waiting_list_and_a_cancellation(
    page: Page, workshop_site: tuple[Site, str], tmp_path: Path
) -> None:
    site, key = workshop_site
    invitations = site.deliver()
    aalborg_url = signup_link(invitations, "aalborg")
    hjorring_url = signup_link(invitations, "hjorring")

    page.goto(aalborg_url)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_text("3 i alt, 3 ledige")).to_be_visible()
    check(page, "sign-up form")
    fill(page, 1, "Anna Berg", "Socialudvalgsformand", "anna@aalborg.example")
    fill(page, 2, "Bo Holm", "Leder", "bo@aalborg.example")
    page.get_by_role("button", name="Tilmeld", exact=True).click()
    expect(page.get_by_text("2 tilmeldt, 0 på venteliste. Alle får en mail.")).to_be_visible()
    check(page, "sign-up done")

    site.clock.advance(timedelta(hours=1))
    page.goto(hjorring_url)
    fill(page, 1, "Carl Dam", "Konsulent", "carl@hjorring")
    page.get_by_role("button", name="Tilføj en række mere").click()
    expect(page.get_by_role("group", name="Deltager 4")).to_be_visible()
    expect(page.get_by_role("group", name="Deltager 1").get_by_label("Navn")).to_have_value(
        "Carl Dam"
    )
    page.get_by_role("button", name="Tilmeld", exact=True).click()
    expect(
        page.get_by_role("link", name=re.compile("Skriv en gyldig e-mailadresse"))
    ).to_be_visible()
    check(page, "sign-up error")
    page.get_by_role("group", name="Deltager 1").get_by_label("E-mail").fill(
        "carl@hjorring.example"
    )
    fill(page, 4, "Dorte Lund", "Leder", "dorte@hjorring.example")
    page.get_by_role("button", name="Tilmeld", exact=True).click()
    expect(page.get_by_text("1 tilmeldt, 1 på venteliste. Alle får en mail.")).to_be_visible()
    expect(page.locator("tr", has_text="Dorte Lund")).to_contain_text("Venteliste (nr. 1)")

    mails = site.deliver()
    confirmations = [m for m in mails if str(m["Subject"]).startswith("Tilmelding bekræftet")]
    assert sorted(str(m["To"]) for m in confirmations) == [
        "Anna Berg <anna@aalborg.example>",
        "Bo Holm <bo@aalborg.example>",
        "Carl Dam <carl@hjorring.example>",
    ]
    for m in confirmations:
        event = calendar_of(m).walk("VEVENT")[0]
        assert str(event["SUMMARY"]) == TITLE
        assert event.decoded("DTSTART").isoformat() == "2022-09-21T09:30:00+02:00"
    (waiting,) = [m for m in mails if str(m["Subject"]).startswith("Venteliste")]
    assert "dorte@hjorring.example" in str(waiting["To"])
    assert not [p for p in waiting.iter_attachments() if p.get_content_type() == "text/calendar"]

    page.goto(aalborg_url)
    page.get_by_role("button", name="Afmeld Anna Berg").click()
    expect(page.get_by_text("Anna Berg er afmeldt.")).to_be_visible()
    expect(page.get_by_text("Den første på ventelisten har fået pladsen")).to_be_visible()
    check(page, "after a cancellation")
    after = {str(m["To"]): m for m in site.deliver()}
    assert sorted(after) == [
        "Anna Berg <anna@aalborg.example>",
        "Dorte Lund <dorte@hjorring.example>",
    ]
    assert str(calendar_of(after["Anna Berg <anna@aalborg.example>"])["METHOD"]) == "CANCEL"
    moved_up = after["Dorte Lund <dorte@hjorring.example>"]
    assert str(moved_up["Subject"]).startswith("Du har fået en plads")
    assert str(calendar_of(moved_up).walk("VEVENT")[0]["SUMMARY"]) == TITLE

    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{key}/workshops")
    section = page.locator(f"[data-workshop='{WORKSHOP}']")
    expect(section).to_contain_text("3 af 3 pladser besat, 0 på venteliste")
    check(page, "workshop page")
    with page.expect_download() as info:
        page.get_by_role("link", name="Hent deltagerlisten (XLSX)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    wb = load_workbook(saved)
    rows = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    wb.close()
    assert [(r[1], r[2], r[4], r[5]) for r in rows[1:]] == [
        ("Aalborg Kommune", "Anna Berg", "anna@aalborg.example", "Afmeldt"),
        ("Aalborg Kommune", "Bo Holm", "bo@aalborg.example", "Tilmeldt"),
        ("Hjørring Kommune", "Carl Dam", "carl@hjorring.example", "Tilmeldt"),
        ("Hjørring Kommune", "Dorte Lund", "dorte@hjorring.example", "Tilmeldt"),
    ]
