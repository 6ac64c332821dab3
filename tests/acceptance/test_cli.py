"""The real ``aftaleflow`` command as a user runs it: subprocesses, real files, real output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BROKEN = sorted((ROOT / "tests" / "definitions" / "broken").rglob("*.yaml"))
BROKEN = [p for p in BROKEN if p.name not in ("nordjylland.yaml", "fagudvalg.yaml")]
LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+): .+", re.M)


def aftaleflow(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aftaleflow", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_reports_every_broken_definition_with_file_and_line() -> None:
    assert len(BROKEN) >= 20
    result = aftaleflow("check", *map(str, BROKEN))
    assert result.returncode == 1
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    reported = {Path(m["file"]).resolve() for m in LINE.finditer(out)}
    missing = [p.name for p in BROKEN if p.resolve() not in reported]
    assert missing == [], f"no file:line message for {missing}"
    assert "mente du" in out and "did you mean" not in out


@pytest.mark.parametrize("command", ["check", "start", "simulate"])
@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("date-unquoted-february-30.yaml", 54, "'2022-02-30': dag 30 findes ikke i måned 2"),
        ("date-unquoted-month-13.yaml", 54, "'2022-13-01': måned 13 findes ikke"),
        ("duplicate-key-deadline.yaml", 55, "nøglen 'deadline' står to gange"),
        ("encoding-windows-1252.yaml", 17, "gem filen som UTF-8"),
        ("encoding-utf-16.yaml", 1, "gem filen som UTF-8"),
    ],
)
def test_every_command_reports_a_yaml_pitfall_at_its_line(
    tmp_path: Path, command: str, name: str, line: int, message: str
) -> None:
    path = ROOT / "tests" / "definitions" / "broken" / "processes" / name
    env = {
        "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    years = [] if command == "check" else ["--year", "2022"]

    result = aftaleflow(command, str(path), *years, env=env)

    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert f"{path}:{line}:" in out and message in out, out
    assert not (tmp_path / "a.db").exists()  # nothing started, nothing written


def test_check_passes_the_shipped_definitions() -> None:
    files = sorted((ROOT / "definitions").rglob("*.yaml"))
    result = aftaleflow("check", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok") == len(files)


def test_simulate_2022_prints_the_year_in_the_order_of_seed_004() -> None:
    result = aftaleflow(
        "simulate",
        "definitions/processes/socialaftale.yaml",
        "--year",
        "2022",
        "--late",
        "laeso,morso",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    stages = re.findall(r"^(\d{4}-\d{2})-\d{2} \w+ \d\d:\d\d  Fase (\d): ", out, re.M)
    assert [(m, int(n)) for m, n in stages] == [
        ("2022-01", 1),
        ("2022-03", 2),
        ("2022-04", 3),
        ("2022-06", 4),
        ("2022-09", 5),
        ("2022-11", 6),
        ("2022-11", 7),
        ("2022-12", 8),
    ]
    assert "Invitation sendt → alle 12 parter" in out
    for line in re.findall(r"^.*(?:Påmindelse sendt|Eskaleret).*$", out, re.M):
        assert re.match(r"^\d{4}-\d{2}-\d{2} (man|tir|ons|tor|fre) 09:00", line), line
        if line < "2022-11-07":  # the questionnaire: only the late parties are reminded
            assert "Læsø" in line or "Morsø" in line, line
            assert not re.search(r"Aalborg|Hjørring|Thisted|Region", line), line
        else:  # each council's step is due after its own meeting: every council is reminded
            assert re.search(r"\[(Socialudvalg|Byråd|Regionsråd)\]", line), line
    assert "nedetid" not in out  # nothing is caught up: the simulation ticks on time
    # each step is asked for the council's next meeting: Læsø's byråd meets on 14 December
    assert re.search(r"^2022-12-1\d \w+ 10:00  Godkendelse registreret \[Byråd\] → Læsø", out, re.M)
    assert re.search(r"Eskaleret til direktør → Læsø Kommune, Morsø Kommune", out)
    submitted = out.index("Aftalen fremsendt")
    assert out.rindex("Godkendelse registreret") < submitted
    assert out.strip().endswith("processen er Afsluttet.")
    # no approval without an agreement: the simulated secretariat puts the shipped sample up
    # just before the approval stage, and the submission carries it
    put_up = re.search(
        r"^2022-11-07 man 08:59  Aftalen sendt til godkendelse \(eksempel-aftale\.pdf, "
        r"version 1, SHA-256 ([0-9a-f]{12})\)$",
        out,
        re.M,
    )
    assert put_up, out
    assert put_up.start() < out.index("Anmodning om godkendelse sendt")
    assert re.search(
        rf"Aftalen fremsendt \(vedhæftet: eksempel-aftale\.pdf \(version 1, SHA-256 "
        rf"{put_up.group(1)}\)\)",
        out,
    ), out


def test_simulate_the_2016_17_cycle() -> None:
    result = aftaleflow("simulate", "definitions/processes/rammeaftale-2018.yaml", "--year", "2016")
    assert result.returncode == 0, result.stderr
    assert "2016-10-24" in result.stdout
    assert "Aftalen fremsendt" in result.stdout
    assert result.stdout.strip().endswith("processen er Afsluttet.")


@pytest.mark.parametrize(
    "args, message",
    [
        (("simulate", "definitions/processes/nope.yaml", "--year", "2022"), "filen findes ikke"),
        (
            (
                "simulate",
                "definitions/processes/socialaftale.yaml",
                "--year",
                "2022",
                "--late",
                "laso",
            ),
            "mente du 'laeso'",
        ),
        (("status",), "aftaleflow init"),
        (("tick", "--at", "tomorrow"), "er ikke et tidspunkt"),
    ],
)
def test_errors_are_one_clear_message_without_a_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env = {
        "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db",
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    result = aftaleflow(*args, env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert message in result.stdout + result.stderr


def test_a_process_from_the_command_line(tmp_path: Path) -> None:
    env = {
        "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    assert aftaleflow("init", env=env).returncode == 0
    started = aftaleflow(
        "start",
        "definitions/processes/socialaftale.yaml",
        "--year",
        "2022",
        "--at",
        "2022-01-03T08:00",
        env=env,
    )
    assert started.returncode == 0, started.stderr
    assert "socialaftale-2022" in started.stdout
    tick = aftaleflow("tick", "--at", "2022-01-10T09:00", env=env)
    assert "Fase åbnet" in tick.stdout
    rec = aftaleflow(
        "record", "outcome", "das-fokus", "--outcome", "held", "--at", "2022-03-03T16:00", env=env
    )
    assert rec.returncode == 0, rec.stderr
    wrong = aftaleflow("record", "outcome", "das-fokus", "--outcome", "held", env=env)
    assert (
        wrong.returncode == 2
        and "et resultat kan kun registreres, mens den er åben" in wrong.stderr
    )
    status = aftaleflow("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "Nordjysk Socialaftale 2023-2024" in status.stdout
    assert "Læsø Kommune" in status.stdout and "Ikke inviteret" in status.stdout
    assert "Afsluttet" in status.stdout  # stage 1
    diagram = aftaleflow("diagram", "questionnaire_task", env=env)
    assert "overdue --> late: submit" in diagram.stdout


def test_kkrs_late_decision_with_its_focus_areas_from_the_command_line(tmp_path: Path) -> None:
    env = {
        "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    assert aftaleflow("init", env=env).returncode == 0
    definition = "definitions/processes/socialaftale.yaml"
    started = aftaleflow("start", definition, "--year", "2022", "--at", "2022-01-03T08:00", env=env)
    assert started.returncode == 0, started.stderr
    for args in (
        ("tick", "--at", "2022-01-10T09:00"),
        ("record", "outcome", "das-fokus", "--outcome", "held", "--at", "2022-03-03T16:00"),
        ("tick", "--at", "2022-04-19T09:00"),
    ):
        assert aftaleflow(*args, env=env).returncode == 0
    waiting = aftaleflow("status", "--at", "2022-04-19", env=env, cwd=ROOT)
    assert "afventer KKR's beslutning" in waiting.stdout.replace("\n", " ").replace("│", "")
    kkr = ("record", "outcome", "kkr-igangsaetter", "--outcome", "approved")
    late = ("--at", "2022-04-19T10:00")
    without = aftaleflow(*kkr, *late, env=env)
    assert without.returncode == 2 and "Fokusområder: vælg 1 til 5 (valgt: 0)" in without.stderr
    chosen = "focus_areas=socialpsykiatri,velfaerdsteknologi,rehabilitering"
    recorded = aftaleflow(*kkr, "--value", chosen, *late, env=env)
    assert recorded.returncode == 0, recorded.stderr
    assert "focus_areas: socialpsykiatri, velfaerdsteknologi, rehabilitering" in recorded.stdout
    moved = aftaleflow("status", "--at", "2022-04-19", env=env)
    assert "2022-06-14" in moved.stdout  # eight weeks after the decision, not 20 May
    assert "afventer" not in moved.stdout
