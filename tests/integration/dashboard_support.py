"""Helpers for the dashboard tests (integration and browser): a process brought to a point
of the 2022 cycle by the real engine, two users (an admin and a viewer), the app with a
settable clock, and log-in and form posts through Flask's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import EnvironBuilder, TestResponse

from tests.browser.support import (
    KEY,
    QUESTIONNAIRE,
    SECRET,
    WALL_START,
    Clock,
    build_app,
    run_until,
)
from web import close_app
from workflow import users
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow

ADMIN, ADMIN_PASSWORD = "anne", "anne-er-admin-2022"
VIEWER, VIEWER_PASSWORD = "viggo", "viggo-kigger-kun"
BASE_URL = "https://aftaleflow.example"
PROCESS = f"/sekretariat/proces/{KEY}"

#: Answers that try to break out of a cell or a page: formulas and a script.
PAYLOADS = [
    '=HYPERLINK("http://evil.example","klik")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "<script>window.__xss = 1</script><b>fed</b>",
]


def answer_for(party: str, i: int) -> dict[str, Any]:
    """A complete, valid answer whose free text names the party (and carries a payload)."""
    return {
        "vision-egenmestring": "4",
        "vision-retningspile": ["staa-sammen", "tidlig-indsats"],
        "fokusomraader-prioritet": "socialpsykiatri",
        "udvidelse-forebyggelse": "ja",
        "oevrige-oensker": f"{PAYLOADS[i % len(PAYLOADS)]} – ønske fra {party}",
    }


def answer_all(db: Database, bundle: Bundle, at: datetime) -> None:
    service = Service(db, link_secret=SECRET)
    for i, party in enumerate(bundle.participants):
        service.submit_answer(KEY, QUESTIONNAIRE, party, answer_for(party, i), at=at, actor=party)


def add_users(db: Database, at: datetime) -> None:
    users.add_user(db, ADMIN, ADMIN_PASSWORD, "admin", at=at, actor="test")
    users.add_user(db, VIEWER, VIEWER_PASSWORD, "viewer", at=at, actor="test")


@dataclass
class Dash:
    app: Flask
    client: FlaskClient
    clock: Clock
    db: Database
    bundle: Bundle
    #: The real time of the rate limits and the lock-out (``clock`` is business time).
    wall: Clock

    def login(self, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> TestResponse:
        token = csrf_token(self.client.get("/sekretariat/login").text)
        return self.client.post(
            "/sekretariat/login", data={"csrf_token": token, "name": name, "password": password}
        )

    def form(self, url: str, data: dict[str, Any]) -> TestResponse:
        """GET the form page, then POST it with its CSRF token."""
        page = self.client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        return self.client.post(url, data={"csrf_token": csrf_token(page.text), **data})

    def upload(self, url: str, data: dict[str, Any]) -> TestResponse:
        """A multipart POST (with the page's CSRF token) whose body is closed afterwards."""
        token = csrf_token(self.client.get(url).text)
        builder = EnvironBuilder(
            path=url,
            method="POST",
            data={"csrf_token": token, **data},
            content_type="multipart/form-data",
        )
        environ = builder.get_environ()
        try:
            return self.client.open(environ)
        finally:
            environ["wsgi.input"].close()
            builder.close()

    def events(self, kind: str) -> list[EventRow]:
        with self.db.sessions() as s:
            return list(
                s.scalars(select(EventRow).where(EventRow.kind == kind).order_by(EventRow.id))
            )


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


@contextmanager
def dashboard(
    db_url: str, db: Database, bundle: Bundle, tmp_path: Path, until: datetime
) -> Iterator[Dash]:
    """The 2022 cycle run by the engine until ``until``, two users, and the app at that time."""
    run_until(db, bundle, until)
    add_users(db, until)
    clock, wall = Clock(until), Clock(WALL_START)
    app = build_app(db_url, tmp_path / "uploads", clock, base_url=BASE_URL, wall_clock=wall)
    try:
        yield Dash(app, app.test_client(), clock, db, bundle, wall)
    finally:
        close_app(app)
