"""The meeting calendar page in a real browser: from the meeting plan to Læsø's byråd, its
December meeting moved before the deadline (the plan's red mark goes), a meeting added and
the agenda deadline set; a holiday refused with the reason; axe-core clean on a phone and a
desktop, with and without an error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import KEY
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.integration.dashboard_support import add_users

pytestmark = pytest.mark.browser


def test_the_meeting_calendar_is_edited_from_the_meeting_plan(
    page: Page, own_definitions_site: Site
) -> None:
    site = own_definitions_site
    page.set_default_timeout(10_000)
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{KEY}/moedeplan")
    expect(page.locator("tr.plan--risk")).to_have_count(1)
    page.get_by_role("link", name="Se og ret mødekalenderen").click()
    expect(page.get_by_role("heading", name="Mødekalender 2022")).to_be_visible()
    check(page, "meeting calendar")

    page.get_by_label("Organ", exact=True).select_option(label="Læsø Kommune – Byråd")
    page.get_by_role("button", name="Vis").click()
    expect(page.get_by_role("heading", name="Læsø Kommune – Byråd")).to_be_visible()
    expect(page.locator('tr[data-date="2022-12-14"]')).to_contain_text("kl. 17.00")

    move = page.locator("section", has=page.get_by_role("heading", name="Flyt et møde"))
    move.get_by_label("Mødet").select_option("2022-12-14")
    move.get_by_label("Ny dato").fill("2022-11-28")
    move.get_by_label("Begrundelse").fill("Byrådet har flyttet decembermødet")
    move.get_by_role("button", name="Flyt mødet").click()
    expect(page.get_by_text("Mødet 14.12.2022 er flyttet til 28.11.2022")).to_be_visible()
    expect(page.locator('tr[data-date="2022-11-28"]')).to_contain_text("kl. 17.00")
    expect(page.locator('tr[data-date="2022-12-14"]')).to_have_count(0)

    add = page.locator("section", has=page.get_by_role("heading", name="Tilføj et møde"))
    add.get_by_label("Mødets dato").fill("2022-12-26")
    add.get_by_label("Begrundelse").fill("Ekstra møde")
    add.get_by_role("button", name="Tilføj mødet").click()
    expect(page.get_by_role("alert")).to_contain_text("er ikke en arbejdsdag (Anden juledag)")
    check(page, "meeting calendar with a refusal")
    add = page.locator("section", has=page.get_by_role("heading", name="Tilføj et møde"))
    add.get_by_label("Mødets dato").fill("2022-12-20")
    add.get_by_label(re.compile("^Tidspunkt")).fill("16:30")
    add.get_by_label("Begrundelse").fill("Ekstra møde")
    add.get_by_role("button", name="Tilføj mødet").click()
    expect(page.locator('tr[data-date="2022-12-20"]')).to_contain_text("kl. 16.30")

    days = page.locator("section", has=page.get_by_role("heading", name="Dagsordensfrist"))
    days.get_by_role("button", name="Gem dagsordensfristen").click()
    expect(page.locator(".error-summary")).to_contain_text("Begrundelse")
    check(page, "meeting calendar with an error summary")
    days = page.locator("section", has=page.get_by_role("heading", name="Dagsordensfrist"))
    days.get_by_label("Dage før mødet").fill("5")
    days.get_by_label("Begrundelse").fill("Læsø lukker dagsordenen senere")
    days.get_by_role("button", name="Gem dagsordensfristen").click()
    expect(page.get_by_test_id("agenda-days")).to_contain_text("5 dage før mødet")
    check(page, "meeting calendar after changes")

    page.get_by_role("link", name="Mødeplan for godkendelsen").click()
    expect(page.locator('tr[data-party="laeso"][data-body="byraad"]')).to_contain_text("28.11.2022")
    page.get_by_role("link", name="Log").first.click()
    expect(page.locator('tr[data-kind="calendar_changed"]')).to_have_count(3)
