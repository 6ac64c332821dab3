"""Contacts are live data, in a real browser (issue 13, item 1): Læsø's committee secretary's
address bounced; the secretariat replaces the contact from the party page mid-questionnaire,
the new contact is mailed the invitation with a new link (a real SMTP server) and answers
through it, and the old contact's link works on. Every page axe-core clean, phone and desktop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import KEY
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.integration.dashboard_support import add_users
from workflow.storage.models import ContactStatusRow

pytestmark = pytest.mark.browser

OLD = "socialudvalg@laeso.example"
NEW = "ny.sekretaer@laeso.example"


def _link(site: Site, text: str) -> str:
    found = re.search(re.escape(site.url) + r"/svar/[A-Za-z0-9_-]{43}", text)
    assert found, text
    return found.group(0)


def _body(message: object) -> str:
    part = message.get_body(("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


def test_replacing_laesos_committee_secretary_mid_questionnaire(page: Page, site: Site) -> None:
    page.set_default_timeout(10_000)
    sent = site.deliver()  # the invitations of 4 April
    [invitation] = [m for m in sent if OLD in str(m["To"])]
    old_link = _link(site, _body(invitation))
    with site.db.sessions() as s:  # a bounce came back for Læsø's secretary
        s.add(
            ContactStatusRow(
                address=OLD, status="failing", reason="bounce: 550 5.1.1", updated_at=site.clock()
            )
        )
        s.commit()
    add_users(site.db, site.clock())
    login(page, site)

    page.goto(f"{site.url}/sekretariat/proces/{KEY}")  # the alert names party and role
    expect(page.get_by_role("link", name=f"Erstat: {OLD} (Læsø Kommune)")).to_be_visible()
    check(page, "process page with a failing address")
    page.goto(f"{site.url}/sekretariat/proces/{KEY}/part/laeso")
    expect(page.locator("tr.row--failing")).to_contain_text(OLD)
    page.get_by_role("link", name=f"Erstat: {OLD}").click()
    expect(page.get_by_role("heading", name="Erstat kontakt")).to_be_visible()
    check(page, "replace contact")

    page.get_by_role("button", name="Erstat kontakt").click()  # nothing filled in
    expect(page.get_by_role("alert").first).to_be_visible()
    check(page, "replace contact with errors")

    page.get_by_label("Navn").fill("Ny sekretær for Socialudvalget")
    page.get_by_label("Mailadresse").fill(NEW)
    page.get_by_label("Begrundelse").fill("Returmail: sekretæren er stoppet")
    page.get_by_role("button", name="Erstat kontakt").click()
    expect(page.get_by_role("heading", name="Kontakter – Læsø Kommune")).to_be_visible()
    expect(page.get_by_text(f"{OLD} er erstattet af {NEW}")).to_be_visible()
    table = page.get_by_test_id("contacts-committee_secretary")
    expect(table).to_contain_text("Deaktiveret")
    expect(table).to_contain_text(NEW)
    check(page, "contacts page")

    [mail] = site.deliver()  # in office hours: at once
    assert str(mail["To"]) == f"Ny sekretær for Socialudvalget <{NEW}>"
    new_link = _link(site, _body(mail))
    assert new_link != old_link

    page.goto(old_link)  # the old contact's link works on (not revoked)
    expect(page.get_by_role("heading", name="Spørgsmål til de politiske udvalg")).to_be_visible()
    page.goto(new_link)  # the new contact answers through the new link
    for group, option in [
        ("I hvilken grad", "3"),
        ("Hvilke af retningspilene", "Vi skal stå sammen, også når det bliver svært"),
        ("Hvilket fokusområde", "Den gode alderdom"),
        ("Skal socialaftalen udvides", "Ved ikke"),
    ]:
        page.get_by_role("group", name=group).get_by_label(option).check()
    page.get_by_role("button", name="Indsend svar").click()
    expect(page.get_by_role("heading", name="Svaret er indsendt")).to_be_visible()

    page.goto(f"{site.url}/sekretariat/proces/{KEY}/part/laeso/kontakter")
    page.get_by_role("link", name="Tilføj kontakt: Direktør").click()
    expect(page.get_by_role("heading", name="Tilføj kontakt")).to_be_visible()
    check(page, "add contact")
