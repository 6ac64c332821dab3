"""``aftaleflow check --year`` and ``simulate``: dates on weekends and Danish holidays."""

from __future__ import annotations

import re
from pathlib import Path

from tests.acceptance.test_cli import aftaleflow
from tests.unit.test_roll import literal_copy

WARNING = re.compile(
    r"^(?P<file>[^:\n]+\.yaml):(?P<line>\d+): \[(?P<field>[^\]]+)\] advarsel: ", re.M
)


def test_check_2024_lists_the_literal_dates_hits_and_warns_about_meetings(tmp_path: Path) -> None:
    copy = literal_copy(tmp_path)
    result = aftaleflow("check", str(copy), "--year", "2024")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr  # warnings are not errors
    assert "Traceback" not in out + result.stderr
    assert (
        "mandag den 20. maj 2024 (Anden pinsedag): frist – Spørgsmål til de politiske udvalg "
        "→ tirsdag den 21. maj 2024 (flyttes til næste arbejdsdag)"
    ) in out
    assert "lørdag den 30. november 2024 (lørdag): frist" in out
    assert "→ mandag den 2. december 2024" in out
    warned = {m["field"]: int(m["line"]) for m in WARNING.finditer(out)}
    assert set(warned) == {
        "stages.0.meeting.date",
        "stages.3.meeting.date",
        "stages.4.workshops.0.date",
        "stages.4.workshops.1.date",
        "stages.4.workshops.2.date",
    }
    lines = copy.read_text(encoding="utf-8").splitlines()
    assert lines[warned["stages.0.meeting.date"] - 1].strip() == "date: Y-03-03"
    assert "søndag den 3. marts 2024" in out


def test_check_2024_of_the_shipped_definition_rolls_deadlines_and_warns_about_nothing() -> None:
    result = aftaleflow("check", "definitions/processes/socialaftale.yaml", "--year", "2024")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "advarsel" not in out
    assert "→ tirsdag den 21. maj 2024 (flyttes til næste arbejdsdag)" in out
    assert "→ fredag den 29. november 2024 (flyttes til forrige arbejdsdag)" in out
    assert "torsdag den 7. marts 2024: DAS Social – fokusområder og vision" in out


def test_errors_still_fail_with_a_year() -> None:
    result = aftaleflow(
        "check", "tests/definitions/broken/processes/roll-misspelt.yaml", "--year", "2024"
    )
    assert result.returncode == 1
    assert "mente du 'next_working_day'?" in result.stdout


def test_simulate_prints_the_date_report_first(tmp_path: Path) -> None:
    result = aftaleflow(
        "simulate",
        str(literal_copy(tmp_path)),
        "--year",
        "2024",
        env={"AFTALEFLOW_VAR_DIR": str(tmp_path / "var")},
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    report, _, year = out.partition("simulering")
    assert "advarsel: møde 'Socialpolitisk Dialogforum' ligger lørdag den 15. juni 2024" in report
    assert "Fase 1: DAS Social" in year
