"""Moving the plan from the dashboard (issue 13, item 2): the move-meeting, cancel-meeting and
"flyt frist" pages are for admins, carry the CSRF token, ask why, refuse in Danish and write
the change to the audit log; the process page and the calendar show the moved meeting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.browser.support import AFTER_INVITATIONS, QUESTIONNAIRE
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

from .dashboard_support import ADMIN, PROCESS, VIEWER, VIEWER_PASSWORD, Dash, csrf_token, dashboard

FORUM_OPEN = datetime(2022, 6, 7, 12, 0, tzinfo=TZ)
MOVE = f"{PROCESS}/fase/dialogforum/flyt-moede"
CANCEL = f"{PROCESS}/fase/dialogforum/aflys-moede"
DEADLINE = f"{PROCESS}/fase/{QUESTIONNAIRE}/flyt-frist"


@pytest.fixture
def forum(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, FORUM_OPEN) as d:
        d.login()
        yield d


@pytest.fixture
def invited(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        yield d


def _count(db: Database, model: type, **where: str) -> int:
    with db.sessions() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return int(s.scalar(stmt) or 0)


def test_the_admin_moves_the_forum_a_week_and_the_log_says_who_and_why(forum: Dash) -> None:
    page = forum.client.get(MOVE)
    assert page.status_code == 200
    assert 'value="2022-06-15"' in page.text and 'value="14:00"' in page.text
    assert "Aalborg Kongres &amp; Kultur Center" in page.text
    r = forum.form(
        MOVE,
        {
            "event": "dialogforum",
            "day": "2022-06-22",
            "clock": "14:00",
            "location": "Hjørring Rådhus",
            "reason": "Formanden er forhindret",
        },
    )
    assert r.status_code == 303, r.text[:3000]
    assert r.headers["Location"].endswith("#stage-dialogforum")
    done = forum.client.get(r.headers["Location"]).text
    assert "»Socialpolitisk Dialogforum« er udsat til onsdag den 22. juni 2022 kl. 14.00" in done
    (event,) = forum.events("meeting_moved")
    assert event.actor == f"user:{ADMIN}" and event.reason == "Formanden er forhindret"
    assert _count(forum.db, OutboxRow, kind="meeting_update") == 12
    audit = forum.client.get("/sekretariat/log").text
    assert "Møde flyttet" in audit
    calendar = forum.client.get("/sekretariat/kalender?maaned=2022-06").text
    days = {
        d: calendar.split(f'data-day="{d}"', 1)[1].split("</td>", 1)[0]
        for d in ("2022-06-15", "2022-06-22")
    }
    assert "Socialpolitisk Dialogforum" in days["2022-06-22"]
    assert "Socialpolitisk Dialogforum" not in days["2022-06-15"]


def test_the_page_refuses_in_danish_and_changes_nothing(forum: Dash) -> None:
    before = _count(forum.db, EventRow)
    past = forum.form(
        MOVE,
        {"event": "dialogforum", "day": "2022-06-01", "clock": "14:00", "location": "Aalborg",
         "reason": "for sent"},
    )  # fmt: skip
    assert past.status_code == 409 and "ligger i fortiden" in past.text
    no_reason = forum.form(
        MOVE, {"event": "dialogforum", "day": "2022-06-22", "clock": "14:00", "location": "A"}
    )
    assert no_reason.status_code == 400
    bad_clock = forum.form(
        MOVE,
        {"event": "dialogforum", "day": "2022-06-22", "clock": "kl 2", "location": "A",
         "reason": "r"},
    )  # fmt: skip
    assert bad_clock.status_code == 400 and "Skriv et klokkeslæt" in bad_clock.text
    unconfirmed = forum.form(CANCEL, {"event": "dialogforum", "reason": "aflyst"})
    assert unconfirmed.status_code == 400
    closed = forum.form(DEADLINE, {"deadline": "2022-06-30", "reason": "for sent"})
    assert closed.status_code == 409 and "er afsluttet; dens frist kan ikke flyttes" in closed.text
    assert _count(forum.db, EventRow) == before


def test_the_admin_cancels_the_forum(forum: Dash) -> None:
    r = forum.form(CANCEL, {"event": "dialogforum", "reason": "Aflyst", "confirm": "y"})
    assert r.status_code == 303
    (event,) = forum.events("meeting_cancelled")
    assert event.reason == "Aflyst" and event.data["sequence"] == 1
    process = forum.client.get(PROCESS).text
    assert MOVE not in process, "a cancelled meeting is not offered to move"


def test_the_admin_moves_a_stage_deadline_for_everyone(invited: Dash) -> None:
    page = invited.client.get(DEADLINE)
    assert page.status_code == 200 and "fredag den 20. maj 2022" in page.text
    r = invited.form(DEADLINE, {"deadline": "2022-05-27", "reason": "Udvalgene mødes sent"})
    assert r.status_code == 303, r.text[:3000]
    done = invited.client.get(r.headers["Location"]).text
    assert "12 parter får besked om den nye frist, 0 har svaret" in done
    (event,) = invited.events("stage_deadline_moved")
    assert event.actor == f"user:{ADMIN}" and event.data["to"] == "2022-05-27"
    assert _count(invited.db, OutboxRow, kind="new_deadline") == 12
    assert "27.05.2022" in invited.client.get(PROCESS).text


def test_a_viewer_cannot_move_and_a_post_needs_the_csrf_token(forum: Dash) -> None:
    no_token = forum.client.post(DEADLINE, data={"deadline": "2022-06-30", "reason": "x"})
    assert no_token.status_code == 400
    viewer = forum.app.test_client()
    login = viewer.get("/sekretariat/login").text
    viewer.post(
        "/sekretariat/login",
        data={"csrf_token": csrf_token(login), "name": VIEWER, "password": VIEWER_PASSWORD},
    )
    before = _count(forum.db, EventRow)
    process = viewer.get(PROCESS).text
    assert "flyt-moede" not in process and "flyt-frist" not in process
    token = csrf_token(process)  # the log-out form's: a valid token for the viewer's session
    for url in (MOVE, CANCEL, DEADLINE):
        assert viewer.get(url).status_code == 403, url
        assert viewer.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert _count(forum.db, EventRow) == before, "a viewer changed nothing"
