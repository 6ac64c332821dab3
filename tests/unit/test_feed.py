"""What the secretariat's calendar holds, decided without I/O: meetings timed, deadlines all-day,
reminders per moment naming the parties still waiting; a cancelled stage holds nothing."""

from __future__ import annotations

from datetime import date

from tests.conftest import ROOT
from workflow.approval_risk import approval_risks
from workflow.calendar import to_local
from workflow.councils import load_calendars
from workflow.feed import FeedTask, process_entries
from workflow.loader import Bundle
from workflow.timeline import bind

Q = "fagudvalg-spoergsmaal"


def test_a_year_planned_ahead(socialaftale: Bundle) -> None:
    bound = bind(socialaftale, 2022)
    names = {p.slug: p.name for p in socialaftale.parties.parties}
    found = process_entries("k", bound, {}, [], names)
    assert [e.kind for e in found].count("meeting") == 7  # DAS, 2 × KKR, forum, 3 workshops
    reminders = [e for e in found if e.kind == "reminder" and e.stage == Q]
    assert [to_local(e.start).date() for e in reminders if e.start] == [
        date(2022, 5, 10),
        date(2022, 5, 18),
        date(2022, 5, 23),
    ]
    assert all(len(e.parties) == 12 for e in reminders)
    assert [e.day for e in found if e.kind == "deadline"] == [date(2022, 5, 20), date(2022, 11, 30)]
    assert found == sorted(found, key=lambda e: e.sort_key)


def test_an_open_stage_reminds_only_who_waits_and_a_cancelled_one_nothing(
    socialaftale: Bundle,
) -> None:
    bound = bind(socialaftale, 2022)
    tasks = [
        FeedTask(Q, "aalborg", "submitted", date(2022, 5, 20), 0),
        FeedTask(Q, "laeso", "invited", date(2022, 5, 20), 1),  # one reminder already sent
    ]
    found = process_entries("k", bound, {Q: "open"}, tasks, {"laeso": "Læsø Kommune"})
    reminders = [e for e in found if e.kind == "reminder" and e.stage == Q]
    assert [(to_local(e.start).date(), e.parties) for e in reminders if e.start] == [
        (date(2022, 5, 18), ("Læsø Kommune",)),
        (date(2022, 5, 23), ("Læsø Kommune",)),
    ]
    cancelled = process_entries("k", bound, {Q: "cancelled"}, tasks, {})
    assert not [e for e in cancelled if e.stage == Q]


def test_an_extension_past_the_council_meeting_takes_the_party_off_the_risk_list(
    socialaftale: Bundle,
) -> None:
    bound = bind(socialaftale, 2022)
    calendars = load_calendars(ROOT / "definitions" / "calendars" / "2022.yaml")
    stage = "politisk-godkendelse"

    def risky(steps: dict[tuple[str, str, str], tuple[str, date | None]]) -> list[str]:
        found = approval_risks(bound, calendars, steps, agreement_up=True, today=date(2022, 10, 3))
        return [p.party for sr in found for p in sr.at_risk]

    assert risky({}) == ["laeso"]  # its byråd meets on 14 December, after 30 November
    extended = {(stage, "laeso", "byraad"): ("pending", date(2022, 12, 16))}
    assert risky(extended) == []
    approved = {(stage, "laeso", "byraad"): ("approved", None)}
    assert risky(approved) == []
