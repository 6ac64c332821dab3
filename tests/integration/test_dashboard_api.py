"""The read-only JSON API: a bearer token from ``aftaleflow user api-token`` (stored only as
its hash), processes, stages, parties and their statuses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.support import AFTER_INVITATIONS, KEY, QUESTIONNAIRE
from workflow import users
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import UserRow

from .dashboard_support import ADMIN, VIEWER, Dash, dashboard


@pytest.fixture
def api(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        yield d


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_api_needs_a_valid_token(api: Dash) -> None:
    r = api.client.get("/api/v1/processes")
    assert r.status_code == 401 and r.json == {
        "error": "unauthorized",
        "message": "send Authorization: Bearer <token>",
    }
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.client.get("/api/v1/processes", headers=bearer("aft_guess")).status_code == 401
    assert (
        api.client.get("/api/v1/processes", headers={"Authorization": "Basic x"}).status_code == 401
    )
    api.login()  # a logged-in browser session is not enough
    assert api.client.get("/api/v1/processes").status_code == 401


def test_tokens_are_stored_hashed_and_replaced_when_reissued(api: Dash) -> None:
    at = AFTER_INVITATIONS
    first = users.issue_api_token(api.db, VIEWER, at=at, actor="test")
    assert first.startswith("aft_") and len(first) > 40
    with api.db.sessions() as s:
        stored = s.scalar(select(UserRow.api_token_hash).where(UserRow.name == VIEWER))
    assert stored == users.token_digest(first) and first not in (stored or "")
    assert api.client.get("/api/v1/processes", headers=bearer(first)).status_code == 200
    second = users.issue_api_token(api.db, VIEWER, at=at, actor="test")
    assert api.client.get("/api/v1/processes", headers=bearer(first)).status_code == 401
    assert api.client.get("/api/v1/processes", headers=bearer(second)).status_code == 200
    (issued, again) = api.events("api_token_issued")
    assert issued.data == {"user": VIEWER, "replaced": False}
    assert again.data == {"user": VIEWER, "replaced": True}


def test_processes_stages_and_parties(api: Dash) -> None:
    token = users.issue_api_token(api.db, ADMIN, at=AFTER_INVITATIONS, actor="test")
    listed = api.client.get("/api/v1/processes", headers=bearer(token)).json
    assert listed is not None
    (process,) = listed["processes"]
    assert process["key"] == KEY and process["status"] == "running"
    assert process["counts"] == {"invited": 12, "not_invited": 12}
    assert process["outbox"] == {"queued": 12}
    datetime.fromisoformat(process["next_due_at"])

    detail = api.client.get(f"/api/v1/processes/{KEY}", headers=bearer(token)).json
    assert detail is not None
    assert [s["id"] for s in detail["stages"]][:3] == [
        "das-fokus",
        "kkr-igangsaetter",
        QUESTIONNAIRE,
    ]
    q = next(s for s in detail["stages"] if s["id"] == QUESTIONNAIRE)
    assert (q["status"], q["deadline"], q["kind"]) == ("open", "2022-05-20", "questionnaire")
    assert len(detail["parties"]) == 12
    aalborg = detail["parties"][0]
    assert aalborg["slug"] == "aalborg"
    assert aalborg["stages"][QUESTIONNAIRE] == {
        "badge": "invited",
        "label": "Inviteret",
        "step": None,
        "deadline_extended_to": None,
    }
    stages = api.client.get(f"/api/v1/processes/{KEY}/stages", headers=bearer(token)).json
    assert stages is not None and stages["stages"] == detail["stages"]
    parties = api.client.get(f"/api/v1/processes/{KEY}/parties", headers=bearer(token)).json
    assert parties is not None and parties["parties"] == detail["parties"]
    one = api.client.get(f"/api/v1/processes/{KEY}/parties/laeso", headers=bearer(token)).json
    assert one is not None and one["name"] == "Læsø Kommune"
    (task,) = one["tasks"]
    assert task["status"] == "invited" and task["deadline"] == "2022-05-20"
    assert task["invited_at"].startswith("2022-04-04T07:00")


def test_unknown_resources_are_json_404s(api: Dash) -> None:
    token = users.issue_api_token(api.db, VIEWER, at=AFTER_INVITATIONS, actor="test")
    for url in (
        "/api/v1/processes/ukendt",
        "/api/v1/processes/ukendt/stages",
        "/api/v1/processes/ukendt/parties",
        f"/api/v1/processes/{KEY}/parties/ukendt",
    ):
        r = api.client.get(url, headers=bearer(token))
        assert r.status_code == 404 and r.json is not None and r.json["error"] == "not_found"
