"""``aftaleflow migrate`` and ``aftaleflow simulate --from`` on the demo database as ``make
run`` leaves it (the demo process run up to 10 March 2022: DAS has met, KKR has not)."""

from __future__ import annotations

import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.acceptance.test_cli import aftaleflow
from tests.conftest import ROOT
from tests.whatif_support import run_demo_until
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import TABLES, EventRow, ProcessRow

KEY = "demo-socialaftale-2022"
UNTIL = datetime(2022, 3, 10, 12, 0, tzinfo=UTC)
NEW_QUESTION = """      - id: vision-eksempel
        type: text
        label: Giv et eksempel på egenmestring fra udvalgets kommune
        required: false
"""


@pytest.fixture
def demo_url(db_url: str) -> str:
    db = Database(db_url)
    run_demo_until(Service(db, link_secret="s" * 32), UNTIL)
    db.dispose()
    return db_url


def env_for(url: str, tmp_path: Path) -> dict[str, str]:
    return {"AFTALEFLOW_DATABASE_URL": url, "AFTALEFLOW_VAR_DIR": str(tmp_path / "var")}


def definitions_copy(tmp_path: Path) -> Path:
    root = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", root)
    return root


def with_new_question(tmp_path: Path) -> Path:
    q = definitions_copy(tmp_path) / "questionnaires" / "fagudvalg.yaml"
    body = q.read_text()
    anchor = "      - id: fokusomraader-prioritet\n"
    q.write_text(body.replace(anchor, NEW_QUESTION + anchor, 1))
    return q


def rows(url: str) -> dict[str, Any]:
    """Every row of every table the process has: what "changes nothing" compares."""
    db = Database(url)
    out: dict[str, Any] = {}
    with db.engine.connect() as conn:
        for name, table in TABLES.items():
            order = [c for c in table.primary_key.columns]
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    db.dispose()
    return out


def test_dry_run_prints_the_diff_and_the_mail_plan_and_changes_nothing(
    demo_url: str, tmp_path: Path
) -> None:
    before = rows(demo_url)
    q = with_new_question(tmp_path)

    result = aftaleflow("migrate", KEY, str(q), "--dry-run", env=env_for(demo_url, tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Spørgsmål:\n  + Nyt spørgsmål i fagudvalg: Giv et eksempel på egenmestring" in out
    m = re.search(r"Mailplanen resten af året: (\d+) mail\(s\) før, (\d+) efter\.", out)
    assert m and int(m[1]) > 100 and m[1] == m[2], out
    assert "Ingen mails forsvinder, kommer til eller flyttes." in out
    assert "--dry-run: intet er ændret." in out
    assert rows(demo_url) == before


def test_the_mail_plan_shows_the_mails_that_move(demo_url: str, tmp_path: Path) -> None:
    """The dialogue forum a week later: its invitations and its report move a week."""
    p = definitions_copy(tmp_path) / "processes" / "socialaftale.yaml"
    body = p.read_text()
    body = body.replace("      date: Y-06-15  # the third Wednesday of June", "      date: Y-06-22")
    body = body.replace(
        "    opens: Y-06-07\n    closes: Y-06-30", "    opens: Y-06-14\n    closes: Y-06-30"
    )
    p.write_text(body)

    result = aftaleflow("migrate", KEY, str(p), "--dry-run", env=env_for(demo_url, tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Socialpolitisk Dialogforum: Socialpolitisk Dialogforum onsdag den 15. juni 2022" in out
    assert re.search(r"^  Flyttes \(\d+\):$", out, re.M), out
    assert (
        "onsdag den 8. juni 2022  Rapport [rapport]  dialogforum → Aalborg Kommune "
        "(direktoer.social@aalborg.example)  → onsdag den 15. juni 2022" in out
    )


def test_apply_records_both_hashes_in_one_event(demo_url: str, tmp_path: Path) -> None:
    db = Database(demo_url)
    with db.sessions() as s:
        old_hash = s.scalar(select(ProcessRow.definition_hash).where(ProcessRow.key == KEY))
    q = with_new_question(tmp_path)

    result = aftaleflow(
        "migrate", KEY, str(q), "--reason", "udvalgene ønsker et eksempel",
        env=env_for(demo_url, tmp_path),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        events = s.scalars(select(EventRow).where(EventRow.kind == "definition_migrated")).all()
        assert "vision-eksempel" in row.definition_snapshot
    db.dispose()
    assert len(events) == 1
    ev = events[0]
    assert ev.data["old_hash"] == old_hash and ev.data["new_hash"] == row.definition_hash
    assert old_hash != row.definition_hash
    assert ev.reason == "udvalgene ønsker et eksempel"
    assert ev.data["changes"] == ["question added: fagudvalg-spoergsmaal.vision-eksempel"]
    assert f"(før {old_hash[:12]})" in result.stdout


def test_removing_a_completed_stage_is_refused_and_changes_nothing(
    demo_url: str, tmp_path: Path
) -> None:
    before = rows(demo_url)
    p = definitions_copy(tmp_path) / "processes" / "socialaftale.yaml"
    body = p.read_text()
    p.write_text(
        body[: body.index("  - id: das-fokus")] + body[body.index("  - id: kkr-igangsaetter") :]
    )

    for extra in (["--dry-run"], ["--reason", "DAS udgår"]):
        result = aftaleflow("migrate", KEY, str(p), *extra, env=env_for(demo_url, tmp_path))

        assert result.returncode == 2, result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        assert (
            "fasen 'das-fokus' er afsluttet; historien skrives ikke om, så en afsluttet fase "
            "kan ikke fjernes" in result.stderr.replace("\n", " ")
        ), result.stderr
        assert rows(demo_url) == before


def test_simulate_from_with_a_slip_prints_the_shifted_year_quickly(
    demo_url: str, tmp_path: Path
) -> None:
    before = rows(demo_url)

    result = aftaleflow(
        "simulate", "--from", KEY, "--slip", "kkr-igangsaetter=+3w",
        env=env_for(demo_url, tmp_path),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    # KKR's meeting of Friday 25 March three weeks later is Langfredag, 15 April: it rolls
    # to the next working day, Tuesday 19 April; the questionnaire follows the decision: sent
    # six working days after it, Wednesday 27 April
    assert "2022-04-19 tir 12:00  Resultat registreret (Godkendt)" in out, out
    assert re.search(r"^2022-04-27 ons 09:00  Invitation sendt → alle 12 parter$", out, re.M)
    assert "2022-04-04" not in out
    assert out.strip().endswith("(En kopi: den rigtige proces er ikke ændret.)")
    assert "processen er Afsluttet." in out
    assert rows(demo_url) == before


def test_simulate_from_with_a_slip_takes_under_five_seconds(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The command's own work, in this process (a subprocess adds the interpreter's start
    and the imports, about a second on a quiet machine)."""
    from aftaleflow.cli import main

    for name, value in env_for(demo_url, tmp_path).items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()

    code = main(["simulate", "--from", KEY, "--slip", "kkr-igangsaetter=+3w"])

    took = time.monotonic() - started
    assert code == 0
    assert "2022-04-19 tir 12:00  Resultat registreret (Godkendt)" in capsys.readouterr().out
    assert took < 5, f"took {took:.1f} s"


def test_simulate_from_without_a_slip_keeps_the_planned_dates(
    demo_url: str, tmp_path: Path
) -> None:
    result = aftaleflow(
        "simulate", "--from", KEY, "--late", "laeso", env=env_for(demo_url, tmp_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "2022-03-25 fre 12:00  Resultat registreret (Godkendt)" in out
    assert re.search(r"^2022-04-04 man 09:00  Invitation sendt → alle 12 parter$", out, re.M)
    assert re.search(r"Påmindelse sendt.* → Læsø Kommune$", out, re.M), out


def test_a_slip_of_a_completed_stage_is_refused(demo_url: str, tmp_path: Path) -> None:
    result = aftaleflow(
        "simulate", "--from", KEY, "--slip", "das-fokus=+1w", env=env_for(demo_url, tmp_path)
    )
    assert result.returncode == 2
    assert "fasen 'das-fokus' er afsluttet" in result.stderr
