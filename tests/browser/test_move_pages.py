"""The move-meeting, cancel-meeting and "flyt frist" pages in a real browser (issue 13,
item 2): reached from the process page, filled in and sent; axe-core clean and no sideways
scrolling at phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import KEY
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.integration.dashboard_support import add_users

pytestmark = pytest.mark.browser


def test_the_secretariat_moves_the_forum_and_the_deadline(page: Page, site: Site) -> None:
    page.set_default_timeout(10_000)
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{KEY}")
    page.get_by_role("link", name="Flyt mødet: Socialpolitisk Dialogforum").click()
    expect(page.get_by_role("heading", name="Flyt mødet")).to_be_visible()
    expect(page.get_by_label("Ny dato")).to_have_value("2022-06-15")
    check(page, "move meeting")
    page.get_by_label("Ny dato").fill("2022-06-22")
    page.get_by_label("Sted").fill("Hjørring Rådhus")
    page.get_by_role("button", name="Flyt mødet").click()
    # the reason is required: the form comes back with the error, everything typed kept
    expect(page.get_by_label("Sted")).to_have_value("Hjørring Rådhus")
    expect(page.get_by_label("Ny dato")).to_have_value("2022-06-22")
    check(page, "move meeting with an error")
    page.get_by_label("Begrundelse").fill("Formanden er forhindret den 15.")
    page.get_by_role("button", name="Flyt mødet").click()
    expect(page.get_by_text("er udsat til onsdag den 22. juni 2022 kl. 14.00")).to_be_visible()

    page.get_by_role("link", name="Aflys mødet: Socialpolitisk Dialogforum").click()
    expect(page.get_by_role("heading", name="Aflys mødet")).to_be_visible()
    expect(page.get_by_text("Hjørring Rådhus")).to_be_visible()
    check(page, "cancel meeting")
    page.get_by_role("link", name="Tilbage").click()

    page.get_by_role(
        "link", name="Flyt fristen for alle: Spørgsmål til de politiske udvalg"
    ).click()
    expect(page.get_by_role("heading", name="Flyt fristen for alle")).to_be_visible()
    check(page, "move deadline")
    page.get_by_label("Ny frist").fill("2022-05-27")
    page.get_by_label("Begrundelse").fill("Udvalgene mødes sent i maj")
    page.get_by_role("button", name="Flyt fristen for alle").click()
    expect(page.get_by_text("12 parter får besked om den nye frist")).to_be_visible()
    check(page, "process page after the moves")
