"""The secretariat's calendar feed as iCalendar (RFC 5545): a VCALENDAR that Outlook subscribes to.

Timed entries (meetings, workshops, planned reminders) are written in Europe/Copenhagen with
the zone's VTIMEZONE, so a meeting at 10:00 stays at 10:00 across the change to summer time;
deadlines are all-day (``VALUE=DATE``, the end the day after). UIDs are stable, so a moved
meeting replaces itself in the subscriber's calendar. Pure: entries in, bytes out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from workflow.calendar import TZ
from workflow.feed import FeedEntry
from workflow.ics_text import PRODID, TZID, escape_text, fold, vtimezone


def feed_ics(
    entries: Sequence[FeedEntry],
    *,
    name: str,
    domain: str,
    stamp: datetime,
    summary: Callable[[FeedEntry], str],
    description: Callable[[FeedEntry], str],
) -> bytes:
    """Every entry as a VEVENT of one calendar called ``name``."""
    years = sorted({e.sort_key[0].year for e in entries}) or [stamp.astimezone(TZ).year]
    utc_stamp = stamp.astimezone(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{TZID}",
    ]
    text = "".join(fold(line) for line in lines)
    text += vtimezone(years[0])  # one definition of the zone: a year before to two after
    for e in entries:
        event = [
            "BEGIN:VEVENT",
            f"UID:{escape_text(e.uid)}@{domain}",
            f"DTSTAMP:{utc_stamp:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{escape_text(' '.join(summary(e).split()))}",
        ]
        if e.day is not None:
            event.append(f"DTSTART;VALUE=DATE:{e.day:%Y%m%d}")
            event.append(f"DTEND;VALUE=DATE:{e.day + timedelta(days=1):%Y%m%d}")
            event.append("TRANSP:TRANSPARENT")
        elif e.start is not None and e.end is not None:
            event.append(f"DTSTART;TZID={TZID}:{e.start.astimezone(TZ):%Y%m%dT%H%M%S}")
            event.append(f"DTEND;TZID={TZID}:{e.end.astimezone(TZ):%Y%m%dT%H%M%S}")
            event.append("TRANSP:OPAQUE" if e.kind == "meeting" else "TRANSP:TRANSPARENT")
        if e.sequence:
            event.append(f"SEQUENCE:{e.sequence}")
        if e.kind == "meeting_cancelled":
            event.append("STATUS:CANCELLED")
        if e.location:
            event.append(f"LOCATION:{escape_text(' '.join(e.location.split()))}")
        about = description(e)
        if about:
            event.append(f"DESCRIPTION:{escape_text(about)}")
        event += [f"CATEGORIES:{e.kind.upper()}", "END:VEVENT"]
        text += "".join(fold(line) for line in event)
    return (text + fold("END:VCALENDAR")).encode("utf-8")
