"""The secretariat's calendar in a real browser: the month view from the navigation, a month
forward, a feed address made and copied; axe-core clean on a phone and a desktop."""

from __future__ import annotations

import re

import icalendar
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import KEY
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.integration.dashboard_support import add_users

pytestmark = pytest.mark.browser


def test_the_month_view_and_a_feed_address(page: Page, site: Site) -> None:
    page.set_default_timeout(10_000)
    add_users(site.db, site.clock())
    login(page, site)
    page.get_by_role("link", name="Kalender").click()
    expect(page.get_by_role("heading", name="Kalender: april 2022")).to_be_visible()
    check(page, "calendar")
    page.get_by_role("link", name=re.compile("Næste måned")).click()
    expect(page.get_by_role("heading", name="Kalender: maj 2022")).to_be_visible()
    expect(page.locator('td[data-day="2022-05-20"]')).to_contain_text(
        "Frist: Spørgsmål til de politiske udvalg"
    )
    page.get_by_role("link", name=re.compile("Næste måned")).click()
    expect(page.locator('td[data-day="2022-06-15"]')).to_contain_text(
        "kl. 14.00 Socialpolitisk Dialogforum"
    )
    page.get_by_role("button", name="Lav en ny kalenderadresse").click()
    address = page.get_by_label(re.compile("Din nye kalenderadresse")).input_value()
    check(page, "calendar with a new address")
    feed = page.request.get(address.replace(re.match(r"https?://[^/]+", address)[0], site.url))
    assert feed.status == 200
    summaries = [
        str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")
    ]
    assert "Socialpolitisk Dialogforum" in summaries


def test_the_meeting_plan_marks_the_party_at_risk(page: Page, site: Site) -> None:
    page.set_default_timeout(10_000)
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{KEY}")
    expect(page.get_by_test_id("plan-risk")).to_contain_text("Læsø Kommune")
    page.get_by_role("link", name="Mødeplan for godkendelsen").first.click()
    expect(page.get_by_role("heading", name="Mødeplan for godkendelsen")).to_be_visible()
    expect(page.locator("tr.plan--risk")).to_have_count(1)
    expect(page.locator('tr[data-party="laeso"][data-body="byraad"]')).to_contain_text("14.12.2022")
    check(page, "meeting plan")
