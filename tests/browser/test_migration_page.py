"""Moving the running process to a new version of its definition in a real browser: the
edited questionnaire uploaded, the preview (the new question, the new version for those who
have not answered, the mail plan before and after) and the move applied with a reason; a
definition that would rewrite history refused. axe-core clean, and no wider than a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import Site
from tests.browser.support import KEY, QUESTIONNAIRE, SECRET
from tests.browser.test_accessibility import check
from tests.browser.test_dashboard import login
from tests.conftest import ROOT
from tests.integration.dashboard_support import ADMIN, add_users
from workflow.service import Service
from workflow.storage.models import EventRow, ProcessRow

pytestmark = pytest.mark.browser

NEW_QUESTION = """      - id: vision-eksempel
        type: text
        label: Giv et eksempel på egenmestring fra udvalgets kommune
        required: false
"""


def edited_questionnaire(tmp_path: Path) -> Path:
    body = (ROOT / "definitions" / "questionnaires" / "fagudvalg.yaml").read_text()
    anchor = "      - id: fokusomraader-prioritet\n"
    path = tmp_path / "fagudvalg.yaml"
    path.write_text(body.replace(anchor, NEW_QUESTION + anchor, 1))
    return path


def without_das(tmp_path: Path) -> Path:
    body = (ROOT / "definitions" / "processes" / "socialaftale.yaml").read_text()
    path = tmp_path / "socialaftale.yaml"
    path.write_text(body[: body.index("  - id: das-fokus")] + body[body.index("  - id: kkr-") :])
    return path


def test_preview_and_apply_a_new_questionnaire_version(
    page: Page, site: Site, tmp_path: Path
) -> None:
    page.set_default_timeout(20_000)
    add_users(site.db, site.clock())
    login(page, site)
    with site.db.sessions() as s:
        old_hash = s.scalar(select(ProcessRow.definition_hash).where(ProcessRow.key == KEY))
    page.goto(f"{site.url}/sekretariat/proces/{KEY}")
    page.get_by_role("link", name="Ny version af definitionen").click()
    expect(page.get_by_role("heading", name="Ny version af definitionen", level=1)).to_be_visible()
    check(page, "migration page")

    page.get_by_label("Den redigerede definition (YAML)").set_input_files(
        str(edited_questionnaire(tmp_path))
    )
    page.get_by_role("button", name="Vis forskellen").click()

    preview = page.get_by_test_id("preview")
    expect(preview).to_be_visible()
    expect(page.get_by_test_id("changes-question")).to_contain_text(
        "Nyt spørgsmål i fagudvalg: Giv et eksempel på egenmestring fra udvalgets kommune"
    )
    # the questionnaire went out on 4 April: the changed one is version 2 for those who
    # have not submitted
    expect(page.get_by_test_id("changes-question")).to_contain_text("som version 2")
    expect(page.get_by_test_id("mail-counts")).to_have_text(
        re.compile(r"\d+ mail\(s\) før, \d+ efter\.")
    )
    # nobody has submitted yet: the new version goes out to all twelve, a new invitation each
    expect(page.get_by_role("heading", name="Kommer til (12)")).to_be_visible()
    expect(page.get_by_test_id("mails-new").locator("tr[data-kind=invitation]")).to_have_count(12)
    expect(page.get_by_test_id("mails-new")).to_contain_text("Aalborg Kommune")
    check(page, "migration preview")

    page.get_by_label("Begrundelse").fill("Udvalgene ønsker et eksempel")
    page.get_by_role("button", name="Anvend den nye version").click()

    expect(
        page.get_by_text(re.compile(r"Processen kører nu definition [0-9a-f]{12}"))
    ).to_be_visible()
    with site.db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        event = s.scalar(select(EventRow).where(EventRow.kind == "definition_migrated"))
    assert row is not None and event is not None
    assert event.data["old_hash"] == old_hash
    assert event.data["new_hash"] == row.definition_hash != old_hash
    assert event.data["questionnaire_versions"] == {"fagudvalg": [1, 2]}
    assert event.reason == "Udvalgene ønsker et eksempel"
    assert event.actor == f"user:{ADMIN}"

    # an answer to the new version: the report shows its version and the questions answered
    Service(site.db, link_secret=SECRET).submit_answer(
        KEY,
        QUESTIONNAIRE,
        "aalborg",
        {"vision-egenmestring": 4, "vision-eksempel": "Borgerrådet i Nørresundby"},
        at=site.clock(),
        actor="aalborg",
    )
    page.goto(f"{site.url}/sekretariat/proces/{KEY}/rapport/{QUESTIONNAIRE}")
    row = page.locator('tr[data-party="aalborg"]')
    expect(row.get_by_test_id("q-version")).to_have_text("2")
    row.get_by_text("2 af ").click()
    expect(row).to_contain_text("Giv et eksempel på egenmestring fra udvalgets kommune")
    check(page, "report with questionnaire versions")


def test_a_definition_that_rewrites_history_is_refused(
    page: Page, site: Site, tmp_path: Path
) -> None:
    page.set_default_timeout(20_000)
    add_users(site.db, site.clock())
    login(page, site)
    with site.db.sessions() as s:
        before = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == KEY))
    page.goto(f"{site.url}/sekretariat/proces/{KEY}/definition")
    page.get_by_label("Den redigerede definition (YAML)").set_input_files(
        str(without_das(tmp_path))
    )
    page.get_by_role("button", name="Vis forskellen").click()

    expect(page.get_by_test_id("refusals")).to_contain_text(
        "fasen 'das-fokus' er afsluttet; historien skrives ikke om"
    )
    expect(page.get_by_role("button", name="Anvend den nye version")).to_have_count(0)
    check(page, "refused migration")
    with site.db.sessions() as s:
        after = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == KEY))
    assert after == before
