"""A broken ``send_report`` in a process definition is reported in Danish, like every other
definition problem: file, line and field, and a Danish sentence (``workflow.forum_checks``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DEFINITIONS, SOCIALAFTALE
from workflow.errors import DefinitionError
from workflow.loader import load_bundle

FORUM = 3  # the index of the stage "dialogforum" in the shipped definition
GOOD = "    invite: [director]\n    send_report:"
SOURCE = "      source: fagudvalg-spoergsmaal\n"


def _broken(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """The shipped definition with ``changes``, beside copies of its parties and questionnaires."""
    for folder in ("parties", "questionnaires"):
        shutil.copytree(DEFINITIONS / folder, tmp_path / folder)
    text = SOCIALAFTALE.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "processes" / "socialaftale.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> dict[str, tuple[int | None, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_bundle(path, reference_year=2022)
    return {p.field: (p.line, p.message) for p in caught.value.problems}


def _line(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text.rstrip("\n")) + 1


def test_a_misspelt_source_and_no_invitees_are_reported_in_danish(tmp_path: Path) -> None:
    typo = "      source: fagudvalg-spoergsmal\n"
    path = _broken(tmp_path, (GOOD, "    invite: []\n    send_report:"), (SOURCE, typo))
    found = _problems(path)
    assert found[f"stages.{FORUM}.send_report.source"] == (
        _line(path, typo),
        "ukendt fase 'fagudvalg-spoergsmal'; mente du 'fagudvalg-spoergsmaal'?",
    )
    assert found[f"stages.{FORUM}.send_report"][1] == (
        "send_report mailer fasens inviterede; angiv rollerne under 'invite'"
    )
    assert "unknown" not in str(found) and "stage" not in str(found).replace("stages.", "")


def test_a_source_that_is_not_a_questionnaire_says_which_stages_are(tmp_path: Path) -> None:
    path = _broken(tmp_path, (SOURCE, "      source: das-fokus\n"))
    line, message = _problems(path)[f"stages.{FORUM}.send_report.source"]
    assert line == _line(path, "      source: das-fokus")
    assert message == (
        "fasen 'das-fokus' er møde; rapporten samles af svarene i en spørgeskemafase "
        "(fagudvalg-spoergsmaal)"
    )


def test_negative_working_days_are_reported_in_danish(tmp_path: Path) -> None:
    days = "      working_days_before: 5\n"
    path = _broken(tmp_path, (SOURCE + days, SOURCE + "      working_days_before: -2\n"))
    line, message = _problems(path)[f"stages.{FORUM}.send_report.working_days_before"]
    assert line == _line(path, "      working_days_before: -2")
    assert message.endswith("working_days_before tæller arbejdsdage og kan ikke være negativ")
