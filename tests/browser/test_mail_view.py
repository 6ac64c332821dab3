"""Read and write mail in a real browser (Debian's chromium): the secretariat writes a mail to
one party with a file, it goes out through the outbox, the party's thread lists it between
the invitation and the party's reply, and the mail's page shows it as it was sent (headers,
text, the file to download). HTML on a mail page is never executed: neither a script nor an
``onerror`` handler runs, nothing is fetched for it. Every page is axe-core clean and fits a
phone's width."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy import select, update

from tests import mail_samples as samples
from tests.browser.conftest import Site
from tests.browser.support import KEY, pdf_bytes
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.browser.test_inbox_page import store
from tests.integration.dashboard_support import add_users
from workflow.storage.models import OutboxRow

pytestmark = pytest.mark.browser

PDF = pdf_bytes("Dagsorden til mødet i juni")
HOSTILE_HTML = (
    b"From: Sekretariatet <sekretariat@aftaleflow.example>\r\nSubject: Et farligt brev\r\n"
    b"Message-ID: <farlig@aftaleflow.example>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Hej <b>L\xc3\xa6s\xc3\xb8</b></p><script>window.__xss = 1; fetch('/pwned-script')</script>"
    b'<img src="/pwned-img" onerror="window.__xss = 2; fetch(\'/pwned-onerror\')">\r\n'
)


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def test_write_a_mail_and_read_it_as_it_was_sent(page: Page, site: Site, tmp_path: Path) -> None:
    add_users(site.db, site.clock())
    site.deliver()
    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{KEY}")
    page.get_by_role("link", name="Skriv en mail").click()
    expect(page.get_by_role("heading", name="Skriv en mail")).to_be_visible()
    check(page, "compose form")

    page.get_by_role("button", name="Læg mailen i udbakken").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    check(page, "compose form with errors")

    parties = page.get_by_role("group", name="Parter")
    for box in parties.get_by_role("checkbox").all():
        box.uncheck()
    parties.get_by_label("Læsø Kommune").check()
    page.get_by_role("group", name="Roller").get_by_label("Direktør").check()
    page.get_by_label("Emne").fill("Dagsorden til juni-mødet")
    page.get_by_label("Tekst").fill("Kære Læsø\n\nDagsordenen er vedhæftet. <script>x()</script>")
    page.get_by_label("Bilag").set_input_files(
        files=[{"name": "Dagsorden juni.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("Send nu, også uden for kontortid").check()
    page.get_by_role("button", name="Læg mailen i udbakken").click()
    expect(page.get_by_role("status")).to_contain_text("Mailen er lagt i udbakken til 1 part(er).")

    [sent] = [m for m in site.deliver() if "/message/" in str(m["X-Aftaleflow-Key"])]
    store(site, samples.reply_with_docx(str(sent["Message-ID"])), 1)

    page.goto(f"{site.url}/sekretariat/proces/{KEY}/part/laeso")
    page.get_by_role("link", name="Alle mails til og fra parten i én tråd").click()
    mails = page.locator(".thread__mail")
    expect(mails).to_have_count(3)
    expect(mails.nth(0)).to_have_attribute("data-direction", "out")
    expect(mails.nth(1)).to_contain_text("Dagsorden til juni-mødet")
    expect(mails.nth(2)).to_have_attribute("data-direction", "in")
    check(page, "the party's thread")

    page.get_by_role("link", name="Dagsorden til juni-mødet").click()
    expect(page.get_by_role("heading", name="Dagsorden til juni-mødet")).to_be_visible()
    headers = page.locator(".mail-headers")
    expect(headers).to_contain_text(str(sent["Message-ID"]))
    expect(headers).to_contain_text(str(sent["In-Reply-To"]))
    expect(page.locator(".mail-text")).to_contain_text(
        "Dagsordenen er vedhæftet. <script>x()</script>"
    )
    expect(page.locator(".mail-html")).to_contain_text("<script>x()</script>")
    expect(page.locator(".mail-html")).not_to_contain_text("Dagsorden til juni-mødet")  # <title>
    with page.expect_download() as info:
        page.get_by_role("link", name="Dagsorden juni.pdf").click()
    assert Path(info.value.path()).read_bytes() == PDF
    check(page, "a sent mail")


def test_html_on_a_mail_page_never_runs(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    site.deliver()
    with site.db.transaction() as s:
        mail_id = s.scalar(select(OutboxRow.id).where(OutboxRow.party == "laeso"))
        s.execute(
            update(OutboxRow).where(OutboxRow.id == mail_id).values(sent_message=HOSTILE_HTML)
        )
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if isinstance(r, Request) else None)
    login(page, site)
    page.goto(f"{site.url}/sekretariat/udbakke/{mail_id}")
    expect(page.locator(".mail-html b")).to_have_text("Læsø")
    assert page.evaluate("window.__xss") is None, "the mail's script or onerror ran"
    expect(page.locator(".mail-html script, .mail-html img")).to_have_count(0)
    assert not [u for u in fetched if "pwned" in u], fetched
    check(page, "a sent mail with hostile HTML")
