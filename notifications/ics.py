"""iCalendar invitations: METHOD REQUEST/CANCEL, a stable UID, a Europe/Copenhagen VTIMEZONE."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import icalendar

from notifications.outgoing import Attachment, Recipient
from workflow.calendar import TZ

METHODS = ("REQUEST", "CANCEL")
PRODID = "-//Aftaleflow//Nordjysk Socialaftale//DA"


def event_uid(process_id: object, stage_id: str, event_id: str, domain: str) -> str:
    """The same meeting always has the same UID, so an update or a cancel replaces it."""
    raw = f"aftaleflow-p{process_id}-{stage_id}-{event_id}"
    return re.sub(r"[^A-Za-z0-9._-]", "-", raw) + "@" + domain


def _address(person: Recipient, role: str | None = None) -> icalendar.vCalAddress:
    addr = icalendar.vCalAddress(f"mailto:{person.email}")
    addr.params["CN"] = _one_line(person.name or person.email)
    if role:
        addr.params["ROLE"] = role
        addr.params["PARTSTAT"] = "NEEDS-ACTION"
        addr.params["RSVP"] = "TRUE"
    return addr


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def build_ics(
    context: Mapping[str, Any],
    *,
    attendees: Sequence[Recipient],
    organizer: Recipient,
    domain: str,
    description: str = "",
) -> bytes:
    """One VEVENT for ``context['event']`` in a VCALENDAR with its time-zone definition."""
    ev: Mapping[str, Any] = context["event"]
    method = str(ev.get("method") or "REQUEST").upper()
    if method not in METHODS:
        raise ValueError(f"unknown calendar method {method!r}; use one of {', '.join(METHODS)}")
    start = datetime.fromisoformat(str(ev["start"])).astimezone(TZ)
    end = datetime.fromisoformat(str(ev["end"])).astimezone(TZ)
    stamp = datetime.fromisoformat(str(context.get("planned_at") or ev["start"]))

    event = icalendar.Event()
    event.add(
        "uid",
        event_uid(
            context.get("process_id"), str(context.get("stage_id", "")), str(ev["id"]), domain
        ),
    )
    event.add("dtstamp", stamp)
    event.add("sequence", int(ev.get("sequence") or 0))
    event.add("summary", _one_line(ev.get("title") or ""))
    event.add("dtstart", start)
    event.add("dtend", end)
    if ev.get("location"):
        event.add("location", _one_line(ev["location"]))
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer))
    for person in attendees:
        event.add("attendee", _address(person, "REQ-PARTICIPANT"))

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    year = start.year
    cal.add_component(
        icalendar.Timezone.from_tzinfo(
            TZ,
            tzid="Europe/Copenhagen",
            first_date=date(year - 1, 1, 1),
            last_date=date(year + 2, 1, 1),
        )
    )
    cal.add_component(event)
    return bytes(cal.to_ical())


def ics_attachment(content: bytes, method: str) -> Attachment:
    return Attachment(
        filename="invitation.ics" if method != "CANCEL" else "aflysning.ics",
        content=content,
        maintype="text",
        subtype="calendar",
        params={"method": method, "charset": "utf-8"},
    )
