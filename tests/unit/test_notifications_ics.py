"""The .ics written directly: RFC 5545 folding and escaping, the VTIMEZONE, parsed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from notifications.ics import build_ics
from notifications.outgoing import Recipient
from workflow.calendar import TZ
from workflow.ics_text import escape_text, fold, vtimezone

ATTENDEES = (
    Recipient('Søren "Ærø", formand; Læsø', "soeren@laeso.example"),
    Recipient("", "anon@laeso.example"),
    Recipient("Caret ^ and: colon", "caret@laeso.example"),
    *(Recipient(f"Medlem {i} for Hjørring Kommune", f"m{i}@hjoerring.example") for i in range(20)),
)
ORGANIZER = Recipient("Socialsekretariatet, KKR Nordjylland", "sek@kkr.example")


def context(**event: Any) -> dict[str, Any]:
    return {
        "process_id": 7,
        "stage_id": "dialogforum",
        "planned_at": "2022-04-04T07:00:00+00:00",
        "event": {
            "id": "dialogforum",
            "title": "Dialogforum; om aftalen, \\ del 2",
            "start": "2022-06-15T12:00:00+00:00",
            "end": "2022-06-15T15:00:00+00:00",
            "location": "Aalborg Kongres & Kultur Center, sal 1",
            "sequence": 1,
            **event,
        },
    }


DESCRIPTION = "Kære alle\n\nVelkommen; vi ses, håber jeg.\\ " + "Lang tekst med æøå og 🙂 " * 12


def test_the_calendar_parses_back_exactly() -> None:
    raw = build_ics(
        context(), attendees=ATTENDEES, organizer=ORGANIZER, domain="a.example",
        description=DESCRIPTION,
    )  # fmt: skip
    cal = icalendar.Calendar.from_ical(raw)
    assert cal["METHOD"] == "REQUEST" and cal["VERSION"] == "2.0"
    (ev,) = cal.walk("VEVENT")
    assert str(ev["SUMMARY"]) == "Dialogforum; om aftalen, \\ del 2"
    assert str(ev["LOCATION"]) == "Aalborg Kongres & Kultur Center, sal 1"
    assert str(ev["DESCRIPTION"]) == DESCRIPTION
    assert ev["DTSTART"].dt == datetime(2022, 6, 15, 12, tzinfo=UTC)
    assert ev["DTEND"].dt == datetime(2022, 6, 15, 15, tzinfo=UTC)
    assert ev["DTSTAMP"].dt == datetime(2022, 4, 4, 7, tzinfo=UTC)
    assert str(ev["UID"]) == "aftaleflow-p7-dialogforum-dialogforum@a.example"
    assert ev["SEQUENCE"] == 1 and str(ev["STATUS"]) == "CONFIRMED"
    assert str(ev["ORGANIZER"]) == "mailto:sek@kkr.example"
    assert ev["ORGANIZER"].params["CN"] == "Socialsekretariatet, KKR Nordjylland"
    people = [(str(a), a.params["CN"], a.params["RSVP"]) for a in ev["ATTENDEE"]]
    assert people == [(f"mailto:{r.email}", r.name or r.email, "TRUE") for r in ATTENDEES]


def test_lines_are_folded_at_75_octets_between_characters() -> None:
    raw = build_ics(
        context(), attendees=ATTENDEES, organizer=ORGANIZER, domain="a.example",
        description=DESCRIPTION,
    )  # fmt: skip
    assert raw.endswith(b"END:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "the description is folded"
    for line in lines:
        line.decode("utf-8")  # no character is split across two lines
    assert fold("X:" + "ø" * 100).replace("\r\n ", "") == "X:" + "ø" * 100 + "\r\n"


def test_text_escaping() -> None:
    assert escape_text("a;b,c\\d\r\ne\nf") == "a\\;b\\,c\\\\d\\ne\\nf"


@pytest.mark.parametrize("year", [2022, 2023, 2030])
def test_vtimezone_onsets_are_the_zoneinfo_transitions(year: int) -> None:
    cal = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + vtimezone(year) + "END:VCALENDAR\r\n"
    )
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Copenhagen"
    onsets: list[datetime] = []
    for part in tz.walk():
        if part.name not in ("STANDARD", "DAYLIGHT"):
            continue
        frm = part["TZOFFSETFROM"].td
        rdate = part.get("RDATE", [])
        rdates = rdate if isinstance(rdate, list) else [rdate]
        local = [part["DTSTART"].dt, *(d.dt for r in rdates for d in r.dts)]
        for moment in local:
            utc = (moment - frm).replace(tzinfo=UTC)  # the onset is given in the old offset
            if part["TZOFFSETFROM"].td != part["TZOFFSETTO"].td:
                onsets.append(utc)
                before, after = (utc - timedelta(seconds=1)).astimezone(TZ), utc.astimezone(TZ)
                assert before.utcoffset() == frm and after.utcoffset() == part["TZOFFSETTO"].td
                assert bool(after.dst()) == (part.name == "DAYLIGHT")
    # Two changes a year (summer time, winter time) over the three years around ``year``.
    assert len(onsets) == 6 and {o.year for o in onsets} == {year - 1, year, year + 1}


def test_a_winter_meeting_and_a_cancel() -> None:
    raw = build_ics(
        context(start="2022-12-07T08:00:00+00:00", end="2022-12-07T10:00:00+00:00",
                method="CANCEL", sequence=3),
        attendees=ATTENDEES[:1], organizer=ORGANIZER, domain="a.example",
    )  # fmt: skip
    assert b"DTSTART;TZID=Europe/Copenhagen:20221207T090000" in raw
    cal = icalendar.Calendar.from_ical(raw)
    (ev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and str(ev["STATUS"]) == "CANCELLED"
    assert ev["DTSTART"].dt == datetime(2022, 12, 7, 8, tzinfo=UTC) and ev["SEQUENCE"] == 3
    assert "DESCRIPTION" not in ev
