"""An approval step's own deadline and recipients (issue 14): the pure parts."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from tests.conftest import ROOT
from workflow.councils import Meeting, load_calendars
from workflow.councils_plan import plan_steps
from workflow.definition import ApprovalStage
from workflow.loader import check_file, load_bundle
from workflow.step_plan import plan_requested_step

SOCIALAFTALE = ROOT / "definitions" / "processes" / "socialaftale.yaml"
CALENDAR_2022 = load_calendars(ROOT / "definitions" / "calendars" / "2022.yaml")
BYRAAD = (
    Meeting(date(2022, 11, 28), "aalborg", "byraad", "17:00", 7),
    Meeting(date(2022, 12, 12), "aalborg", "byraad", "17:00", 7),
)
NOV_30 = date(2022, 11, 30)


def test_a_step_is_due_two_working_days_after_the_first_meeting_with_an_open_agenda() -> None:
    on_time = plan_requested_step(BYRAAD, date(2022, 11, 16), NOV_30, 2)
    assert on_time is not None and on_time.meeting == BYRAAD[0]
    assert on_time.deadline == date(2022, 11, 30)
    assert on_time.event_data() == {
        "step_deadline": "2022-11-30",
        "meeting": "2022-11-28",
        "agenda_deadline": "2022-11-21",
    }
    # the agenda of 28 November closed on the 21st: asked on the 22nd, it is December's
    # meeting, and the deadline is after the stage's (the party is flagged, not told a past day)
    late = plan_requested_step(BYRAAD, date(2022, 11, 22), NOV_30, 2)
    assert late is not None and late.meeting == BYRAAD[1]
    assert late.deadline == date(2022, 12, 14)
    # the day the agenda closes is still in time
    last = plan_requested_step(BYRAAD, date(2022, 12, 5), NOV_30, 2)
    assert last is not None and last.meeting == BYRAAD[1]
    assert plan_requested_step(BYRAAD, date(2022, 11, 16), NOV_30, 0).deadline == date(2022, 11, 28)  # type: ignore[union-attr]


def test_without_a_calendar_the_stage_deadline_holds() -> None:
    assert plan_requested_step((), date(2022, 11, 16), NOV_30, 2) is None


def test_with_no_meeting_left_the_deadline_is_never_a_past_day() -> None:
    # the stage's deadline still ahead and far enough: it holds
    early = plan_requested_step(BYRAAD[:1], date(2022, 11, 22), date(2022, 12, 23), 2)
    assert early is not None and early.meeting is None
    assert early.deadline == date(2022, 12, 23)
    assert early.event_data() == {"step_deadline": "2022-12-23", "meeting": None}
    # the stage's deadline passed: ten working days from the request
    after = plan_requested_step(BYRAAD, date(2022, 12, 8), NOV_30, 2)
    assert after is not None and after.meeting is None
    assert after.deadline == date(2022, 12, 22)
    # over Christmas: 24, 25, 26 and 31 December are not working days
    xmas = plan_requested_step(BYRAAD, date(2022, 12, 20), NOV_30, 2)
    assert xmas is not None and xmas.deadline == date(2023, 1, 4)


def test_plan_steps_follows_the_days_the_steps_were_actually_asked() -> None:
    chain = ["socialudvalg", "byraad"]
    bodies = CALENDAR_2022.for_party("aalborg")
    planned = plan_steps(chain, bodies, date(2022, 11, 7), NOV_30, 2)
    assert [p.meeting.date for p in planned if p.meeting] == [
        date(2022, 11, 14),
        date(2022, 11, 28),
    ]
    # the socialudvalg decided only on 5 December: the byråd is asked then, for 12 December
    asked = plan_steps(chain, bodies, date(2022, 11, 7), NOV_30, 2, {"byraad": date(2022, 12, 5)})
    assert asked[0].meeting is not None and asked[0].meeting.date == date(2022, 11, 14)
    assert asked[1].meeting is not None and asked[1].meeting.date == date(2022, 12, 12)
    assert asked[1].deadline == date(2022, 12, 14) and asked[1].late_for(NOV_30)


def test_each_step_has_its_own_recipient_role() -> None:
    stage = load_bundle(SOCIALAFTALE, reference_year=2022).process.stage("politisk-godkendelse")
    assert isinstance(stage, ApprovalStage)
    assert stage.recipient_role("socialudvalg") == "committee_secretary"
    assert stage.recipient_role("byraad") == "council_secretariat"
    assert stage.minutes_working_days == 2
    plain = ApprovalStage.model_validate(
        {"id": "g", "kind": "approval", "name": "G", "opens": "Y-11-07", "deadline": "Y-11-30"}
    )
    assert plain.recipient_role("socialudvalg") == plain.recipients == "council_secretariat"


def _definitions(tmp_path: Path, right: str, wrong: str) -> Path:
    root = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", root)
    path = root / "processes" / "socialaftale.yaml"
    text = path.read_text(encoding="utf-8")
    assert right in text
    path.write_text(text.replace(right, wrong, 1), encoding="utf-8")
    return path


def test_check_names_a_step_no_chain_has_in_danish(tmp_path: Path) -> None:
    path = _definitions(
        tmp_path, "      kommune: [socialudvalg, byraad]", "      kommune: [byraad]"
    )
    (problem,) = check_file(path, reference_year=2022)
    assert problem.field.endswith("step_recipients.socialudvalg")
    assert "trinnet 'socialudvalg' er ikke med i nogen kæde" in problem.message
    assert problem.line is not None


def test_check_names_an_unknown_role_for_a_step(tmp_path: Path) -> None:
    path = _definitions(
        tmp_path, "      socialudvalg: committee_secretary", "      socialudvalg: borgmester"
    )
    (problem,) = check_file(path, reference_year=2022)
    assert problem.field.endswith("step_recipients.socialudvalg")
    assert "'borgmester' er ikke en af" in problem.message
