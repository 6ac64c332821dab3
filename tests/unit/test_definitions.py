"""The shipped definitions load clean; every broken definition is reported where it breaks.

The broken corpus lives in ``tests/definitions/broken/{processes,parties,questionnaires,calendars}``.
Each broken file starts with ``# expect: <substring of a problem message>`` and
``# line: <line of that problem>`` (and optionally ``# reference_year: <year>``). Files without
an ``# expect:`` line are valid fixtures that the broken processes reference.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from workflow.calendar import is_working_day, to_local
from workflow.definition import ApprovalStage, QuestionnaireStage
from workflow.errors import DefinitionError
from workflow.loader import check_file, load_bundle
from workflow.timeline import bind

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "definitions"
SOCIALAFTALE = DEFINITIONS / "processes" / "socialaftale.yaml"
RAMMEAFTALE_2018 = DEFINITIONS / "processes" / "rammeaftale-2018.yaml"
BROKEN = ROOT / "tests" / "definitions" / "broken"


def _header(path: Path) -> dict[str, str]:
    """The ``# key: value`` comment lines at the top of a corpus file."""
    found: dict[str, str] = {}
    raw = path.read_bytes()
    # the corpus holds files in UTF-16 and Windows-1252 too (their headers are plain ASCII)
    if raw.startswith(b"\xff\xfe"):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
    for line in text.splitlines():
        m = re.match(r"^# (expect|line|reference_year): (.*)$", line)
        if not m:
            break
        found[m[1]] = m[2]
    return found


CORPUS = sorted(BROKEN.rglob("*.yaml"))
BROKEN_FILES = [p for p in CORPUS if "expect" in _header(p)]
VALID_FIXTURES = [p for p in CORPUS if "expect" not in _header(p)]


def _rel(path: Path) -> str:
    return str(path.relative_to(BROKEN))


# --------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize(
    ("path", "year"),
    [(SOCIALAFTALE, 2022), (SOCIALAFTALE, 2026), (RAMMEAFTALE_2018, 2016)],
    ids=["socialaftale-2022", "socialaftale-2026", "rammeaftale-2018-2016"],
)
def test_shipped_process_loads_and_checks_clean(path: Path, year: int) -> None:
    bundle = load_bundle(path, reference_year=year)
    assert bundle.process.stages
    assert check_file(path, reference_year=year) == []
    bind(bundle, year)  # every date exists in that year


@pytest.mark.parametrize(
    "path",
    sorted((DEFINITIONS / "parties").glob("*.yaml"))
    + sorted((DEFINITIONS / "questionnaires").glob("*.yaml")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_shipped_parties_and_questionnaires_check_clean(path: Path) -> None:
    assert check_file(path) == []


def test_fagudvalg_questionnaire_has_the_report_questions_and_every_type() -> None:
    bundle = load_bundle(SOCIALAFTALE, reference_year=2022)
    q = bundle.questionnaires["fagudvalg"]
    ids = [x.id for x in q.questions]
    assert {"vision-egenmestring", "fokusomraader-prioritet"} <= set(ids)
    for stage in bundle.process.stages:
        if isinstance(stage, QuestionnaireStage):
            assert set(stage.report_questions) <= set(ids)
    assert {x.type for x in q.questions} == {
        "single_choice",
        "multiple_choice",
        "text",
        "scale",
        "file",
    }
    assert 8 <= len(q.questions) <= 14
    assert 3 <= len(q.sections) <= 5
    assert all(s.focus_area for s in q.sections)
    minutes = [x for x in q.questions if x.type == "file"]
    assert len(minutes) == 1 and not minutes[0].required


def test_rammeaftale_2018_follows_the_2016_17_timeline() -> None:
    bound = bind(load_bundle(RAMMEAFTALE_2018, reference_year=2016), 2016)
    event_days = {
        s.id: [to_local(e.start).date() for e in s.events] for s in bound.stages if s.events
    }
    assert event_days["kick-off"] == [date(2016, 10, 24)]
    assert event_days["workshop"] == [date(2017, 2, 6)]
    assert event_days["politisk-temadag"] == [date(2017, 4, 28)]
    assert event_days["das-maj"] == [date(2017, 5, 30)]
    assert event_days["kkr-juni"] == [date(2017, 6, 23)]
    assert event_days["das-august"] == [date(2017, 8, 18)]
    kinds = [s.kind for s in bound.stages]
    assert kinds.count("questionnaire") == 1 and kinds[-2:] == ["approval", "submission"]
    opens = [s.opens_at for s in bound.stages]
    assert opens == sorted(opens)
    questionnaire = next(s for s in bound.stages if s.kind == "questionnaire")
    assert questionnaire.send_at is not None and questionnaire.deadline is not None
    assert to_local(questionnaire.send_at).date() > date(2017, 2, 6)
    assert questionnaire.deadline < date(2017, 4, 28)
    approval = bound.stage("politisk-godkendelse").definition
    assert isinstance(approval, ApprovalStage)
    assert approval.chains == {"kommune": ["byraad"], "region": ["regionsraad"]}
    assert bound.title.startswith("Rammeaftale 2018")


# --------------------------------------------------------------------------- the 2022 timeline


def test_socialaftale_2022_stages_open_in_the_months_of_the_seed_timeline() -> None:
    bound = bind(load_bundle(SOCIALAFTALE, reference_year=2022), 2022)
    months = [to_local(s.opens_at).month for s in bound.stages]
    assert months == [1, 3, 4, 6, 9, 11, 11, 12]
    assert all(to_local(s.opens_at).year == 2022 for s in bound.stages)
    assert bound.title == "Nordjysk Socialaftale 2023-2024"


@pytest.mark.parametrize(
    ("path", "year"),
    [(SOCIALAFTALE, y) for y in (2022, 2024, 2026, 2028, 2030)] + [(RAMMEAFTALE_2018, 2016)],
)
def test_no_reminder_on_a_weekend_or_danish_holiday(path: Path, year: int) -> None:
    bound = bind(load_bundle(path, reference_year=year), year)
    checked = 0
    for stage in bound.stages:
        if stage.deadline is None or stage.rules is None:
            continue
        moments = list(bound.reminder_moments(stage, stage.deadline))
        escalation = bound.escalation_at(stage, stage.deadline)
        if escalation is not None:
            moments.append(escalation)
        for moment in moments:
            local = to_local(moment)
            assert is_working_day(local.date()), f"{stage.id}: {local} is not a working day"
            assert local.time() == bound.office_hour
            checked += 1
    assert checked >= 5


# --------------------------------------------------------------------------- broken corpus


def test_broken_corpus_covers_processes_parties_and_questionnaires() -> None:
    assert len(BROKEN_FILES) >= 24
    folders = {p.parent.name for p in BROKEN_FILES}
    assert folders == {"processes", "parties", "questionnaires", "calendars"}
    # the valid fixtures the broken processes resolve their references against
    assert (BROKEN / "parties" / "nordjylland.yaml") in VALID_FIXTURES
    assert (BROKEN / "questionnaires" / "fagudvalg.yaml") in VALID_FIXTURES


@pytest.mark.parametrize("path", VALID_FIXTURES, ids=_rel)
def test_valid_fixtures_in_the_corpus_check_clean(path: Path) -> None:
    assert check_file(path) == []


@pytest.mark.parametrize("path", BROKEN_FILES, ids=_rel)
def test_broken_definition_is_reported_at_its_line(path: Path) -> None:
    header = _header(path)
    expect, line = header["expect"], int(header["line"])
    year = int(header["reference_year"]) if "reference_year" in header else None

    problems = check_file(path, reference_year=year)

    assert problems, f"{_rel(path)} should not check clean"
    shown = "\n".join(str(p) for p in problems)
    for problem in problems:
        assert problem.line is not None, shown
        assert str(problem).startswith(f"{problem.file}:{problem.line}:"), shown
    matching = [p for p in problems if expect in p.message]
    assert matching, f"no problem mentions {expect!r}:\n{shown}"
    assert line in [p.line for p in matching], f"expected line {line}:\n{shown}"
    hit = next(p for p in matching if p.line == line)
    assert str(hit).startswith(f"{path}:{line}:")


def test_the_corpus_holds_files_that_are_not_utf8() -> None:
    assert (BROKEN / "processes" / "encoding-utf-16.yaml").read_bytes().startswith(b"\xff\xfe")
    with pytest.raises(UnicodeDecodeError):
        (BROKEN / "processes" / "encoding-windows-1252.yaml").read_text(encoding="utf-8")


def test_february_29_is_fine_in_a_leap_year() -> None:
    path = BROKEN / "processes" / "date-february-29-common-year.yaml"
    assert check_file(path, reference_year=2022)
    assert check_file(path, reference_year=2024) == []


# --------------------------------------------------------------------------- YAML pitfalls


def _with(tmp_path: Path, right: str, wrong: str) -> Path:
    """A copy of the shipped definitions with one line of socialaftale.yaml changed."""
    root = _copy_definitions(tmp_path)
    path = root / "processes" / "socialaftale.yaml"
    text = path.read_text(encoding="utf-8")
    assert right in text
    path.write_text(text.replace(right, wrong, 1), encoding="utf-8")
    return path


def test_an_unquoted_date_is_read_as_that_date(tmp_path: Path) -> None:
    unquoted = _with(tmp_path / "a", "    deadline: Y-11-30", "    deadline: 2022-11-30")
    quoted = _with(tmp_path / "b", "    deadline: Y-11-30", '    deadline: "2022-11-30"')

    assert check_file(unquoted) == []
    bundle = load_bundle(unquoted, reference_year=2022)
    stage = bundle.process.stage("politisk-godkendelse")
    assert isinstance(stage, ApprovalStage)
    assert stage.deadline == "2022-11-30"
    # exactly the same definition as the quoted date: same source, same hash
    assert bundle.hash == load_bundle(quoted, reference_year=2022).hash


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        ("2022-02-30", "'2022-02-30': dag 30 findes ikke i måned 2"),
        ("2022-13-01", "'2022-13-01': måned 13 findes ikke"),
        ("2022-02-30 09:00", "'2022-02-30 09:00' er ikke en dato"),
    ],
)
def test_an_unquoted_impossible_date_is_reported_at_its_line(
    tmp_path: Path, wrong: str, message: str
) -> None:
    path = _with(tmp_path, "    deadline: Y-11-30", f"    deadline: {wrong}")
    line = path.read_text(encoding="utf-8").splitlines().index(f"    deadline: {wrong}") + 1

    problems = check_file(path)

    assert [(p.line, p.message) for p in problems if message in p.message] == [
        (line, problems[0].message)
    ], "\n".join(map(str, problems))
    with pytest.raises(DefinitionError) as raised:
        load_bundle(path, reference_year=2022)
    assert f"{path}:{line}:" in str(raised.value)


def test_a_key_written_twice_names_both_lines(tmp_path: Path) -> None:
    path = _with(tmp_path, "    deadline: Y-11-30", "    deadline: Y-11-30\n    deadline: Y-11-27")
    first = path.read_text(encoding="utf-8").splitlines().index("    deadline: Y-11-30") + 1

    problems = check_file(path)

    assert [str(p) for p in problems] == [
        f"{path}:{first + 1}: [stages.6.deadline] nøglen 'deadline' står to gange samme "
        f"sted (linje {first} og {first + 1}); behold den ene"
    ]


def test_the_same_key_in_two_stages_is_fine() -> None:
    text = SOCIALAFTALE.read_text(encoding="utf-8")
    assert text.count("    deadline:") >= 2
    assert check_file(SOCIALAFTALE) == []


@pytest.mark.parametrize(
    ("encoding", "line", "message"),
    [
        ("cp1252", None, "filen er ikke UTF-8 (byte 0xf8 her, 'ø' i Windows-1252)"),
        ("utf-16", 1, "filen er gemt som UTF-16, ikke UTF-8"),
        ("utf-16-le", 1, "filen er gemt som UTF-16, ikke UTF-8"),
    ],
)
def test_a_file_not_in_utf8_says_where_and_to_save_it_as_utf8(
    tmp_path: Path, encoding: str, line: int | None, message: str
) -> None:
    root = _copy_definitions(tmp_path)
    path = root / "processes" / "socialaftale.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode(encoding))
    first_non_ascii = next(i for i, x in enumerate(text.splitlines(), 1) if not x.isascii())

    problems = check_file(path)

    assert len(problems) == 1, problems
    assert problems[0].line == (line or first_non_ascii)
    assert message in problems[0].message
    assert "gem filen som UTF-8" in problems[0].message


def test_a_bad_tagged_value_is_reported_at_its_line(tmp_path: Path) -> None:
    path = _with(tmp_path, "link_grace_days: 14", "link_grace_days: !!int fourteen")
    line = path.read_text(encoding="utf-8").splitlines().index("link_grace_days: !!int fourteen")

    problems = check_file(path)

    assert [(p.line, "'fourteen' kan ikke læses" in p.message) for p in problems] == [
        (line + 1, True)
    ]


# --------------------------------------------------------------------------- typo suggestions


def _copy_definitions(tmp_path: Path) -> Path:
    for folder in ("processes", "parties", "questionnaires"):
        shutil.copytree(DEFINITIONS / folder, tmp_path / folder)
    return tmp_path


@pytest.mark.parametrize(
    ("folder", "name", "right", "typo"),
    [
        ("processes", "socialaftale.yaml", "    deadline: Y-11-30", "    deadlin: Y-11-30"),
        ("processes", "socialaftale.yaml", "    reminders:", "    remindrs:"),
        ("processes", "socialaftale.yaml", "    opens: Y-06-07", "    oppens: Y-06-07"),
        ("processes", "socialaftale.yaml", "    closes: Y-10-31", "    closses: Y-10-31"),
        ("processes", "socialaftale.yaml", "link_grace_days: 14", "link_grace_dayz: 14"),
        ("processes", "socialaftale.yaml", "  office_hour:", "  ofice_hour:"),
        ("processes", "socialaftale.yaml", "    questionnaire: fag", "    questionaire: fag"),
        ("processes", "socialaftale.yaml", "      duration_minutes: 240", "      duration: 240"),
        ("parties", "nordjylland.yaml", "    contacts:", "    contact:"),
        ("questionnaires", "fagudvalg.yaml", "        help:", "        hlep:"),
        ("questionnaires", "fagudvalg.yaml", "        min_label:", "        minlabel:"),
    ],
)
def test_a_misspelt_key_gets_a_suggestion_of_the_right_key(
    tmp_path: Path, folder: str, name: str, right: str, typo: str
) -> None:
    root = _copy_definitions(tmp_path)
    path = root / folder / name
    text = path.read_text(encoding="utf-8")
    assert right in text
    text = text.replace(right, typo, 1)
    path.write_text(text, encoding="utf-8")
    typo_line = text[: text.index(typo)].count("\n") + 1
    wrong_key = typo.split(":")[0].strip()
    right_key = right.split(":")[0].strip()

    problems = check_file(path)

    unknown = [p for p in problems if f"ukendt nøgle {wrong_key!r}" in p.message]
    assert unknown, "\n".join(map(str, problems))
    assert f"mente du {right_key!r}?" in unknown[0].message
    assert unknown[0].line == typo_line
    assert str(unknown[0]).startswith(f"{path}:{typo_line}:")


def test_an_unknown_name_gets_a_suggestion_of_a_known_one() -> None:
    problems = check_file(BROKEN / "processes" / "unknown-kind-meting.yaml")
    assert any("mente du 'meeting'?" in p.message for p in problems)
    problems = check_file(BROKEN / "processes" / "unknown-role-invite.yaml")
    assert any("mente du 'director'?" in p.message for p in problems)
    problems = check_file(BROKEN / "processes" / "unknown-report-question.yaml")
    assert any("mente du 'fokusomraader-prioritet'?" in p.message for p in problems)


# --------------------------------------------------------------------------- bundle hash


def test_bundle_hash_is_stable_and_follows_every_file(tmp_path: Path) -> None:
    first = load_bundle(SOCIALAFTALE, reference_year=2022)
    second = load_bundle(SOCIALAFTALE, reference_year=2022)
    assert first.hash == second.hash
    assert re.fullmatch(r"[0-9a-f]{64}", first.hash)

    root = _copy_definitions(tmp_path)
    copy = root / "processes" / "socialaftale.yaml"
    assert load_bundle(copy, reference_year=2022).hash == first.hash  # the path is not hashed

    seen = {first.hash}
    edits = [
        (root / "processes" / "socialaftale.yaml", "link_grace_days: 14", "link_grace_days: 21"),
        (root / "parties" / "nordjylland.yaml", "name: Aalborg Kommune", "name: Aalborg"),
        (root / "questionnaires" / "fagudvalg.yaml", "version: 1", "version: 2"),
    ]
    for path, old, new in edits:
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        changed = load_bundle(copy, reference_year=2022)
        assert changed.hash not in seen, f"editing {path.name} did not change the hash"
        assert load_bundle(copy, reference_year=2022).hash == changed.hash
        seen.add(changed.hash)


def test_snapshot_round_trips_with_the_same_hash() -> None:
    bundle = load_bundle(SOCIALAFTALE, reference_year=2022)
    again = type(bundle).from_snapshot(bundle.snapshot())
    assert again.hash == bundle.hash
    assert again.process == bundle.process
