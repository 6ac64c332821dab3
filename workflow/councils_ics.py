"""A council's meeting plan from an ``.ics`` file: its meetings in one year, in Danish time.

Councils publish their mødeplan as a calendar feed (Outlook, a CMS, a Google calendar): often
one recurring event ("the byråd meets the last Monday of the month") with exceptions (no
meeting in July, one meeting moved). ``recurring-ical-events`` expands RRULE, RDATE, EXDATE and
moved occurrences (RECURRENCE-ID); here every occurrence becomes a local date and time in
Europe/Copenhagen, so a meeting at 17:00 stays at 17:00 across the change to summer time.
Pure: bytes in, meetings out.
"""

from __future__ import annotations

from datetime import date, datetime

import icalendar
import recurring_ical_events

from workflow.calendar import TZ
from workflow.errors import AftaleflowError


class CalendarImportError(AftaleflowError):
    """The calendar file cannot be read; the message says what is wrong with it."""


def meetings_from_ics(data: bytes, year: int, *, source: str = "") -> list[tuple[date, str | None]]:
    """Every meeting of ``year`` in the calendar: ``(local date, "HH:MM" or None)``, sorted.

    All-day events have no time; cancelled occurrences (``STATUS:CANCELLED``) are left out;
    a time without a zone is taken as Danish time.
    """
    name = source or "the calendar file"
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as e:
        raise CalendarImportError(
            f"{name} er ikke en iCalendar-fil (.ics): {e}",
            en=f"{name} is not an iCalendar file (.ics): {e}",
        ) from None
    if not isinstance(calendar, icalendar.Calendar):  # pragma: no cover - from_ical's contract
        raise CalendarImportError(f"{name} rummer ingen VCALENDAR", en=f"{name} holds no VCALENDAR")
    start = datetime(year, 1, 1, tzinfo=TZ)
    end = datetime(year + 1, 1, 1, tzinfo=TZ)
    try:
        events = recurring_ical_events.of(calendar).between(start, end)
    except (ValueError, recurring_ical_events.InvalidCalendar) as e:
        raise CalendarImportError(
            f"{name}: de gentagne begivenheder kan ikke udfoldes: {e}",
            en=f"{name}: the recurring events cannot be expanded: {e}",
        ) from None
    found: dict[date, str | None] = {}
    for ev in events:
        if str(ev.get("STATUS", "")).upper() == "CANCELLED":
            continue
        when = ev.get("DTSTART")
        if when is None:
            continue
        moment = when.dt
        if isinstance(moment, datetime):
            local = moment.astimezone(TZ) if moment.tzinfo else moment.replace(tzinfo=TZ)
            if local.year == year:
                found.setdefault(local.date(), f"{local:%H:%M}")
        elif isinstance(moment, date) and moment.year == year:
            found.setdefault(moment, None)
    return sorted(found.items())
