"""A committee secretary answers by personal link in a real browser: the link comes from the
invitation mail caught by a real SMTP server; draft, reload, submit, receipt mail, edit,
and a late answer; then the same questionnaire with the keyboard alone."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.support import AFTER_DEADLINE, BEFORE_DEADLINE, pdf_bytes
from workflow.loader import Bundle
from workflow.storage.models import AnswerRow

pytestmark = [pytest.mark.browser, pytest.mark.smtp]

PAYLOAD = "<script>alert('svar')</script> Udvalget ønsker fokus på de unge."


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def mail_to(messages: list[EmailMessage], address: str, subject: str) -> EmailMessage:
    found = [m for m in messages if address in str(m["To"]) and subject in str(m["Subject"])]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in messages]
    return found[0]


def personal_link(message: EmailMessage, site: Site) -> str:
    found = re.search(re.escape(site.url) + r"/svar/[A-Za-z0-9_-]{43}", text_of(message))
    assert found, text_of(message)
    return found.group(0)


def secretary(bundle: Bundle, party: str) -> str:
    return bundle.parties.get(party).addresses("committee_secretary")[0].email


def test_answer_by_personal_link_from_the_mail(
    page: Page, site: Site, socialaftale: Bundle, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    invitations = site.deliver()
    assert len(invitations) == 12
    address = secretary(socialaftale, "aalborg")
    link = personal_link(mail_to(invitations, address, "svar senest"), site)

    page.goto(link)
    expect(page).to_have_title(re.compile("Spørgsmål til de politiske udvalg"))
    assert page.locator("html").get_attribute("lang") == "da"
    expect(page.get_by_text("Aalborg Kommune", exact=True)).to_be_visible()

    # every question type, a PDF generated here, then "Gem kladde"
    page.get_by_label("4", exact=True).first.check()
    page.get_by_label("Vi skal stå sammen, også når det bliver svært").check()
    page.get_by_label("Borgeren skal sidde for bordenden og blive hørt").check()
    page.get_by_label("Sammen om en stærk socialpsykiatri").first.check()
    page.get_by_label("Velfærdsteknologi").check()
    page.get_by_role("group", name=re.compile("deler specialviden")).get_by_label(
        re.compile("^5")
    ).check()
    page.get_by_label(re.compile("Har udvalget andre ønsker")).fill(PAYLOAD)
    minutes = tmp_path / "referat-socialudvalget.pdf"
    minutes.write_bytes(pdf_bytes())
    page.get_by_label("Udvalgets referat/protokol").set_input_files(minutes)
    page.get_by_role("button", name="Gem kladde").click()
    expect(page.get_by_role("status")).to_contain_text("Kladden er gemt")

    # a reload (and a new visit) resumes the draft, file included
    page.reload()
    page.goto(link)
    expect(page.get_by_text("I fortsætter på kladden")).to_be_visible()
    expect(page.get_by_label("Vi skal stå sammen, også når det bliver svært")).to_be_checked()
    expect(page.get_by_label(re.compile("Har udvalget andre ønsker"))).to_have_value(PAYLOAD)
    expect(page.get_by_text("Vedhæftet nu: referat-socialudvalget.pdf")).to_be_visible()

    # submitting with a required question missing: the summary links to it
    page.get_by_role("button", name="Indsend svar").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Der er et problem")
    expect(summary.get_by_role("link")).to_have_count(1)
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "q-udvidelse-forebyggelse"
    expect(page.get_by_text("Vedhæftet nu: referat-socialudvalget.pdf")).to_be_visible()

    page.get_by_role("group", name=re.compile("Skal socialaftalen udvides")).get_by_label(
        "Ja", exact=True
    ).check()
    page.get_by_role("button", name="Indsend svar").click()
    expect(page.get_by_role("heading", name="Svaret er indsendt")).to_be_visible()
    expect(
        page.get_by_text("Version 1, indsendt tirsdag den 5. april 2022 kl. 10.00")
    ).to_be_visible()
    expect(page.get_by_text(PAYLOAD)).to_be_visible()  # shown as text, never run

    (receipt,) = site.deliver()
    assert address in str(receipt["To"])
    assert "Kvittering" in str(receipt["Subject"])
    body = text_of(receipt)
    assert "Sammen om en stærk socialpsykiatri" in body
    assert "referat-socialudvalget.pdf" in body
    assert link in body  # the receipt carries the link to edit the answer
    html = receipt.get_body(("html",))
    assert html is not None and "<script>alert" not in str(html.get_content())

    # edit and re-submit before the deadline: version 2
    site.clock.set(BEFORE_DEADLINE)
    page.get_by_role("link", name="Ret svaret").click()
    expect(page.get_by_text("I indsendte version 1")).to_be_visible()
    page.get_by_label("Den gode alderdom").first.check()
    page.get_by_role("button", name="Indsend rettet svar").click()
    expect(
        page.get_by_text("Version 2, indsendt torsdag den 19. maj 2022 kl. 14.00")
    ).to_be_visible()

    # after the deadline: accepted and marked late
    site.clock.set(AFTER_DEADLINE)
    page.goto(link)
    expect(
        page.get_by_text(re.compile("Fristen fredag den 20. maj 2022 er overskredet"))
    ).to_be_visible()
    page.get_by_role("button", name="Indsend rettet svar").click()
    expect(page.get_by_text("Svaret er modtaget efter fristen")).to_be_visible()
    expect(
        page.get_by_text("Version 3, indsendt tirsdag den 24. maj 2022 kl. 10.00")
    ).to_be_visible()
    late_receipts = [m for m in site.deliver() if "Kvittering" in str(m["Subject"])]
    assert len(late_receipts) == 2  # version 2 and the late version 3
    assert "efter fristen" in text_of(late_receipts[-1])

    with site.db.sessions() as s:
        versions = s.query(AnswerRow).filter_by(party="aalborg").order_by(AnswerRow.version).all()
    assert [(v.version, v.state, v.late) for v in versions] == [
        (1, "submitted", False),
        (2, "submitted", False),
        (3, "submitted", True),
    ]
    assert dialogs == []


def tab_to(page: Page, element_id: str, *, limit: int = 150) -> None:
    """Press Tab until the element with ``element_id`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_the_questionnaire_with_the_keyboard_alone(
    page: Page, site: Site, socialaftale: Bundle, tmp_path: Path
) -> None:
    link = personal_link(
        mail_to(site.deliver(), secretary(socialaftale, "rebild"), "svar senest"), site
    )
    page.goto(link)
    # keyboard events and the file chooser go to the focused page: with a shared browser an
    # earlier test's page may still hold the focus
    page.bring_to_front()

    # scale: Tab into the group, arrows choose
    tab_to(page, "q-vision-egenmestring")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # checkboxes: Space
    tab_to(page, "q-vision-retningspile-3")
    page.keyboard.press("Space")
    # single choice radio: Space on the first, arrow to the second
    tab_to(page, "q-fokusomraader-prioritet")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    # text: type
    tab_to(page, "q-oevrige-oensker")
    page.keyboard.type("Skrevet med tastaturet.")
    # file: the input is reached with Tab (Space then opens the browser's own file dialog,
    # which headless chromium does not always report back under load: the file is set on the
    # focused input instead)
    tab_to(page, "q-referat")
    minutes = tmp_path / "referat.pdf"
    minutes.write_bytes(pdf_bytes())
    page.locator("#q-referat").set_input_files(minutes)
    assert page.evaluate("document.activeElement.id") == "q-referat"

    # submit with one required question unanswered: Enter on the button
    tab_to(page, "submit-answers")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Der er et problem")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the summary's link moves the focus to the question
    assert page.evaluate("document.activeElement.id") == "q-udvidelse-forebyggelse"
    page.keyboard.press("Space")
    expect(page.get_by_label("Sammen om en stærk socialpsykiatri").first).to_be_checked()
    expect(page.get_by_label(re.compile("Har udvalget andre ønsker"))).to_have_value(
        "Skrevet med tastaturet."
    )

    tab_to(page, "submit-answers")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    background = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
    assert outline != "none" or background == "rgb(255, 221, 0)"  # a visible focus
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Svaret er indsendt")).to_be_visible()
    expect(page.get_by_text("referat.pdf")).to_be_visible()
    expect(page.get_by_text("3 (1 = Slet ikke, 5 = I meget høj grad)")).to_be_visible()
