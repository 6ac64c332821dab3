"""Councils' .ics calendars, written here with ``icalendar``, read back as meetings in Danish
time: monthly recurrences with exception dates, a moved meeting, DST, UTC and all-day events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from workflow.calendar import TZ
from workflow.councils_ics import CalendarImportError, meetings_from_ics


def byraad_ics() -> bytes:
    """The byråd meets the last Monday of the month at 17:00 Danish time; not in July (EXDATE),
    and December's meeting is moved from the 26th to the 12th (RECURRENCE-ID)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Aalborg Kommune//Mødeplan//DA")
    cal.add("version", "2.0")
    series = icalendar.Event()
    series.add("uid", "byraad-2022@aalborg.example")
    series.add("summary", "Byrådsmøde")
    series.add("dtstart", datetime(2022, 1, 31, 17, 0, tzinfo=TZ))
    series.add("dtend", datetime(2022, 1, 31, 20, 0, tzinfo=TZ))
    series.add("dtstamp", datetime(2021, 12, 1, tzinfo=UTC))
    series.add(
        "rrule", {"freq": "monthly", "byday": "-1MO", "until": datetime(2022, 12, 31, tzinfo=UTC)}
    )
    series.add("exdate", datetime(2022, 7, 25, 17, 0, tzinfo=TZ))
    cal.add_component(series)
    moved = icalendar.Event()
    moved.add("uid", "byraad-2022@aalborg.example")
    moved.add("summary", "Byrådsmøde (flyttet)")
    moved.add("recurrence-id", datetime(2022, 12, 26, 17, 0, tzinfo=TZ))
    moved.add("dtstart", datetime(2022, 12, 12, 17, 0, tzinfo=TZ))
    moved.add("dtend", datetime(2022, 12, 12, 20, 0, tzinfo=TZ))
    moved.add("dtstamp", datetime(2022, 6, 1, tzinfo=UTC))
    cal.add_component(moved)
    cal.add_missing_timezones()
    return cal.to_ical()


def test_a_monthly_recurrence_with_an_exception_and_a_moved_meeting() -> None:
    text = byraad_ics()
    assert b"RRULE:FREQ=MONTHLY" in text and b"EXDATE" in text and b"BEGIN:VTIMEZONE" in text
    meetings = meetings_from_ics(text, 2022)
    days = [d for d, _ in meetings]
    assert len(days) == 11
    assert not [d for d in days if d.month == 7]
    assert date(2022, 12, 12) in days and date(2022, 12, 26) not in days
    assert days[:3] == [date(2022, 1, 31), date(2022, 2, 28), date(2022, 3, 28)]
    # 17:00 in Copenhagen in winter (UTC+1) and in summer (UTC+2): the same local time
    assert {t for _, t in meetings} == {"17:00"}
    assert meetings_from_ics(text, 2023) == []


def test_times_in_utc_become_danish_time_across_the_dst_change() -> None:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Region Nordjylland//Mødeplan//DA")
    cal.add("version", "2.0")
    for uid, start in [
        ("before", datetime(2022, 3, 22, 9, 0, tzinfo=UTC)),  # 10:00 in winter time
        ("after", datetime(2022, 3, 29, 8, 0, tzinfo=UTC)),  # 10:00 in summer time
        ("night", datetime(2022, 10, 25, 23, 30, tzinfo=UTC)),  # 01:30 on the 26th in Denmark
        ("autumn", datetime(2022, 11, 1, 9, 0, tzinfo=UTC)),  # 10:00 in winter time again
    ]:
        ev = icalendar.Event()
        ev.add("uid", f"{uid}@region.example")
        ev.add("summary", "Regionsrådsmøde")
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(hours=3))
        ev.add("dtstamp", datetime(2021, 12, 1, tzinfo=UTC))
        cal.add_component(ev)
    meetings = dict(meetings_from_ics(cal.to_ical(), 2022))
    assert meetings == {
        date(2022, 3, 22): "10:00",
        date(2022, 3, 29): "10:00",
        date(2022, 10, 26): "01:30",
        date(2022, 11, 1): "10:00",
    }


def test_all_day_floating_and_cancelled_events() -> None:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Læsø Kommune//Mødeplan//DA")
    cal.add("version", "2.0")
    allday = icalendar.Event()
    allday.add("uid", "allday@laeso.example")
    allday.add("dtstart", date(2022, 11, 16))
    allday.add("dtstamp", datetime(2021, 12, 1, tzinfo=UTC))
    floating = icalendar.Event()
    floating.add("uid", "floating@laeso.example")
    floating.add("dtstart", datetime(2022, 12, 14, 16, 30))  # no zone: Danish time
    floating.add("dtstamp", datetime(2021, 12, 1, tzinfo=UTC))
    cancelled = icalendar.Event()
    cancelled.add("uid", "cancelled@laeso.example")
    cancelled.add("dtstart", datetime(2022, 11, 2, 16, 30, tzinfo=TZ))
    cancelled.add("status", "CANCELLED")
    cancelled.add("dtstamp", datetime(2021, 12, 1, tzinfo=UTC))
    for ev in (allday, floating, cancelled):
        cal.add_component(ev)
    assert meetings_from_ics(cal.to_ical(), 2022) == [
        (date(2022, 11, 16), None),
        (date(2022, 12, 14), "16:30"),
    ]


def test_a_file_that_is_not_a_calendar_is_one_clear_error() -> None:
    with pytest.raises(CalendarImportError, match=r"byraad\.ics er ikke en iCalendar-fil"):
        meetings_from_ics("<html>Byrådets mødeplan</html>".encode(), 2022, source="byraad.ics")
