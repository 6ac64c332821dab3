"""The Indbakke in a real browser (Debian's chromium): received mail listed with its kind,
a stranger's HTML shown sanitised (its script never runs), an attachment downloaded, an
unmatched mail assigned by an admin, and a viewer who reads but cannot act. axe-core clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from notifications.classify import read
from notifications.inbound import Where, record
from tests import mail_samples as samples
from tests.browser.conftest import Site
from tests.browser.test_accessibility import violations
from tests.browser.test_dashboard import login
from tests.integration.dashboard_support import VIEWER, VIEWER_PASSWORD, add_users

pytestmark = pytest.mark.browser

HOSTILE = (
    b"From: Fremmed <fremmed@stranger.example>\r\nSubject: Vigtigt om aftalen\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Hej <b>sekretariat</b></p><script>window.__xss = 1</script>"
    b'<img src=x onerror="window.__xss = 2"><a href="javascript:window.__xss=3">klik</a>\r\n'
)


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def accessible(page: Page, name: str) -> None:
    found = violations(page)
    assert found == [], f"{name}: {found}"


def store(site: Site, raw: bytes, uid: int) -> int:
    with site.db.transaction() as s:
        row = record(s, read(raw, own_domain=site.settings.mail_domain), raw,
                     where=Where("INBOX", 7, uid), at=site.clock(), upload_dir=site.uploads,
                     worker="test")  # fmt: skip
        return row.id


def test_the_indbakke_in_the_browser(page: Page, site: Site, tmp_path: Path) -> None:
    add_users(site.db, site.clock())
    invitations = site.deliver()
    laeso = next(m for m in invitations if "laeso" in str(m["To"]))
    reply = store(site, samples.reply_with_docx(str(laeso["Message-ID"])), 1)
    hostile = store(site, HOSTILE, 2)
    store(site, samples.out_of_office_subject_only(), 3)  # unmatched: stays new

    login(page, site)
    page.get_by_role("link", name="Indbakke", exact=True).click()
    expect(page.get_by_role("heading", name="Indbakke", exact=True)).to_be_visible()
    rows = page.locator("table.inbox tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator(f"#inbound-{reply} td").nth(3)).to_have_text("Svar")
    expect(page.locator(f"#inbound-{hostile}")).to_have_attribute("data-status", "new")
    accessible(page, "inbox")

    page.get_by_role("link", name="Vigtigt om aftalen").click()
    expect(page.locator(".mail-html b")).to_have_text("sekretariat")
    assert page.evaluate("window.__xss") is None, "the mail's script ran"
    expect(page.locator(".mail-html script, .mail-html img")).to_have_count(0)
    page.locator(".mail-html").get_by_text("klik").click()
    assert page.evaluate("window.__xss") is None
    accessible(page, "a received mail")

    page.get_by_role("link", name="Knyt til en part").click()
    accessible(page, "assign form")
    page.get_by_role("group", name="Fase").get_by_label("Spørgsmål til de politiske udvalg").check()
    page.get_by_role("group", name="Part").get_by_label("Læsø Kommune").check()
    page.get_by_label("Begrundelse").fill("Afsenderen er Læsøs nye sekretær")
    page.get_by_role("button", name="Knyt til en part").click()
    expect(page.get_by_role("status")).to_contain_text(f"Mail #{hostile} er knyttet til parten.")
    expect(page.get_by_text("knyttet af sekretariatet")).to_be_visible()

    page.goto(f"{site.url}/sekretariat/indbakke/{reply}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Svar fra Læsø.docx").click()
    download = info.value
    assert download.suggested_filename == "Svar fra Læsø.docx"
    assert Path(download.path()).read_bytes()[:2] == b"PK"
    accessible(page, "a reply with attachments")

    page.get_by_role("button", name="Log ud").click()
    login(page, site, VIEWER, VIEWER_PASSWORD)
    page.goto(f"{site.url}/sekretariat/indbakke?status=new")
    expect(page.locator("table.inbox tbody tr")).to_have_count(1)  # the out-of-office
    page.goto(f"{site.url}/sekretariat/indbakke/{hostile}")
    expect(page.get_by_role("link", name="Knyt til en part")).to_have_count(0)
