"""Councils' meeting calendars: the shipped 2022 example, next meetings, agenda deadlines and
the plan of an approval chain on them."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from tests.conftest import ROOT
from workflow.calendar import is_working_day
from workflow.councils import CYCLE, Meeting, agenda_deadline, load_calendars
from workflow.councils_plan import next_meeting, plan_parties, plan_steps
from workflow.loader import check_file, load_bundle

CALENDAR_2022 = ROOT / "definitions" / "calendars" / "2022.yaml"
PARTIES = load_bundle(ROOT / "definitions" / "processes" / "socialaftale.yaml").parties
CHAINS = {
    p.slug: ["regionsraad"] if p.kind == "region" else ["socialudvalg", "byraad"]
    for p in PARTIES.parties
}


def meeting(d: date, body: str = "byraad", days: int = 7) -> Meeting:
    return Meeting(d, "aalborg", body, "17:00", days)


def calendar_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "parties").mkdir()
    shutil.copy(ROOT / "definitions" / "parties" / "nordjylland.yaml", tmp_path / "parties")
    (tmp_path / "calendars").mkdir()
    path = tmp_path / "calendars" / "2022.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_2022_calendar_is_example_data_for_every_party() -> None:
    assert check_file(CALENDAR_2022) == []
    cal = load_calendars(CALENDAR_2022)
    assert (cal.year, cal.example) == (2022, True)
    assert set(cal.owners) == {*PARTIES.slugs, CYCLE}
    for party in PARTIES.parties:
        expected = {"regionsraad"} if party.kind == "region" else {"socialudvalg", "byraad"}
        assert set(cal.for_party(party.slug)) == expected
    assert set(cal.for_party(CYCLE)) == {"kkr", "das-social"}
    for (owner, body), meetings in cal.meetings.items():
        days = [m.date for m in meetings]
        assert all(is_working_day(d) and d.year == 2022 for d in days), (owner, body)
        if owner != CYCLE:  # monthly except July
            assert sorted({d.month for d in days}) == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]
    assert date(2022, 12, 14) in [m.date for m in cal.of("laeso", "byraad")]


def test_next_meeting_and_its_agenda_deadline() -> None:
    cal = load_calendars(CALENDAR_2022)
    m = next_meeting(cal, "aalborg", "byraad", date(2022, 11, 7))
    assert m is not None and (m.date, m.time) == (date(2022, 11, 28), "17:00")
    after = next_meeting(cal, "aalborg", "byraad", m.date)  # strictly after
    assert after is not None and after.date == date(2022, 12, 12)
    assert next_meeting(cal, "aalborg", "byraad", date(2022, 12, 12)) is None
    kkr = next_meeting(cal, CYCLE, "kkr", date(2022, 10, 1))
    assert kkr is not None and (kkr.date, kkr.agenda_deadline_days) == (date(2022, 11, 4), 14)
    assert agenda_deadline(m) == date(2022, 11, 21)  # seven days before
    # seven days before Monday 25 April 2022 is 2. påskedag: back over Easter to the Wednesday
    assert agenda_deadline(meeting(date(2022, 4, 25))) == date(2022, 4, 13)
    assert agenda_deadline(meeting(date(2022, 11, 28), days=0)) == date(2022, 11, 28)


def test_agenda_days_come_from_the_body_then_the_file_then_the_default(tmp_path: Path) -> None:
    path = calendar_file(
        tmp_path,
        "year: 2022\nparties: nordjylland\nagenda_deadline_days: {byraad: 14}\n"
        "councils:\n  aalborg:\n"
        "    socialudvalg: {meetings: [2022-11-14]}\n"
        "    byraad: {meetings: [2022-11-28]}\n"
        "  rebild:\n    byraad: {agenda_deadline_days: 3, meetings: [2022-11-28]}\n",
    )
    cal = load_calendars(path)
    assert cal.example is False
    assert cal.of("aalborg", "socialudvalg")[0].agenda_deadline_days == 10  # the default
    assert cal.of("aalborg", "byraad")[0].agenda_deadline_days == 14  # the file's, per body
    assert cal.of("rebild", "byraad")[0].agenda_deadline_days == 3  # the body's own
    assert cal.of("aalborg", "byraad")[0].time is None


def test_plan_steps_requests_each_step_for_the_first_meeting_with_an_open_agenda() -> None:
    calendars = {
        "socialudvalg": (
            meeting(date(2022, 11, 9), "socialudvalg"),
            meeting(date(2022, 11, 16), "socialudvalg"),
        ),
        "byraad": (meeting(date(2022, 11, 24)), meeting(date(2022, 12, 15))),
    }
    su, br = plan_steps(
        ["socialudvalg", "byraad"], calendars, date(2022, 11, 7), date(2022, 11, 30), 2
    )
    # the 9 November agenda closed on 2 November, before the stage opened: the 16th it is
    assert (su.request, su.meeting.date if su.meeting else None) == (
        date(2022, 11, 7),
        date(2022, 11, 16),
    )
    assert (su.agenda_deadline, su.deadline) == (date(2022, 11, 9), date(2022, 11, 18))
    # the byråd step is asked when the socialudvalg's minutes are in (18 Nov); the 24th's
    # agenda closed on the 17th, so it goes to the December meeting: after the stage deadline
    assert br.request == date(2022, 11, 18)
    assert br.meeting is not None and br.meeting.date == date(2022, 12, 15)
    assert br.deadline == date(2022, 12, 19)
    assert not su.late_for(date(2022, 11, 30)) and br.late_for(date(2022, 11, 30))


def test_plan_steps_without_a_calendar_keeps_the_stage_deadline() -> None:
    (step,) = plan_steps(["regionsraad"], {}, date(2022, 11, 5), date(2022, 11, 30), 2)
    assert (step.request, step.meeting, step.deadline, step.has_calendar) == (
        date(2022, 11, 7),  # the stage opened on a Saturday: asked on Monday
        None,
        date(2022, 11, 30),
        False,
    )
    assert not step.late_for(date(2022, 11, 30))


def test_plan_steps_with_no_meeting_left_cannot_plan_the_rest() -> None:
    calendars = {
        "socialudvalg": (meeting(date(2022, 10, 12), "socialudvalg"),),
        "byraad": (meeting(date(2022, 11, 28)),),
    }
    su, br = plan_steps(
        ["socialudvalg", "byraad"], calendars, date(2022, 11, 7), date(2022, 11, 30), 2
    )
    assert su.meeting is None and su.deadline is None and su.late_for(date(2022, 11, 30))
    assert br.request is None and br.meeting is None and br.late_for(date(2022, 11, 30))


def test_the_2022_example_flags_laeso_only() -> None:
    cal = load_calendars(CALENDAR_2022)
    plans = plan_parties(cal, CHAINS, date(2022, 11, 7), date(2022, 11, 30))
    assert [p.party for p in plans if p.at_risk] == ["laeso"]
    laeso = next(p for p in plans if p.party == "laeso")
    assert [s.meeting.date for s in laeso.steps if s.meeting] == [
        date(2022, 11, 16),
        date(2022, 12, 14),
    ]
    for p in plans:  # every first step is asked when the stage opens, in time for November
        first = p.steps[0]
        assert first.request == date(2022, 11, 7)
        assert first.meeting is not None and first.meeting.date.month == 11
        assert first.agenda_deadline is not None and first.agenda_deadline >= first.request
