"""``aftaleflow calendar import`` and ``calendar risks`` as a user runs them."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

import icalendar

from tests.acceptance.test_cli import aftaleflow
from tests.conftest import ROOT
from tests.integration.ics_server import Served, closed_port, ics_server
from tests.unit.test_councils_ics import byraad_ics
from workflow.calendar import TZ
from workflow.councils import load_calendars


def definitions_copy(tmp_path: Path) -> Path:
    root = tmp_path / "definitions"
    for folder in ("parties", "calendars"):
        shutil.copytree(ROOT / "definitions" / folder, root / folder)
    return root / "calendars" / "2022.yaml"


def test_import_replaces_one_body_and_keeps_the_rest(tmp_path: Path) -> None:
    target = definitions_copy(tmp_path)
    before = load_calendars(target)
    ics = tmp_path / "aalborg-byraad.ics"
    ics.write_bytes(byraad_ics())
    result = aftaleflow(
        "calendar", "import", str(ics), "--party", "aalborg", "--body", "byraad",
        "--year", "2022", "--calendars", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 møde(r) for aalborg byraad i 2022" in result.stdout
    after = load_calendars(target)
    days = [m.date for m in after.of("aalborg", "byraad")]
    assert days[0] == date(2022, 1, 31) and date(2022, 12, 12) in days and len(days) == 11
    assert {m.time for m in after.of("aalborg", "byraad")} == {"17:00"}
    for key, meetings in before.meetings.items():
        if key != ("aalborg", "byraad"):
            assert after.meetings[key] == meetings, key
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Councils' meeting calendars (mødeplaner) for 2022: EXAMPLE DATA")
    assert not list(target.parent.glob(".*.tmp"))


def test_import_into_a_new_file_for_a_cycle_body(tmp_path: Path) -> None:
    target = definitions_copy(tmp_path).with_name("2023.yaml")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//KKR Nordjylland//Mødeplan//DA")
    cal.add("version", "2.0")
    for day in (date(2023, 3, 24), date(2023, 6, 16), date(2023, 11, 3)):
        ev = icalendar.Event()
        ev.add("uid", f"kkr-{day}@kkr.example")
        ev.add("dtstart", datetime.combine(day, time(9, 0), tzinfo=TZ))
        ev.add("dtstamp", datetime(2022, 12, 1, tzinfo=TZ))
        cal.add_component(ev)
    ics = tmp_path / "kkr.ics"
    ics.write_bytes(cal.to_ical())
    result = aftaleflow(
        "calendar", "import", str(ics), "--party", "cycle", "--body", "kkr",
        "--year", "2023", "--calendars", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    kkr = load_calendars(target)
    assert kkr.year == 2023 and [m.date for m in kkr.of("cycle", "kkr")] == [
        date(2023, 3, 24),
        date(2023, 6, 16),
        date(2023, 11, 3),
    ]
    assert {m.time for m in kkr.of("cycle", "kkr")} == {"09:00"}


def test_import_errors_change_nothing(tmp_path: Path) -> None:
    target = definitions_copy(tmp_path)
    original = target.read_text(encoding="utf-8")
    ics = tmp_path / "byraad.ics"
    ics.write_bytes(byraad_ics())
    saturday = tmp_path / "saturday.ics"
    saturday.write_bytes(byraad_ics().replace(b"20221212T170000", b"20221210T170000"))
    html = tmp_path / "plan.ics"
    html.write_text("<html>Mødeplan</html>", encoding="utf-8")
    cases = [
        (("--party", "aalborgg", "--body", "byraad"), str(ics), 1, "mente du 'aalborg'?"),
        (
            ("--party", "region-nordjylland", "--body", "byraad"),
            str(ics),
            1,
            "en region har ingen byraad",
        ),
        (("--party", "aalborg", "--body", "kkr"), str(ics), 2, "skriv --party cycle"),
        (
            ("--party", "aalborg", "--body", "byraad"),
            str(saturday),
            2,
            "lørdag den 10. december 2022",
        ),
        (("--party", "aalborg", "--body", "byraad"), str(html), 2, "er ikke en iCalendar-fil"),
        (
            ("--party", "aalborg", "--body", "byraad"),
            str(tmp_path / "nope.ics"),
            2,
            "kan ikke læses",
        ),
    ]
    for options, file, code, message in cases:
        result = aftaleflow(
            "calendar", "import", file, *options, "--year", "2022", "--calendars", str(target)
        )
        out = result.stdout + result.stderr
        assert result.returncode == code, out
        assert message in out, out
        assert "Traceback" not in out
        assert target.read_text(encoding="utf-8") == original
        assert not list(target.parent.glob(".*.tmp"))


def test_risks_2022_plans_every_step_and_flags_laeso() -> None:
    result = aftaleflow(
        "calendar", "risks", "definitions/processes/socialaftale.yaml", "--year", "2022"
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.startswith("Mødeplan 2022 (eksempeldata)")
    assert "frist onsdag den 30. november 2022" in out
    laeso = out.split("Læsø Kommune: ")[1].split("\n  ", 3)
    assert laeso[0] == "RISIKO"
    assert "Byråd: møde onsdag den 14. december 2022 ← efter fasens frist" in out
    assert "Aalborg Kommune: ok" in out
    assert (
        "Socialudvalg: møde mandag den 14. november 2022; anmodes mandag den 7. november 2022, "
        "dagsordensfrist mandag den 7. november 2022" in out
    )
    assert "Regionsråd: møde tirsdag den 29. november 2022" in out
    assert out.count(": RISIKO") == 1 and out.count(": ok") == 11
    assert "1 af 12 parter kan ikke nå fristen: Læsø Kommune" in out


def test_risks_without_a_calendar_file_is_one_clear_error(tmp_path: Path) -> None:
    result = aftaleflow(
        "calendar", "risks", "definitions/processes/socialaftale.yaml", "--year", "2024",
        "--calendars", str(tmp_path / "2024.yaml"),
    )  # fmt: skip
    assert result.returncode == 1
    assert "2024.yaml: filen findes ikke" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_status_flags_a_council_that_meets_after_the_deadline_months_ahead(tmp_path: Path) -> None:
    env = {
        "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    assert aftaleflow("init", env=env).returncode == 0
    started = aftaleflow(
        "start", "definitions/processes/socialaftale.yaml", "--year", "2022",
        "--at", "2022-01-03T08:00", env=env,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    ahead = aftaleflow("status", "--at", "2022-10-03", env=env)  # eight weeks before 30 Nov
    assert ahead.returncode == 0, ahead.stderr
    assert "Risiko i godkendelsen: Læsø Kommune kan ikke nå fristen efter mødeplanen" in (
        " ".join(ahead.stdout.split())
    )
    assert "Aalborg Kommune kan" not in ahead.stdout


def test_import_from_a_url_served_on_loopback(tmp_path: Path) -> None:
    """The byråd's feed, as icalendar writes it (monthly RRULE, July as EXDATE, December
    moved), fetched from a real HTTP server; then the errors a user meets with an address."""
    target = definitions_copy(tmp_path)
    before = load_calendars(target)
    html = "<html>Byrådets mødeplan</html>".encode()
    paths = {
        "/aalborg/byraad.ics": Served(byraad_ics()),
        "/moedeplan.html": Served(html, content_type="text/html"),
    }
    common = ("--party", "aalborg", "--body", "byraad", "--year", "2022")
    with ics_server(paths) as server:
        result = aftaleflow(
            "calendar", "import", "--url", f"{server.url}/aalborg/byraad.ics", *common,
            "--calendars", str(target),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "11 møde(r) for aalborg byraad i 2022" in result.stdout
        after = load_calendars(target)
        days = [m.date for m in after.of("aalborg", "byraad")]
        assert len(days) == 11 and not [d for d in days if d.month == 7]
        assert date(2022, 12, 12) in days and date(2022, 12, 26) not in days
        assert after.of("laeso", "byraad") == before.of("laeso", "byraad")
        imported = target.read_text(encoding="utf-8")

        cases = [
            (f"{server.url}/moedeplan.html", "er ikke en iCalendar-fil"),
            (f"{server.url}/gone.ics", "svarede med fejl 404"),
            (f"http://127.0.0.1:{closed_port()}/byraad.ics", "kan ikke hentes"),
            ("file:///etc/hosts", "er ikke en http- eller https-adresse"),
        ]
        for url, message in cases:
            result = aftaleflow(
                "calendar", "import", "--url", url, *common, "--calendars", str(target)
            )
            out = result.stdout + result.stderr
            assert result.returncode == 2, out
            assert message in out and url in out, out
            assert "Traceback" not in out
            assert target.read_text(encoding="utf-8") == imported
        both = aftaleflow(
            "calendar", "import", "plan.ics", "--url", f"{server.url}/aalborg/byraad.ics",
            *common, "--calendars", str(target),
        )  # fmt: skip
        assert both.returncode == 2 and "angiv enten en .ics-fil eller --url" in both.stderr
    assert not list(target.parent.glob(".*.tmp"))
