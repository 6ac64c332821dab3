"""In a real browser (Debian's chromium): the dialogue forum's invitee opens the report from
the mail the engine sent on the planned day (no login; axe-core clean), and the secretariat
reads the agreement's path on the process page — the version KKR recommended and the version
each council approved (axe-core clean)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import APPROVAL, KEY, SECRET, docx_bytes, pdf_bytes
from tests.browser.test_dashboard import PROCESS, accessible, login
from tests.integration.dashboard_support import add_users
from tests.report_answers import submit_varied
from workflow.calendar import TZ
from workflow.service import Service

pytestmark = pytest.mark.browser
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def _run_to(site: Site, service: Service, until: datetime) -> None:
    while (due := service.next_due()) is not None and due <= until:
        service.tick(due)
    site.clock.set(until)


def test_the_forum_reads_the_report_and_the_secretariat_the_agreements_path(
    page: Page, site: Site
) -> None:
    service = Service(site.db, link_secret=SECRET)
    add_users(site.db, site.clock())
    submit_varied(site.db)
    _run_to(site, service, datetime(2022, 6, 8, 9, 0, tzinfo=TZ))
    mails = [m for m in site.deliver() if "/forum_report/" in str(m["X-Aftaleflow-Key"])]
    assert len(mails) == 12
    (aalborg,) = [m for m in mails if "/aalborg/" in str(m["X-Aftaleflow-Key"])]
    body = aalborg.get_body(("plain",))
    assert body is not None
    found = re.search(r"http://\S+/rapport/[A-Za-z0-9_-]{43}", str(body.get_content()))
    assert found, body
    page.goto(found.group(0))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spørgsmål til de politiske")
    expect(page.get_by_text("12 af 12 parter har svaret.")).to_be_visible()
    expect(page.get_by_text("Sendt til Aalborg Kommune forud for")).to_be_visible()
    expect(page.get_by_role("link", name="Log ud")).to_have_count(0)
    accessible(page, "the forum's report page")

    # The agreement: two versions, KKR recommends version 1, the councils approve it.
    held = datetime(2022, 6, 16, 10, 0, tzinfo=TZ)
    _run_to(site, service, held)
    service.record_outcome(KEY, "dialogforum", outcome="held", at=held, actor="t")
    at = datetime(2022, 11, 2, 10, 0, tzinfo=TZ)
    _run_to(site, service, at)
    for content, name, media_type in (
        (pdf_bytes("Udkast 1"), "udkast-1.pdf", "application/pdf"),
        (docx_bytes(), "udkast-2.docx", DOCX),
    ):
        service.add_document(
            KEY, filename=name, media_type=media_type, content=content, at=at, actor="t"
        )
    service.record_outcome(
        KEY, "kkr-anbefaler", outcome="approved", document_version=1, at=at, actor="t"
    )
    service.put_up_for_approval(KEY, None, at=at, actor="t", reason="KKR's version")
    _run_to(site, service, datetime(2022, 11, 8, 10, 0, tzinfo=TZ))
    service.record_approval(
        KEY, APPROVAL, "laeso", "socialudvalg", decision="approved", at=site.clock(), actor="t"
    )
    login(page, site)
    page.goto(f"{site.url}{PROCESS}")
    path = page.get_by_test_id("agreement-path")
    expect(path.get_by_test_id("recommended-version")).to_contain_text("Anbefalede version 1")
    row = path.locator('tr[data-party="laeso"][data-body="socialudvalg"]')
    expect(row).to_contain_text("version 1")
    expect(row).to_contain_text("Godkendt")
    expect(path.locator('tr[data-party="laeso"][data-body="byraad"]')).to_contain_text("–")
    accessible(page, "the process page with the agreement's path")
