"""KKR's decision with its focus areas in a real browser: before it, the questionnaire and the
workshops say "afventer KKR's beslutning"; the outcome form offers the focus areas as
checkboxes; recorded, the process page names them and the questionnaire's dates move. Every
page passes axe-core and fits a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import KEY
from tests.browser.test_accessibility import check
from tests.integration.dashboard_support import ADMIN, ADMIN_PASSWORD, add_users

pytestmark = pytest.mark.browser

PROCESS = f"/sekretariat/proces/{KEY}"


def test_kkrs_late_decision_with_three_focus_areas(page: Page, kkr_site: Site) -> None:
    page.set_default_timeout(10_000)
    add_users(kkr_site.db, kkr_site.clock())
    page.goto(f"{kkr_site.url}/sekretariat/")
    page.get_by_label("Brugernavn").fill(ADMIN)
    page.get_by_label("Adgangskode").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.goto(f"{kkr_site.url}{PROCESS}")
    waiting = page.locator("[data-testid='waiting-fagudvalg-spoergsmaal']")
    expect(waiting).to_have_text("afventer KKR's beslutning")
    expect(page.locator("[data-testid='waiting-workshops']")).to_have_text(
        "afventer KKR's beslutning"
    )
    expect(page.locator("[data-testid='planned-fagudvalg-spoergsmaal']")).to_be_visible()
    check(page, "process waiting for KKR")

    page.goto(f"{kkr_site.url}{PROCESS}/fase/kkr-igangsaetter/resultat")
    areas = page.get_by_role("group", name="Fokusområder")
    expect(areas.get_by_role("checkbox")).to_have_count(5)
    check(page, "KKR's outcome form")
    page.get_by_label("Godkendt").check()
    for area in ("Sammen om en stærk socialpsykiatri", "Velfærdsteknologi", "Rehabilitering"):
        areas.get_by_label(area).check()
    page.get_by_label("Begrundelse").fill("KKR's referat er modtaget")
    page.get_by_role("button", name=re.compile("Registrér")).click()

    expect(page.locator("[data-testid='decided-kkr-igangsaetter']")).to_have_text(
        "Fokusområder: Sammen om en stærk socialpsykiatri, Velfærdsteknologi, Rehabilitering"
    )
    expect(waiting).to_have_count(0)
    row = page.locator("tr#stage-fagudvalg-spoergsmaal")
    expect(row).to_contain_text("14.06.2022")  # eight weeks after 19 April, not 20 May
    check(page, "process after KKR's decision")
