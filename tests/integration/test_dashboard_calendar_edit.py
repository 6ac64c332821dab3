"""The meeting calendar edited from the dashboard: an admin adds, moves and deletes a
council's meeting, sets its agenda deadline and imports an ``.ics`` file icalendar wrote; each
change is written to the year's calendar file (checked, atomic) and audited with the file's
SHA-256 before and after, and the meeting plan follows at once. Viewers, missing reasons,
forged requests, meetings on holidays, stale pages and read-only folders change nothing."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.support import AFTER_INVITATIONS, KEY
from tests.conftest import ROOT
from tests.unit.test_councils_ics import byraad_ics
from workflow.councils import load_calendars
from workflow.loader import Bundle, load_bundle
from workflow.storage.db import Database

from .dashboard_support import VIEWER, VIEWER_PASSWORD, Dash, csrf_token, dashboard

PAGE = f"/sekretariat/proces/{KEY}/moedeplan/kalender"


@pytest.fixture
def own_definitions(tmp_path: Path) -> Bundle:
    """The shipped definitions copied under ``tmp_path``: the process reads (and the page
    writes) that copy's calendar file, never the repository's."""
    root = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", root)
    return load_bundle(root / "processes" / "socialaftale.yaml", reference_year=2022)


@pytest.fixture
def dash(
    db_url: str, db: Database, own_definitions: Bundle, tmp_path: Path
) -> Iterator[tuple[Dash, Path]]:
    calendar = Path(own_definitions.path).parent.parent / "calendars" / "2022.yaml"
    with dashboard(db_url, db, own_definitions, tmp_path, AFTER_INVITATIONS) as d:
        yield d, calendar


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def post(d: Dash, organ: str, what: str, data: dict[str, object]) -> object:
    """GET the body's page, then POST the action's form with the page's CSRF token and the
    version (the calendar file's SHA-256) the page carries."""
    owner, body = organ.split(":")
    page = d.client.get(f"{PAGE}?organ={organ}").text
    found = re.search(rf'name="{what}-version" value="([0-9a-f]*)"', page)
    assert found, page[:3000]
    fields = {f"{what}-{k}": v for k, v in data.items()}
    return d.client.post(
        f"{PAGE}/{owner}/{body}/{what}",
        data={f"{what}-csrf_token": csrf_token(page), f"{what}-version": found.group(1), **fields},
    )


def test_an_admin_moves_adds_and_deletes_meetings_and_every_change_is_audited(
    dash: tuple[Dash, Path],
) -> None:
    d, calendar = dash
    d.login()
    plan = d.client.get(f"/sekretariat/proces/{KEY}/moedeplan").text
    assert 'class="plan--risk"' in plan and PAGE in plan
    page = d.client.get(f"{PAGE}?organ=laeso:byraad").text
    assert "Mødekalender 2022" in page and "Læsø Kommune – Byråd" in page
    assert '<tr data-date="2022-12-14"><td>14.12.2022</td><td>kl. 17.00</td>' in page
    assert "Dagsordensfristen er 7 dage før mødet (filens frist for Byråd)." in page

    # Læsø's byråd meets after the deadline: the secretariat moves December to 28 November
    before = sha(calendar)
    moved = post(
        d, "laeso:byraad", "flyt",
        {"meeting": "2022-12-14", "to": "2022-11-28", "time": "16:00",
         "reason": "Byrådet har flyttet decembermødet"},
    )  # fmt: skip
    assert moved.status_code == 303, moved.text[:3000]  # type: ignore[attr-defined]
    cal = load_calendars(calendar)
    days = {m.date.isoformat(): m.time for m in cal.of("laeso", "byraad")}
    assert "2022-12-14" not in days and days["2022-11-28"] == "16:00"
    assert days["2022-11-02"] == "17:00"  # the others keep the usual time
    text = calendar.read_text(encoding="utf-8")
    assert text.startswith("# Councils' meeting calendars (mødeplaner) for 2022: EXAMPLE DATA")
    [event] = d.events("calendar_changed")
    assert event.process_id is not None and event.actor == "user:anne"
    assert event.reason == "Byrådet har flyttet decembermødet"
    assert (event.party, event.step) == ("laeso", "byraad")
    assert event.data["change"] == "move" and event.data["to"] == "2022-11-28"
    assert event.data["sha256_before"] == before and event.data["sha256_after"] == sha(calendar)
    page = d.client.get(f"{PAGE}?organ=laeso:byraad").text
    assert "Mødet 14.12.2022 er flyttet til 28.11.2022 for Læsø Kommune – Byråd." in page
    plan = d.client.get(f"/sekretariat/proces/{KEY}/moedeplan").text
    assert 'class="plan--risk"' not in plan  # the plan reads the new file at once

    added = post(
        d, "cycle:kkr", "tilfoej", {"day": "2022-10-07", "time": "", "reason": "Ekstra møde"}
    )
    assert added.status_code == 303
    kkr = load_calendars(calendar).of("cycle", "kkr")
    assert [m.time for m in kkr if m.date.isoformat() == "2022-10-07"] == ["09:00"]
    deleted = post(d, "cycle:kkr", "slet", {"meeting": "2022-10-07", "reason": "Aflyst igen"})
    assert deleted.status_code == 303
    assert "2022-10-07" not in {
        m.date.isoformat() for m in load_calendars(calendar).of("cycle", "kkr")
    }

    days = post(d, "aalborg:socialudvalg", "dagsordensfrist", {"days": "14", "reason": "Ny frist"})
    assert days.status_code == 303
    aalborg = load_calendars(calendar).of("aalborg", "socialudvalg")
    assert {m.agenda_deadline_days for m in aalborg} == {14}
    assert {
        m.agenda_deadline_days for m in load_calendars(calendar).of("hjorring", "socialudvalg")
    } == {7}
    page = d.client.get(f"{PAGE}?organ=aalborg:socialudvalg").text
    assert "Dagsordensfristen er 14 dage før mødet (sat for dette organ)." in page
    back = post(d, "aalborg:socialudvalg", "dagsordensfrist", {"days": "", "reason": "Tilbage"})
    assert back.status_code == 303
    assert {
        m.agenda_deadline_days for m in load_calendars(calendar).of("aalborg", "socialudvalg")
    } == {7}

    changes = [e.data["change"] for e in d.events("calendar_changed")]
    assert changes == ["move", "add", "delete", "agenda_days", "agenda_days"]
    log = d.client.get("/sekretariat/log?kind=calendar_changed").text
    assert log.count("Mødekalender ændret") >= 5 and "Aflyst igen" in log
    assert not list(calendar.parent.glob(".*.tmp"))


def test_an_ics_upload_replaces_the_bodys_meetings(dash: tuple[Dash, Path]) -> None:
    """The byråd's calendar as icalendar writes it: monthly on the last Monday (RRULE), no
    meeting in July (EXDATE), December moved to the 12th (RECURRENCE-ID)."""
    d, calendar = dash
    d.login()
    done = post(
        d, "aalborg:byraad", "import",
        {"file": (io.BytesIO(byraad_ics()), "aalborg-byraad.ics"), "reason": "Ny mødeplan"},
    )  # fmt: skip
    assert done.status_code == 303, done.text[:3000]  # type: ignore[attr-defined]
    days = [m.date.isoformat() for m in load_calendars(calendar).of("aalborg", "byraad")]
    assert len(days) == 11 and "2022-12-12" in days and not [x for x in days if x[5:7] == "07"]
    [event] = d.events("calendar_changed")
    assert event.data["change"] == "import" and event.data["meetings"] == 11
    html = post(
        d, "aalborg:byraad", "import",
        {"file": (io.BytesIO(b"<html>plan</html>"), "plan.ics"), "reason": "Forkert fil"},
    )  # fmt: skip
    assert html.status_code == 409
    assert "plan.ics er ikke en iCalendar-fil" in html.text  # type: ignore[attr-defined]
    assert len(d.events("calendar_changed")) == 1


def test_refusals_change_nothing(dash: tuple[Dash, Path]) -> None:
    d, calendar = dash
    original = calendar.read_bytes()
    d.login()
    cases = [
        ({"day": "2022-12-10", "time": "", "reason": "x"}, 409, "er ikke en arbejdsdag (lørdag)"),
        ({"day": "2022-12-26", "time": "", "reason": "x"}, 409, "Anden juledag"),
        ({"day": "2023-01-10", "time": "", "reason": "x"}, 409, "ligger ikke i 2022"),
        ({"day": "2022-11-28", "time": "", "reason": "x"}, 409, "har allerede et møde"),
        ({"day": "2022-11-21", "time": "25:00", "reason": "x"}, 400, "Skriv et klokkeslæt"),
        ({"day": "2022-11-21", "time": "", "reason": ""}, 400, "Skal udfyldes"),
        ({"day": "21-11-2022", "time": "", "reason": "x"}, 400, "Skriv en gyldig dato"),
    ]
    for data, code, message in cases:
        answer = post(d, "aalborg:byraad", "tilfoej", data)
        assert answer.status_code == code, (data, answer.status_code)  # type: ignore[attr-defined]
        assert message in answer.text, (data, answer.text[:3000])  # type: ignore[attr-defined]
    gone = post(d, "aalborg:byraad", "slet", {"meeting": "2022-07-04", "reason": "x"})
    assert gone.status_code == 409 and "der er intet møde" in gone.text  # type: ignore[attr-defined]
    days = post(d, "aalborg:byraad", "dagsordensfrist", {"days": "61", "reason": "x"})
    assert days.status_code == 400 and "fra 0 til 60" in days.text  # type: ignore[attr-defined]

    # a page shown before someone else changed the file: its version no longer matches
    page = d.client.get(f"{PAGE}?organ=aalborg:byraad").text
    calendar.write_bytes(original + b"\n# edited in git\n")
    version = re.search(r'name="tilfoej-version" value="([0-9a-f]+)"', page)
    assert version
    stale = d.client.post(
        f"{PAGE}/aalborg/byraad/tilfoej",
        data={
            "tilfoej-csrf_token": csrf_token(page),
            "tilfoej-version": version.group(1),
            "tilfoej-day": "2022-11-21",
            "tilfoej-reason": "x",
        },
    )
    assert stale.status_code == 409 and "kalenderfilen er ændret" in stale.text
    calendar.write_bytes(original)

    forged = d.client.post(
        f"{PAGE}/aalborg/byraad/tilfoej",
        data={"tilfoej-version": sha(calendar), "tilfoej-day": "2022-11-21", "tilfoej-reason": "x"},
    )
    assert forged.status_code == 400
    page = d.client.get(PAGE).text
    nobody = d.client.post(
        f"{PAGE}/region-nordjylland/byraad/tilfoej",
        data={"tilfoej-csrf_token": csrf_token(page), "tilfoej-day": "2022-11-21"},
    )
    assert nobody.status_code == 404
    assert calendar.read_bytes() == original
    assert d.events("calendar_changed") == []


def test_a_viewer_sees_the_calendar_but_cannot_change_it(dash: tuple[Dash, Path]) -> None:
    d, calendar = dash
    original = calendar.read_bytes()
    d.login(VIEWER, VIEWER_PASSWORD)
    page = d.client.get(f"{PAGE}?organ=laeso:byraad")
    assert page.status_code == 200 and "14.12.2022" in page.text
    assert "Tilføj mødet" not in page.text
    refused = d.client.post(
        f"{PAGE}/laeso/byraad/slet",
        data={"slet-csrf_token": csrf_token(page.text), "slet-meeting": "2022-12-14"},
    )
    assert refused.status_code == 403
    assert calendar.read_bytes() == original and d.events("calendar_changed") == []


def test_a_read_only_definitions_folder_is_refused_with_a_clear_message(
    dash: tuple[Dash, Path],
) -> None:
    d, calendar = dash
    original = calendar.read_bytes()
    d.login()
    page = d.client.get(f"{PAGE}?organ=aalborg:byraad").text
    calendar.parent.chmod(0o555)
    try:
        shown = d.client.get(f"{PAGE}?organ=aalborg:byraad").text
        assert 'data-testid="read-only"' in shown and "Tilføj mødet" not in shown
        assert "kan ikke skrives her" in shown
        version = re.search(r'name="tilfoej-version" value="([0-9a-f]+)"', page)
        assert version
        refused = d.client.post(
            f"{PAGE}/aalborg/byraad/tilfoej",
            data={
                "tilfoej-csrf_token": csrf_token(page),
                "tilfoej-version": version.group(1),
                "tilfoej-day": "2022-11-21",
                "tilfoej-reason": "Ekstra møde",
            },
        )
        assert refused.status_code == 409
        assert "kan ikke skrives her (den eller mappen er skrivebeskyttet)" in refused.text
        assert "Traceback" not in refused.text
    finally:
        calendar.parent.chmod(0o755)
    assert calendar.read_bytes() == original and d.events("calendar_changed") == []
    english = d.client.get(f"{PAGE}?organ=aalborg:byraad&lang=en").text
    assert "Meeting calendar 2022" in english and "Add the meeting" in english
