"""axe-core (shipped by axe-playwright-python, so it works offline) over every respondent
page: no serious or critical violation, and no WCAG 2.1 A/AA violation at all. Plus the
pages fit a phone's width without sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import AFTER_CLOSE, APPROVAL, token

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


def violations(page: Page) -> list[dict[str, Any]]:
    """Every violation that is serious or critical, or breaks a WCAG 2.1 A/AA rule."""
    response = AXE.run(page).response
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in response["violations"]
        if v["impact"] in ("serious", "critical") or set(v["tags"]) & set(WCAG)
    ]


def check(page: Page, name: str) -> None:
    found = violations(page)
    assert found == [], f"{name}: {found}"
    page.set_viewport_size({"width": 360, "height": 740})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: {overflow}px wider than a phone"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_questionnaire_pages_have_no_accessibility_violations(page: Page, site: Site) -> None:
    url = f"{site.url}/svar/{token(site.db, 'aalborg')}"
    page.goto(url)
    check(page, "questionnaire")

    page.get_by_role("button", name="Indsend svar").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check(page, "error summary")

    page.goto(url + "?lang=en")
    check(page, "questionnaire in English")
    page.goto(url + "?lang=da")

    for group, option in [
        ("I hvilken grad", "3"),
        ("Hvilke af retningspilene", "Vi skal stå sammen, også når det bliver svært"),
        ("Hvilket fokusområde", "Den gode alderdom"),
        ("Skal socialaftalen udvides", "Ved ikke"),
    ]:
        page.get_by_role("group", name=group).get_by_label(option).check()
    page.get_by_role("button", name="Indsend svar").click()
    expect(page.get_by_role("heading", name="Svaret er indsendt")).to_be_visible()
    check(page, "confirmation")

    site.clock.set(AFTER_CLOSE)
    page.goto(url)
    expect(page.get_by_role("heading", name="Spørgeskemaet er lukket")).to_be_visible()
    check(page, "closed")

    page.goto(f"{site.url}/svar/forged")
    expect(page.get_by_role("heading", name="Siden findes ikke")).to_be_visible()
    check(page, "not found")


def test_approval_pages_have_no_accessibility_violations(page: Page, approval_site: Site) -> None:
    site = approval_site
    url = f"{site.url}/godkend/{token(site.db, 'hjorring', stage=APPROVAL, step='socialudvalg')}"
    page.goto(url)
    check(page, "approval")

    page.get_by_role("button", name="Registrér beslutningen").click()
    expect(page.get_by_role("alert")).to_contain_text("Der er et problem")
    check(page, "approval error summary")

    page.get_by_label("Mødedato").fill("2022-11-08")
    page.get_by_label("Punkt på dagsordenen").fill("5")
    page.get_by_label("Godkendt").check()
    page.get_by_label("Beslutningstekst").fill("Godkendt")
    page.get_by_role("button", name="Registrér beslutningen").click()
    expect(page.get_by_role("heading", name="Beslutningen er registreret")).to_be_visible()
    check(page, "decision recorded")


def test_the_checker_itself_finds_a_real_violation(page: Page) -> None:
    """A control: the same check on a page with known faults must fail."""
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    found = {v["id"] for v in violations(page)}
    assert {"image-alt", "label", "html-has-lang"} <= found
