"""An answer by mail in a real browser (Debian's chromium): Læsø's reply with our Word form
filled in, taken in by the engine; the party page shows "Svar modtaget pr. mail", the mail, its
file (downloaded) and what the form gave; an admin confirms it with "Godkend som svar" and the
answer is stored. axe-core clean on each page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from notifications.classify import read
from notifications.inbound import Where, record
from tests import mail_samples as samples
from tests.browser.conftest import Site
from tests.browser.support import KEY, SECRET
from tests.browser.test_accessibility import violations
from tests.browser.test_dashboard import login
from tests.integration.dashboard_support import add_users
from tests.integration.reply_support import filled_form
from workflow.loader import Bundle
from workflow.mail_replies import take_in
from workflow.service import Service
from workflow.storage.models import AnswerRow

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def accessible(page: Page, name: str) -> None:
    found = violations(page)
    assert found == [], f"{name}: {found}"


def test_the_party_page_shows_the_mail_and_the_secretariat_confirms_it(
    page: Page, site: Site, socialaftale: Bundle
) -> None:
    add_users(site.db, site.clock())
    invitations = site.deliver()
    laeso = next(m for m in invitations if "laeso" in str(m["To"]))
    raw = samples.reply_with_docx(str(laeso["Message-ID"]), docx=filled_form(socialaftale))
    with site.db.transaction() as s:
        record(s, read(raw, own_domain=site.settings.mail_domain), raw,
               where=Where("INBOX", 7, 1), at=site.clock(), upload_dir=site.uploads,
               worker="test")  # fmt: skip
    (taken,) = take_in(Service(site.db, link_secret=SECRET), site.uploads, site.clock())
    assert taken.outcome == "received"

    login(page, site)
    page.goto(f"{site.url}/sekretariat/proces/{KEY}")
    expect(page.locator("td[data-stage] .badge--answered_by_mail")).to_have_text(
        "Svar modtaget pr. mail"
    )
    page.goto(f"{site.url}/sekretariat/proces/{KEY}/part/laeso")
    task = page.locator("section.task").first
    expect(task.locator(".badge").first).to_have_text("Svar modtaget pr. mail")
    mail = task.locator(f"#received-mail-{taken.inbound_id}")
    expect(
        mail.get_by_role("link", name="SV: Spørgeskema til fagudvalg", exact=True)
    ).to_be_visible()
    expect(mail.get_by_test_id("form-read")).to_contain_text("5 svar")
    expect(mail.locator(".form-notes li")).to_have_count(2)
    expect(page.get_by_text("Kladde", exact=False).first).to_be_visible()  # the form's draft
    accessible(page, "party page with a mail")
    with page.expect_download() as info:
        mail.get_by_role("link", name="Svar fra Læsø.docx").click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"

    mail.get_by_role("link", name="Godkend som svar", exact=False).click()
    expect(page.get_by_role("heading", name="Godkend som svar")).to_be_visible()
    accessible(page, "confirm form")
    page.get_by_label("Begrundelse").fill("Udvalgets svar, gennemgået")
    page.get_by_role("button", name="Godkend som svar").click()
    expect(page.get_by_role("status")).to_contain_text("Mailen er godkendt som Læsø Kommunes svar")
    expect(page.locator("section.task").first.locator(".badge").first).to_have_text("Indsendt")
    expect(page.locator(".answer-version h3").first).to_contain_text("pr. mail")
    accessible(page, "party page after the confirmation")

    with site.db.sessions() as s:
        answer = s.scalars(select(AnswerRow).where(AnswerRow.party == "laeso")).one()
    assert (answer.state, answer.by_mail) == ("submitted", True)
    assert answer.data["fokusomraader-prioritet"] == "den-gode-alderdom"
