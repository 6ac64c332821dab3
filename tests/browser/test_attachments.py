"""The minutes a council attached through its approval link, opened in a real browser
(Debian's chromium) from the secretariat's party page: the link downloads the very file (it
is never shown in the browser), the web address of the minutes is a plain link, and the
party page passes axe-core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import APPROVAL, KEY, pdf_bytes, token
from tests.browser.test_dashboard import accessible, login
from tests.integration.dashboard_support import add_users

pytestmark = pytest.mark.browser

MINUTES = pdf_bytes("Protokol fra Hjoerring socialudvalg 8. november 2022")
MINUTES_URL = "https://hjorring.example/dagsordener/socialudvalg/2022-11-08"


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def test_the_minutes_link_on_the_party_page_downloads_the_attached_minutes(
    page: Page, approval_site: Site, tmp_path: Path
) -> None:
    site = approval_site
    minutes = tmp_path / "Protokol socialudvalg 8-11.pdf"
    minutes.write_bytes(MINUTES)
    page.goto(
        f"{site.url}/godkend/{token(site.db, 'hjorring', stage=APPROVAL, step='socialudvalg')}"
    )
    page.get_by_label("Mødedato").fill("2022-11-08")
    page.get_by_label("Punkt på dagsordenen").fill("5")
    page.get_by_label("Godkendt").check()
    page.get_by_label("Beslutningstekst").fill("Godkendt")
    page.get_by_label("Fil med referatet").set_input_files(minutes)
    page.get_by_label("Webadresse til referatet").fill(MINUTES_URL)
    page.get_by_role("button", name="Registrér beslutningen").click()
    expect(page.get_by_role("heading", name="Beslutningen er registreret")).to_be_visible()

    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{KEY}/part/hjorring")
    expect(page.get_by_role("heading", name="Hjørring Kommune", level=1)).to_be_visible()
    accessible(page, "party page with minutes")
    address = page.get_by_role("link", name=MINUTES_URL)
    expect(address).to_have_attribute("href", MINUTES_URL)
    expect(address).to_have_attribute("rel", "noopener noreferrer")

    with page.expect_download() as info:
        page.get_by_role("link", name="Protokol socialudvalg 8-11.pdf").click()
    download = info.value
    assert download.suggested_filename == "Protokol socialudvalg 8-11.pdf"
    assert re.search(r"/sekretariat/proces/.+/part/hjorring/bilag/[0-9a-f]{32}\.pdf$", download.url)
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == MINUTES
    expect(page).to_have_url(re.compile(r"/part/hjorring$"))  # the page stays; nothing inline
