"""The secretariat's dashboard in a real browser (Debian's chromium), on the app's virtual
clock: log in, read the matrix, act (approval, extension, retry) and see the page change,
download the answers, read the compiled report, the Mermaid diagram under the CSP, and a
viewer who cannot act. Every page passes axe-core (the respondent pages' helper)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Site
from tests.browser.support import BEFORE_DEADLINE, KEY
from tests.browser.test_accessibility import violations
from tests.integration.dashboard_support import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    add_users,
    answer_all,
)
from workflow.calendar import TZ
from workflow.loader import Bundle

pytestmark = pytest.mark.browser

PROCESS = f"/sekretariat/proces/{KEY}"


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(10_000)


def accessible(page: Page, name: str) -> None:
    found = violations(page)
    assert found == [], f"{name}: {found}"


def login(page: Page, site: Site, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{site.url}/sekretariat/")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_text(f"Du er logget ind som {name}.")).to_be_visible()


def matrix_cell(page: Page, party: str, stage: str) -> str:
    return page.locator(f'tr[data-party="{party}"] td[data-stage="{stage}"]').inner_text()


def test_log_in_and_see_the_matrix_after_the_invitation_round(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    page.goto(f"{site.url}{PROCESS}")
    expect(page).to_have_url(re.compile(r"/sekretariat/login\?next="))
    accessible(page, "login")
    page.get_by_label("Brugernavn").fill(ADMIN)
    page.get_by_label("Adgangskode").fill("forkert kodeord")
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("alert")).to_contain_text("Forkert brugernavn eller adgangskode")
    accessible(page, "login error")
    page.get_by_label("Adgangskode").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page).to_have_url(f"{site.url}{PROCESS}")
    expect(page.get_by_role("heading", name="Parter og faser")).to_be_visible()
    rows = page.locator("table.matrix tbody tr")
    expect(rows).to_have_count(12)
    expect(page.locator("table.matrix td[data-stage='fagudvalg-spoergsmaal']")).to_have_text(
        ["Inviteret"] * 12
    )
    expect(page.get_by_role("img", name=re.compile("Tidslinje med 8 faser"))).to_be_visible()
    accessible(page, "process")
    page.get_by_role("link", name="Overblik", exact=True).first.click()
    expect(page.get_by_role("heading", name="Overblik", exact=True)).to_be_visible()
    accessible(page, "overview")
    page.goto(f"{site.url}{PROCESS}/part/aalborg")
    expect(page.get_by_role("heading", name="Aalborg Kommune")).to_be_visible()
    accessible(page, "party")
    page.goto(f"{site.url}{PROCESS}/dokument")
    accessible(page, "document")
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_text("Du er logget ud.")).to_be_visible()
    page.goto(f"{site.url}{PROCESS}")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()


def test_record_an_approval_and_see_the_badge_change(page: Page, approval_site: Site) -> None:
    site = approval_site
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}{PROCESS}")
    stage = "politisk-godkendelse"
    assert matrix_cell(page, "region-nordjylland", stage) == "Anmodet · Regionsråd"
    page.locator("table.matrix").get_by_role("link", name="Region Nordjylland").click()
    page.get_by_role("link", name="Registrér beslutning: Regionsråd").click()
    accessible(page, "approval form")
    page.get_by_role("button", name="Registrér beslutning").click()
    expect(page.get_by_role("alert").first).to_contain_text("Der er et problem")
    accessible(page, "approval form with errors")
    page.get_by_role("group", name="Beslutning").get_by_label("Godkendt").check()
    page.get_by_label("Mødedato").fill("2022-11-08")
    page.get_by_label("Punkt på dagsordenen").fill("7")
    page.get_by_label("Beslutningstekst").fill("Regionsrådet godkender aftalen")
    page.get_by_label("Begrundelse").fill("Protokollen kom pr. mail fra regionen")
    page.get_by_role("button", name="Registrér beslutning").click()
    expect(page.get_by_role("status")).to_contain_text("Region Nordjylland, Regionsråd: Godkendt")
    page.goto(f"{site.url}{PROCESS}")
    assert matrix_cell(page, "region-nordjylland", stage) == "Godkendt · Regionsråd"
    assert matrix_cell(page, "aalborg", stage) == "Anmodet · Socialudvalg"
    page.goto(f"{site.url}/sekretariat/log?kind=approval_approved")
    row = page.locator("tr[data-kind='approval_approved']")
    expect(row.locator(".actor")).to_have_text(f"user:{ADMIN}")
    expect(row.locator(".reason")).to_have_text("Protokollen kom pr. mail fra regionen")
    accessible(page, "audit log")


def test_extend_a_deadline_and_see_the_next_reminder_move(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}{PROCESS}/part/aalborg")
    next_mail = page.locator("[data-testid='next-mail']")
    expect(next_mail).to_have_text("Påmindelse nr. 1 10.05.2022 kl. 09.00")
    page.get_by_role("link", name=re.compile("^Forlæng fristen")).click()
    expect(page.get_by_role("heading", name="Forlæng fristen")).to_be_visible()
    accessible(page, "extend form")
    page.get_by_label("Ny frist").fill("2022-06-01")
    page.get_by_label("Begrundelse").fill("Udvalgsmødet er flyttet til 31. maj")
    page.get_by_role("button", name="Forlæng fristen").click()
    expect(page.get_by_role("status")).to_contain_text("forlænget til onsdag den 1. juni 2022")
    expect(next_mail).to_have_text("Påmindelse nr. 1 20.05.2022 kl. 09.00")  # 7 working days
    expect(page.locator("[data-testid='deadline']")).to_have_text("01.06.2022 (forlænget)")
    page.goto(f"{site.url}{PROCESS}")
    assert "frist forlænget til 01.06.2022" in matrix_cell(page, "aalborg", "fagudvalg-spoergsmaal")
    page.goto(f"{site.url}/sekretariat/log?party=aalborg&kind=deadline_extended")
    expect(page.locator("tr[data-kind='deadline_extended'] .reason")).to_have_text(
        "Udvalgsmødet er flyttet til 31. maj"
    )


def test_retry_a_failed_mail(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    site.smtp.handler.refuse = {"socialudvalg@laeso.example": "550 5.1.1 No such user"}
    site.deliver()
    login(page, site)
    page.goto(f"{site.url}/sekretariat/udbakke?status=failed")
    failed = page.locator("tr[data-status='failed']")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("550 5.1.1 No such user")
    expect(failed).to_contain_text("Læsø Kommune")
    accessible(page, "outbox")
    failed.get_by_role("link", name=re.compile("^Send igen")).click()
    page.get_by_label("Begrundelse").fill("Læsø har rettet adressen")
    page.get_by_role("button", name="Send igen").click()
    expect(page.get_by_role("status")).to_contain_text("er lagt i kø igen")
    expect(page).to_have_url(re.compile(r"/sekretariat/udbakke\?status=failed"))
    expect(page.locator("tr[data-status='failed']")).to_have_count(0)
    site.smtp.handler.refuse = {}
    (message,) = site.deliver()
    assert message["To"] is not None and "laeso.example" in message["To"]
    page.goto(f"{site.url}/sekretariat/udbakke?party=laeso")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Sendt")
    expect(row).to_contain_text("250")


def test_download_the_answers_xlsx_and_read_the_report(
    page: Page, site: Site, socialaftale: Bundle, tmp_path: Path
) -> None:
    add_users(site.db, site.clock())
    answer_all(site.db, socialaftale, BEFORE_DEADLINE)
    site.clock.set(BEFORE_DEADLINE)
    login(page, site)
    page.goto(f"{site.url}{PROCESS}")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("^Alle svar som Excel")).click()
    download = info.value
    assert download.suggested_filename == f"{KEY}-svar.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    wb = load_workbook(saved)
    ws = wb.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Part" and len(rows) == 13
    assert [r[0] for r in rows[1:]][:2] == ["Aalborg Kommune", "Brønderslev Kommune"]
    assert any("ønske fra laeso" in str(cell) for cell in rows[6])
    wb.close()

    page.get_by_role("link", name=re.compile("^Samlet rapport til dialogforum")).click()
    expect(page.get_by_text("12 af 12 parter har svaret.")).to_be_visible()
    question = page.locator("[data-question='oevrige-oensker']")
    for party in socialaftale.participants:
        name = socialaftale.parties.get(party).name
        answer = question.locator(f"li[data-party='{party}']")
        expect(answer).to_contain_text(name)
        expect(answer).to_contain_text(f"ønske fra {party}")
    expect(question.locator("li[data-party='jammerbugt']")).to_contain_text(
        "<script>window.__xss = 1</script>"
    )
    assert page.evaluate("window.__xss") is None, "the script answer did not run"
    accessible(page, "report")
    page.goto(f"{site.url}{PROCESS}/part/jammerbugt")
    expect(page.get_by_text("<script>window.__xss = 1</script>", exact=False)).to_be_visible()
    assert page.evaluate("window.__xss") is None


def test_a_viewer_cannot_act(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    login(page, site, VIEWER, VIEWER_PASSWORD)
    for path in (PROCESS, f"{PROCESS}/part/aalborg", "/sekretariat/udbakke", f"{PROCESS}/dokument"):
        page.goto(f"{site.url}{path}")
        expect(page.locator("a.action-link")).to_have_count(0)
        expect(page.get_by_role("link", name="Annullér processen")).to_have_count(0)
    page.goto(f"{site.url}{PROCESS}")
    token = page.locator("form.inline-form input[name='csrf_token']").get_attribute("value")
    assert token
    url = f"{site.url}{PROCESS}/fase/fagudvalg-spoergsmaal/part/aalborg/fritag"
    response = page.request.post(url, form={"csrf_token": token, "reason": "vil gerne"})
    assert response.status == 403
    page.goto(url)
    expect(page.get_by_role("heading", name="Du har ikke adgang til at gøre dette")).to_be_visible()
    accessible(page, "forbidden")


def test_the_diagram_is_drawn_under_the_csp_and_readable_without_javascript(
    page: Page, site: Site, browser: Browser
) -> None:
    add_users(site.db, site.clock())
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, site)
    page.goto(f"{site.url}/sekretariat/diagram")
    for chart in ("flow", "process", "stage", "questionnaire_task", "approval_step"):
        expect(page.locator(f"#diagram-{chart}")).to_have_attribute("data-rendered", "true")
        expect(page.locator(f"#diagram-{chart} svg")).to_have_count(1)
    expect(page.locator("#diagram-flow svg")).to_contain_text("Spørgsmål til de politiske")
    expect(page.locator("#diagram-approval_step svg")).to_contain_text("Godkendt")
    expect(page.locator("#diagram-approval_step svg")).to_contain_text("godkend")
    # drawn at its natural size: no diagram text smaller than 12px on the screen
    smallest = page.evaluate(
        """() => Math.min(...Array.from(document.querySelectorAll('.diagram svg text, '
             + '.diagram svg foreignObject span, .diagram svg foreignObject p'))
             .filter(e => e.textContent.trim())
             .map(e => {
               const svg = e.closest('svg');
               const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
               return parseFloat(getComputedStyle(e).fontSize) * scale;
             }))"""
    )
    assert smallest >= 12, smallest
    assert not [e for e in errors if "Content Security Policy" in e], errors
    accessible(page, "diagram")

    context = browser.new_context(java_script_enabled=False)
    try:
        plain = context.new_page()
        login(plain, site)
        plain.goto(f"{site.url}/sekretariat/diagram")
        source = plain.locator("pre[data-mermaid='diagram-stage']")
        expect(source).to_be_visible()
        expect(source).to_contain_text('state "Afventer" as pending')
        expect(source).to_contain_text("pending --> open: åbn")
    finally:
        context.close()


def test_the_timeline_marks_today_on_the_virtual_clock(page: Page, site: Site) -> None:
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}{PROCESS}")
    april = page.locator(".timeline__today").get_attribute("x1")
    site.clock.set(datetime(2022, 9, 15, 12, 0, tzinfo=TZ))
    page.reload()
    september = page.locator(".timeline__today").get_attribute("x1")
    assert april and september and float(september) > float(april)


def test_a_link_reissued_on_a_saturday_waits_for_monday_and_the_old_one_works_until_then(
    page: Page, site: Site, socialaftale: Bundle
) -> None:
    """Issue 11 point 5: the secretariat is told when the new link goes out; the committee's
    old link keeps working over the weekend and stops when the new one is sent."""
    from tests.browser.test_answering import mail_to, personal_link, secretary

    site.clock.set(datetime(2022, 4, 9, 11, 0, tzinfo=TZ))  # a Saturday
    first = site.deliver()  # the invitations of 4 April go out
    old = personal_link(mail_to(first, secretary(socialaftale, "aalborg"), "Spørgsmål"), site)
    add_users(site.db, site.clock())
    login(page, site)
    page.goto(f"{site.url}{PROCESS}/part/aalborg")
    page.get_by_role("link", name="Send nyt link: Spørgsmål til de politiske udvalg").click()
    expect(page.get_by_label("Send nu, også uden for kontortid")).not_to_be_checked()
    expect(page.get_by_text("Det gamle link virker, indtil det nye er sendt.")).to_be_visible()
    accessible(page, "reissue")
    page.get_by_label("Begrundelse").fill("Linket gik til en forkert")
    page.get_by_role("button", name="Send nyt link").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "der sendes mandag den 11. april 2022 kl. 09.00 (kontortid)"
    )

    assert site.deliver() == []  # the weekend: nothing goes out
    page.goto(old)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spørgsmål til de politiske")

    site.clock.set(datetime(2022, 4, 11, 9, 0, tzinfo=TZ))
    again = mail_to(site.deliver(), secretary(socialaftale, "aalborg"), "Spørgsmål")
    new = personal_link(again, site)
    assert new != old
    assert page.goto(old).status == 404  # type: ignore[union-attr]
    assert page.goto(new).status == 200  # type: ignore[union-attr]
