"""The compiled report in a real browser (Debian's chromium): the figures of twelve
parties' varied answers with SVG charts (no script runs; the CSP forbids it), the
secretariat's summary written by an admin through the page's form, a second version with the
first listed as older, and a viewer who reads it but gets no form. axe-core passes on every
state of the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import AFTER_DEADLINE, QUESTIONNAIRE
from tests.browser.test_dashboard import PROCESS, accessible, login
from tests.integration.dashboard_support import VIEWER, VIEWER_PASSWORD, add_users
from tests.report_answers import submit_varied

pytestmark = pytest.mark.browser

REPORT = f"{PROCESS}/rapport/{QUESTIONNAIRE}"


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def test_write_the_summary_on_the_report_page_and_read_the_charts(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    submit_varied(site.db)
    site.clock.set(AFTER_DEADLINE)
    login(page, site)
    page.goto(f"{site.url}{REPORT}")
    expect(page.get_by_text("12 af 12 parter har svaret.")).to_be_visible()
    chart = page.get_by_role(
        "img", name=re.compile("^Hvilket fokusområde bør efter udvalgets opfattelse")
    )
    expect(chart).to_be_visible()
    expect(chart.locator("text.chart__value").first).to_have_text("5 (41,7 %)")
    accessible(page, "report with charts")

    vision = page.locator("[data-summary='vision']")
    expect(vision).to_contain_text("Sekretariatet har endnu ikke skrevet en opsamling.")
    vision.get_by_text("Skriv sekretariatets opsamling").click()
    field = vision.get_by_label("Opsamling: Vision – egenmestring")
    expect(field).to_be_visible()
    accessible(page, "summary form open")
    field.fill("Udvalgene bakker op om egenmestring.\n\n- tidlig indsats\n- mod til at fejle")
    vision.get_by_role("button", name="Gem opsamlingen").click()
    expect(page.get_by_text("Opsamlingen er gemt som version 1.")).to_be_visible()
    vision = page.locator("[data-summary='vision']")
    expect(vision.locator(".summary__text")).to_contain_text("Udvalgene bakker op om egenmestring.")
    expect(vision.locator(".summary__text li")).to_have_text(["tidlig indsats", "mod til at fejle"])
    expect(vision).to_contain_text("Version 1, gemt af anne")

    vision.get_by_text("Rediger sekretariatets opsamling").click()
    vision.get_by_label("Opsamling: Vision – egenmestring").fill("Bred opbakning.")
    vision.get_by_role("button", name="Gem opsamlingen").click()
    expect(page.get_by_text("Opsamlingen er gemt som version 2.")).to_be_visible()
    vision = page.locator("[data-summary='vision']")
    expect(vision.locator(".summary__text")).to_have_text("Bred opbakning.")
    vision.get_by_text("Tidligere versioner (1)").click()
    expect(vision.locator("li[data-version='1']")).to_contain_text("Udvalgene bakker op")
    accessible(page, "summary saved, older version open")
    assert page.evaluate("window.__xss") is None, "the script answer did not run"

    page.get_by_role("button", name="Log ud").click()
    login(page, site, VIEWER, VIEWER_PASSWORD)
    page.goto(f"{site.url}{REPORT}")
    vision = page.locator("[data-summary='vision']")
    expect(vision.locator(".summary__text")).to_have_text("Bred opbakning.")
    expect(page.locator("textarea")).to_have_count(0)
    expect(page.get_by_text("Rediger sekretariatets opsamling")).to_have_count(0)
    accessible(page, "report as viewer")
