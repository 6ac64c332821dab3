"""Working-day safe dates: weekday rules, rolls, and the report of dates on non-working days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import ROOT
from workflow.calendar import is_working_day, to_local
from workflow.loader import load_bundle
from workflow.roll import (
    apply_roll,
    date_hits,
    on_or_after_weekday,
    previous_working_day,
    weekday_placements,
)
from workflow.timeline import bind

SOCIALAFTALE = ROOT / "definitions" / "processes" / "socialaftale.yaml"
RAMMEAFTALE = ROOT / "definitions" / "processes" / "rammeaftale-2018.yaml"

#: The definition as it was before its dates had rules: seed 004's 2022 dates, kept literally.
LITERAL_DATES = {
    "date: Y-03-01  # the first Thursday of March": "date: Y-03-03",
    "date: Y-06-15  # the third Wednesday of June": "date: Y-06-15",
    "date: Y-09-15  # the third Wednesday of September": "date: Y-09-21",
    "date: Y-10-01  # the first Wednesday of October": "date: Y-10-05",
    "date: Y-10-25  # the last Wednesday of October": "date: Y-10-26",
}


def literal_copy(tmp_path: Path) -> Path:
    """A copy of the shipped socialaftale with literal dates and no weekday or roll rules."""
    text = SOCIALAFTALE.read_text(encoding="utf-8")
    for old, new in LITERAL_DATES.items():
        assert old in text
        text = text.replace(old, new)
    lines = [
        line for line in text.splitlines() if not line.strip().startswith(("weekday:", "roll:"))
    ]
    root = tmp_path / "definitions"
    for folder in ("parties", "questionnaires"):
        (root / folder).mkdir(parents=True)
        for f in (ROOT / "definitions" / folder).glob("*.yaml"):
            (root / folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "processes").mkdir()
    copy = root / "processes" / "socialaftale.yaml"
    copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return copy


def test_rolls_and_weekday_rules() -> None:
    whit_monday = date(2024, 5, 20)
    assert apply_roll(whit_monday, "next_working_day") == date(2024, 5, 21)
    assert apply_roll(whit_monday, "previous_working_day") == date(2024, 5, 17)
    assert apply_roll(whit_monday, "keep") == whit_monday
    assert previous_working_day(date(2022, 4, 18)) == date(2022, 4, 13)  # before Easter
    assert apply_roll(date(2022, 5, 20), "next_working_day") == date(2022, 5, 20)
    assert on_or_after_weekday(date(2024, 3, 1), "thursday") == date(2024, 3, 7)
    assert on_or_after_weekday(date(2022, 3, 3), "thursday") == date(2022, 3, 3)


def test_the_literal_2024_dates_are_the_hits_the_issue_names(tmp_path: Path) -> None:
    bundle = load_bundle(literal_copy(tmp_path), reference_year=2024)
    hits = {(h.what, h.written): h for h in date_hits(bundle.process, 2024)}
    meetings = {d for (what, d), h in hits.items() if what in ("meeting", "workshop")}
    assert meetings == {
        date(2024, 3, 3),  # DAS on a Sunday
        date(2024, 6, 15),  # the dialogue forum on a Saturday
        date(2024, 9, 21),  # and the three workshops on Saturdays
        date(2024, 10, 5),
        date(2024, 10, 26),
    }
    assert all(hits[k].warning and hits[k].rule == "keep" for k in hits if k[1] in meetings)
    # the questionnaire's deadline follows KKR's decision: eight weeks after its planned
    # meeting (Monday 25 March 2024) is 2. pinsedag, listed and rolled like a written date
    whit = hits[("deadline", date(2024, 5, 20))]
    assert (whit.reason, whit.outcome, whit.warning) == ("Anden pinsedag", date(2024, 5, 21), False)
    saturday = hits[("deadline", date(2024, 11, 30))]
    assert (saturday.reason, saturday.outcome) == ("lørdag", date(2024, 12, 2))
    # the default rolls moved the deadlines in the bound process too
    bound = bind(bundle, 2024)
    # KKR Monday 25 March 2024 + 8 weeks = 2. pinsedag, rolled to Tuesday 21 May
    assert bound.stage("fagudvalg-spoergsmaal").deadline == date(2024, 5, 21)
    assert bound.stage("politisk-godkendelse").deadline == date(2024, 12, 2)


def test_the_shipped_definition_keeps_seed_004s_2022_dates() -> None:
    bound = bind(load_bundle(SOCIALAFTALE, reference_year=2022), 2022)
    events = {e.id: to_local(e.start).date() for s in bound.stages for e in s.events}
    assert events == {
        "das-marts": date(2022, 3, 3),
        "kkr-marts": date(2022, 3, 25),
        "dialogforum": date(2022, 6, 15),
        "socialpsykiatri": date(2022, 9, 21),
        "den-gode-alderdom": date(2022, 10, 5),
        "effektive-loesninger": date(2022, 10, 26),
        "kkr-november": date(2022, 11, 4),
    }
    assert bound.stage("fagudvalg-spoergsmaal").deadline == date(2022, 5, 20)
    assert bound.stage("politisk-godkendelse").deadline == date(2022, 11, 30)


def test_the_shipped_definition_in_2024_meets_on_weekdays() -> None:
    bundle = load_bundle(SOCIALAFTALE, reference_year=2024)
    bound = bind(bundle, 2024)
    events = {e.id: to_local(e.start).date() for s in bound.stages for e in s.events}
    assert events["das-marts"] == date(2024, 3, 7)  # the first Thursday of March
    assert events["dialogforum"] == date(2024, 6, 19)
    assert [
        events[w] for w in ("socialpsykiatri", "den-gode-alderdom", "effektive-loesninger")
    ] == [
        date(2024, 9, 18),
        date(2024, 10, 2),
        date(2024, 10, 30),
    ]
    # eight weeks after KKR's Monday 25 March 2024: 2. pinsedag, rolled to Tuesday 21 May
    assert bound.stage("fagudvalg-spoergsmaal").deadline == date(2024, 5, 21)
    assert bound.stage("politisk-godkendelse").deadline == date(2024, 11, 29)  # still November
    assert not [h for h in date_hits(bundle.process, 2024) if h.warning]
    placed = {w.field: w.day for w in weekday_placements(bundle.process, 2024)}
    assert placed["stages.0.meeting.date"] == date(2024, 3, 7)


@pytest.mark.parametrize(
    ("path", "year"),
    [(SOCIALAFTALE, y) for y in (2022, 2024, 2026)]
    + [(RAMMEAFTALE, y) for y in (2016, 2022, 2024, 2026)],
)
def test_every_bound_date_people_act_on_is_a_working_day(path: Path, year: int) -> None:
    bundle = load_bundle(path, reference_year=year)
    bound = bind(bundle, year)
    days: list[tuple[str, date]] = []
    for s in bound.stages:
        days.append((f"{s.id} opens", to_local(s.opens_at).date()))
        if s.send_at:
            days.append((f"{s.id} send", to_local(s.send_at).date()))
        if s.deadline:
            days.append((f"{s.id} deadline", s.deadline))
            days += [
                (f"{s.id} reminder", to_local(m).date())
                for m in bound.reminder_moments(s, s.deadline)
            ]
            esc = bound.escalation_at(s, s.deadline)
            if esc:
                days.append((f"{s.id} escalation", to_local(esc).date()))
        days += [(f"{s.id} {e.id}", to_local(e.start).date()) for e in s.events]
    bad = [(what, d) for what, d in days if not is_working_day(d)]
    assert bad == []
    assert len(days) > 20
    assert not [h for h in date_hits(bundle.process, year) if h.warning]
