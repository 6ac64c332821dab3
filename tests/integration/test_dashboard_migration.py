"""The dashboard's "Ny version af definitionen" through Flask's test client, on SQLite and
PostgreSQL: a viewer may look but not preview or apply, a POST without the CSRF token or
without a reason changes nothing, a preview made against another definition is refused,
and a file that is no definition comes back with its problems."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.support import AFTER_INVITATIONS, KEY
from tests.conftest import ROOT
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import ProcessRow

from .dashboard_support import PROCESS, VIEWER, VIEWER_PASSWORD, Dash, csrf_token, dashboard

PAGE = f"{PROCESS}/definition"
APPLY = f"{PAGE}/anvend"
ANCHOR = "      - id: fokusomraader-prioritet\n"
NEW_QUESTION = (
    "      - id: vision-eksempel\n        type: text\n"
    "        label: Giv et eksempel på egenmestring\n        required: false\n"
)


@pytest.fixture
def dash(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        yield d


def edited() -> bytes:
    body = (ROOT / "definitions" / "questionnaires" / "fagudvalg.yaml").read_text()
    return body.replace(ANCHOR, NEW_QUESTION + ANCHOR, 1).encode()


def state(d: Dash) -> tuple[int, str]:
    with d.db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        return row.row_version, row.definition_hash


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html
    )
    assert found, html[:3000]
    import html as h

    return h.unescape(found.group(1))


def preview(d: Dash, content: bytes, name: str = "fagudvalg.yaml") -> str:
    r = d.upload(PAGE, {"file": (io.BytesIO(content), name)})
    assert r.status_code in (200, 400, 409), r.status_code
    return r.text


def test_a_viewer_sees_the_page_but_cannot_preview_or_apply(dash: Dash) -> None:
    dash.login(VIEWER, VIEWER_PASSWORD)
    page = dash.client.get(PAGE)
    assert page.status_code == 200 and "Ny version af definitionen" in page.text
    assert "Vis forskellen" not in page.text
    token = csrf_token(page.text)
    r = dash.client.post(PAGE, data={"csrf_token": token})
    assert r.status_code == 403
    r = dash.client.post(APPLY, data={"csrf_token": token, "reason": "x"})
    assert r.status_code == 403


def test_without_csrf_or_reason_or_against_another_definition_nothing_changes(
    dash: Dash,
) -> None:
    dash.login()
    before = state(dash)
    html = preview(dash, edited())
    assert "Nyt spørgsmål i fagudvalg: Giv et eksempel på egenmestring" in html
    fields = {n: hidden(html, n) for n in ("content", "filename", "expect")}
    assert fields["expect"] == before[1]

    r = dash.client.post(APPLY, data={**fields, "reason": "uden nøgle"})
    assert r.status_code == 400 and state(dash) == before
    token = csrf_token(html)
    r = dash.client.post(APPLY, data={**fields, "csrf_token": token, "reason": ""})
    assert r.status_code in (200, 400, 409) and state(dash) == before
    stale = {**fields, "expect": "0" * 64}
    r = dash.client.post(APPLY, data={**stale, "csrf_token": token, "reason": "gammel"})
    assert r.status_code == 409 and "ændret siden forhåndsvisningen" in r.text
    assert state(dash) == before

    r = dash.client.post(APPLY, data={**fields, "csrf_token": token, "reason": "et eksempel"})

    assert r.status_code == 303
    assert state(dash)[1] != before[1]
    (event,) = dash.events("definition_migrated")
    assert event.data["old_hash"] == before[1] and event.data["new_hash"] == state(dash)[1]
    assert event.actor.startswith("user:") and event.reason == "et eksempel"


def test_a_file_that_is_no_definition_comes_back_with_its_problems(dash: Dash) -> None:
    dash.login()
    before = state(dash)
    html = preview(dash, b"id: fagudvalg\nsections: [", "fagudvalg.yaml")
    assert 'data-testid="problems"' in html and '<li class="wrap">fagudvalg.yaml:' in html
    assert "aftaleflow-definition-" not in html  # no path of the server's
    html = preview(dash, b"navn: noget andet\n", "andet.yaml")
    assert 'data-testid="problems"' in html and "andet.yaml" in html, html
    assert state(dash) == before
