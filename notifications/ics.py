"""iCalendar invitations: METHOD REQUEST/CANCEL, a stable UID, a Europe/Copenhagen VTIMEZONE.

The calendar is one small fixed shape, so it is written directly (RFC 5545): TEXT values
escaped (backslash, semicolon, comma, newline), parameter values quoted where needed with
RFC 6868 escapes, and every content line folded at 75 octets without splitting a UTF-8
character. The VTIMEZONE is derived from the zoneinfo data (the transitions from a year before
the meeting to a year after it), once per year.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from notifications.outgoing import Attachment, Recipient
from workflow.calendar import TZ
from workflow.ics_text import (
    PRODID,
    TZID,
    escape_text,
    fold,
    local_stamp,
    utc_stamp,
    vtimezone,
)

METHODS = ("REQUEST", "CANCEL")


def event_uid(process_id: object, stage_id: str, event_id: str, domain: str) -> str:
    """The same meeting always has the same UID, so an update or a cancel replaces it."""
    raw = f"aftaleflow-p{process_id}-{stage_id}-{event_id}"
    return re.sub(r"[^A-Za-z0-9._-]", "-", raw) + "@" + domain


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


#: Control characters a parameter value cannot hold (a tab can).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_NEEDS_QUOTES = re.compile("[:;,]")


def _param(value: str) -> str:
    """A parameter value: RFC 6868 caret escapes; quoted when it holds ``:``, ``;`` or ``,``."""
    text = str(value).replace("^", "^^").replace('"', "^'").replace("\r\n", "^n")
    text = _CONTROL.sub("", text.replace("\n", "^n").replace("\r", "^n"))
    return f'"{text}"' if _NEEDS_QUOTES.search(text) else text


def _address(prop: str, person: Recipient, role: str | None = None) -> str:
    params = f";CN={_param(_one_line(person.name or person.email))}"
    if role:
        params += f";ROLE={role};PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
    return f"{prop}{params}:mailto:{_one_line(person.email).replace(' ', '')}"


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
    text = _event_head(
        method,
        str(ev["start"]),
        str(ev["end"]),
        str(context.get("planned_at") or ev["start"]),
        f"{context.get('process_id')}",
        str(context.get("stage_id", "")),
        str(ev["id"]),
        domain,
        int(ev.get("sequence") or 0),
        str(ev.get("title") or ""),
        str(ev["location"]) if ev.get("location") else "",
    )
    if description:
        text += fold(f"DESCRIPTION:{escape_text(description)}")
    text += _STATUS[method] + fold(_address("ORGANIZER", organizer))
    for person in attendees:
        text += fold(_address("ATTENDEE", person, "REQ-PARTICIPANT"))
    return (text + _END).encode("utf-8")


@lru_cache(maxsize=256)  # a meeting's invitations to every party share all of it
def _event_head(
    method: str,
    start_iso: str,
    end_iso: str,
    stamp_iso: str,
    process_id: str,
    stage_id: str,
    event_id: str,
    domain: str,
    sequence: int,
    title: str,
    location: str,
) -> str:
    """The calendar, folded, from its first line to the event's place: what does not depend
    on the mail's recipients or text."""
    start = datetime.fromisoformat(start_iso).astimezone(TZ)
    end = datetime.fromisoformat(end_iso).astimezone(TZ)
    stamp = datetime.fromisoformat(stamp_iso)
    uid = event_uid(process_id, stage_id, event_id, domain)
    event = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(_one_line(uid))}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{escape_text(_one_line(title))}",
        f"DTSTART;TZID={TZID}:{local_stamp(start)}",
        f"DTEND;TZID={TZID}:{local_stamp(end)}",
    ]
    if location:
        event.append(f"LOCATION:{escape_text(_one_line(location))}")
    return _head(method) + vtimezone(start.year) + "".join(fold(line) for line in event)


#: The event's lines after its description, by method.
_STATUS = {
    m: fold(f"STATUS:{'CANCELLED' if m == 'CANCEL' else 'CONFIRMED'}") + fold("TRANSP:OPAQUE")
    for m in METHODS
}
_END = fold("END:VEVENT") + fold("END:VCALENDAR")


@lru_cache(maxsize=len(METHODS))
def _head(method: str) -> str:
    """The calendar's first lines, folded (the same in every invitation of a method)."""
    head = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
    ]
    return "".join(fold(line) for line in head)


def ics_attachment(content: bytes, method: str) -> Attachment:
    return Attachment(
        filename="invitation.ics" if method != "CANCEL" else "aflysning.ics",
        content=content,
        maintype="text",
        subtype="calendar",
        params={"method": method, "charset": "utf-8"},
    )
