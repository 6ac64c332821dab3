"""The secretariat's workshop page over HTTP on SQLite and PostgreSQL: the list with the
waiting list and the minimum flag, attendance once the workshop has begun, the conclusions
(versions, shown in the compiled report's "Workshops" section), the XLSX, and a viewer who
cannot act."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from docx import Document
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.browser.support import SECRET, WALL_START, Clock, build_app
from tests.integration.dashboard_support import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    add_users,
    csrf_token,
)
from tests.workshop_support import STAGE, WORKSHOP, at, workshop_bundle
from web import close_app
from workflow.links import LinkKey, make_token
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow
from workflow.workshop_service import Workshops
from workflow.workshops import Participant


@dataclass
class Dash:
    client: FlaskClient
    clock: Clock
    db: Database
    key: str

    @property
    def page(self) -> str:
        return f"/sekretariat/proces/{self.key}/workshops"

    def login(self, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
        token = csrf_token(self.client.get("/sekretariat/login").text)
        data = {"csrf_token": token, "name": name, "password": password}
        assert self.client.post("/sekretariat/login", data=data).status_code == 303

    def post(self, path: str, data: dict[str, object]) -> int:
        token = csrf_token(self.client.get(self.page).text)
        url = f"{self.page}/{STAGE}/{WORKSHOP}/{path}"
        return self.client.post(url, data={"csrf_token": token, **data}).status_code


@pytest.fixture
def dash(db_url: str, db: Database, tmp_path: Path) -> Iterator[Dash]:
    svc = Service(db, link_secret=SECRET)
    key = svc.start(workshop_bundle(tmp_path), 2022, at=at("2022-08-01"))
    svc.tick(at("2022-09-01", 9))
    ws = Workshops(svc)
    with db.sessions() as s:
        pid = s.scalar(select(ProcessRow.id))
    assert pid is not None
    for party, people in (("aalborg", ["Anna", "Bo"]), ("hjorring", ["Carl", "Dorte"])):
        target = ws.resolve(
            make_token(SECRET, LinkKey(pid, STAGE, party, WORKSHOP, 1)), at("2022-09-02")
        )
        ws.sign_up(
            target,
            [Participant(n, "Konsulent", f"{n.lower()}@{party}.example") for n in people],
            at=at("2022-09-02", 10),
        )
    add_users(db, at("2022-09-02"))
    clock = Clock(at("2022-09-05"))
    app = build_app(db_url, tmp_path / "uploads", clock, wall_clock=Clock(WALL_START))
    yield Dash(app.test_client(), clock, db, key)
    close_app(app)


def test_the_list_the_flag_and_the_xlsx(dash: Dash) -> None:
    dash.login()
    process = dash.client.get(f"/sekretariat/proces/{dash.key}").text
    assert f'href="{dash.page}">Workshops og tilmeldinger</a>' in process
    page = dash.client.get(dash.page).text
    assert "3 af 3 pladser besat, 1 på venteliste" in page
    assert page.count('data-status="waiting"') == 1 and "data-flag" not in page
    xlsx = dash.client.get(f"/sekretariat/proces/{dash.key}/eksport/workshops.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    rows = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    assert rows[0][:6] == ("Nr.", "Part", "Navn", "Rolle", "E-mail", "Status")
    assert [(r[0], r[1], r[2], r[5]) for r in rows[1:]] == [
        (1, "Aalborg Kommune", "Anna", "Tilmeldt"),
        (2, "Aalborg Kommune", "Bo", "Tilmeldt"),
        (3, "Hjørring Kommune", "Carl", "Tilmeldt"),
        (4, "Hjørring Kommune", "Dorte", "Venteliste"),
    ]
    wb.close()


def test_attendance_after_the_workshop_and_conclusions_in_the_report(dash: Dash) -> None:
    dash.login()
    assert dash.post("fremmoede", {"attended": ["1"]}) == 409, "not before the workshop"
    dash.clock.set(at("2022-09-21", 14))
    assert dash.post("fremmoede", {"attended": ["1", "3"]}) == 303
    conclusions = {
        "challenges": "For få pladser i psykiatrien",
        "actions": "Fælles akutpladser",
        "recommendations": "<b>Start tidligt</b>",
    }
    assert dash.post("konklusioner", conclusions) == 303
    assert dash.post("konklusioner", {**conclusions, "actions": "x" * 20_001}) == 422
    page = dash.client.get(dash.page).text
    assert "Version 1, gemt af user:anne" in page
    report = dash.client.get(f"/sekretariat/proces/{dash.key}/rapport/fagudvalg-spoergsmaal")
    assert report.status_code == 200
    text = report.text
    assert 'data-section="workshops"' in text and "2 mødte op" in text
    assert "Fælles akutpladser" in text and "&lt;b&gt;Start tidligt&lt;/b&gt;" in text
    word = dash.client.get(f"/sekretariat/proces/{dash.key}/rapport/fagudvalg-spoergsmaal.docx")
    doc = Document(io.BytesIO(word.data))
    headings = [
        (p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")
    ]
    at_workshops = headings.index(("Heading 1", "Workshops"))
    assert headings[at_workshops + 1 :][:3] == [
        ("Heading 2", "Workshop – Sammen om en stærk socialpsykiatri"),
        ("Heading 3", "Udfordringer"),
        ("Heading 3", "Handlinger"),
    ]
    assert "Fælles akutpladser" in [p.text for p in doc.paragraphs]
    with dash.db.sessions() as s:
        kinds = list(s.scalars(select(EventRow.kind).where(EventRow.actor == "user:anne")))
    assert kinds.count("workshop_attendance_recorded") == 1
    assert kinds.count("workshop_conclusions_saved") == 1


def test_a_viewer_sees_but_cannot_act(dash: Dash) -> None:
    dash.login(VIEWER, VIEWER_PASSWORD)
    page = dash.client.get(dash.page).text
    assert "Dorte" in page and "Gem konklusioner" not in page
    dash.clock.set(at("2022-09-21", 14))
    assert dash.post("fremmoede", {"attended": ["1"]}) == 403
    assert dash.post("konklusioner", {"challenges": "x"}) == 403


def test_the_demo_opens_a_workshop_invitations_sign_up_link(dash: Dash) -> None:
    dash.login()
    with dash.db.sessions() as s:
        mail_id = s.scalar(
            select(OutboxRow.id).where(
                OutboxRow.kind == "meeting_invitation",
                OutboxRow.step == WORKSHOP,
                OutboxRow.party == "laeso",
            )
        )
    got = dash.client.get(f"/sekretariat/udbakke/{mail_id}/svarlink")
    assert got.status_code == 303
    assert "/tilmeld/" in got.headers["Location"]
