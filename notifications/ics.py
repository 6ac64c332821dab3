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
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from notifications.outgoing import Attachment, Recipient
from workflow.calendar import TZ

METHODS = ("REQUEST", "CANCEL")
PRODID = "-//Aftaleflow//Nordjysk Socialaftale//DA"
TZID = "Europe/Copenhagen"
#: RFC 5545 3.1: content lines are folded before 75 octets (the CRLF not counted).
FOLD_AT = 75


def event_uid(process_id: object, stage_id: str, event_id: str, domain: str) -> str:
    """The same meeting always has the same UID, so an update or a cancel replaces it."""
    raw = f"aftaleflow-p{process_id}-{stage_id}-{event_id}"
    return re.sub(r"[^A-Za-z0-9._-]", "-", raw) + "@" + domain


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def escape_text(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped; lines as ``\\n``."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n")
    escaped = lines.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\n", "\\n")


#: Control characters a parameter value cannot hold (a tab can).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_NEEDS_QUOTES = re.compile("[:;,]")


def _param(value: str) -> str:
    """A parameter value: RFC 6868 caret escapes; quoted when it holds ``:``, ``;`` or ``,``."""
    text = str(value).replace("^", "^^").replace('"', "^'").replace("\r\n", "^n")
    text = _CONTROL.sub("", text.replace("\n", "^n").replace("\r", "^n"))
    return f'"{text}"' if _NEEDS_QUOTES.search(text) else text


def fold(line: str) -> str:
    """One content line, folded (CRLF + space) so no line exceeds 75 octets; ends in CRLF."""
    if line.isascii():  # one octet a character: fold by slicing
        if len(line) <= FOLD_AT:
            return line + "\r\n"
        rest = FOLD_AT - 1  # a continuation line starts with the space
        parts = [line[:FOLD_AT]]
        parts += [line[i : i + rest] for i in range(FOLD_AT, len(line), rest)]
        return "\r\n ".join(parts) + "\r\n"
    data = line.encode("utf-8")
    if len(data) <= FOLD_AT:
        return line + "\r\n"
    pieces: list[bytes] = []
    start, room = 0, FOLD_AT
    while start < len(data):
        end = min(start + room, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # never inside a character
            end -= 1
        pieces.append(data[start:end])
        start, room = end, FOLD_AT - 1  # a continuation line starts with the space
    return "\r\n ".join(p.decode("utf-8") for p in pieces) + "\r\n"


def _local(moment: datetime) -> str:
    """``YYYYMMDDTHHMMSS`` (what ``strftime("%Y%m%dT%H%M%S")`` writes, without its cost)."""
    m = moment
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def _utc(moment: datetime) -> str:
    """A UTC DATE-TIME; a moment without a time zone is taken as UTC (as the outbox stores)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return _local(aware.astimezone(UTC)) + "Z"


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _transitions(first: datetime, last: datetime) -> list[datetime]:
    """The UTC moments in [first, last) at which ``TZ``'s offset or name changes."""

    def state(moment: datetime) -> tuple[object, ...]:
        local = moment.astimezone(TZ)
        return (local.utcoffset(), local.dst(), local.tzname())

    found: list[datetime] = []
    day = timedelta(days=1)
    moment = first
    while moment < last:
        after = min(moment + day, last)
        if state(moment) != state(after):
            low, high = moment, after  # the change lies in (low, high]: narrow it to a second
            while high - low > timedelta(seconds=1):
                mid = (low + (high - low) / 2).replace(microsecond=0)
                if state(mid) == state(low):
                    low = mid
                else:
                    high = mid
            found.append(high)
        moment = after
    return found


@lru_cache(maxsize=16)
def vtimezone(year: int) -> str:
    """``BEGIN:VTIMEZONE … END:VTIMEZONE`` for ``TZ`` from 1 January ``year - 1`` to 1 January
    ``year + 2``: the state at the start, then one STANDARD/DAYLIGHT per kind of transition
    (DTSTART the first onset, RDATE the others). Each onset is the local time before the change,
    written in TZOFFSETFROM, as RFC 5545 3.6.5 asks."""
    first = datetime(year - 1, 1, 1, tzinfo=TZ).astimezone(UTC)
    last = datetime(year + 2, 1, 1, tzinfo=TZ).astimezone(UTC)
    start = first.astimezone(TZ)
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    opening = ("DAYLIGHT" if start.dst() else "STANDARD", str(start.tzname()))
    offset = _offset(start.utcoffset())
    groups[(*opening, offset, offset)] = [_local(start.replace(tzinfo=None))]
    for moment in _transitions(first, last):
        before = (moment - timedelta(seconds=1)).astimezone(TZ)
        after = moment.astimezone(TZ)
        kind = "DAYLIGHT" if after.dst() else "STANDARD"
        frm, to = _offset(before.utcoffset()), _offset(after.utcoffset())
        onset = moment.replace(tzinfo=None) + (before.utcoffset() or timedelta())
        groups.setdefault((kind, str(after.tzname()), frm, to), []).append(_local(onset))
    lines = ["BEGIN:VTIMEZONE", f"TZID:{TZID}"]
    for (kind, name, frm, to), onsets in groups.items():
        lines += [f"BEGIN:{kind}", f"DTSTART:{onsets[0]}"]
        if onsets[1:]:
            lines.append(f"RDATE:{','.join(onsets[1:])}")
        lines += [f"TZNAME:{name}", f"TZOFFSETFROM:{frm}", f"TZOFFSETTO:{to}", f"END:{kind}"]
    lines.append("END:VTIMEZONE")
    return "".join(fold(line) for line in lines)


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
    start = datetime.fromisoformat(str(ev["start"])).astimezone(TZ)
    end = datetime.fromisoformat(str(ev["end"])).astimezone(TZ)
    stamp = datetime.fromisoformat(str(context.get("planned_at") or ev["start"]))
    uid = event_uid(
        context.get("process_id"), str(context.get("stage_id", "")), str(ev["id"]), domain
    )
    event = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(_one_line(uid))}",
        f"DTSTAMP:{_utc(stamp)}",
        f"SEQUENCE:{int(ev.get('sequence') or 0)}",
        f"SUMMARY:{escape_text(_one_line(ev.get('title') or ''))}",
        f"DTSTART;TZID={TZID}:{_local(start)}",
        f"DTEND;TZID={TZID}:{_local(end)}",
    ]
    if ev.get("location"):
        event.append(f"LOCATION:{escape_text(_one_line(ev['location']))}")
    if description:
        event.append(f"DESCRIPTION:{escape_text(description)}")
    event += [
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        _address("ORGANIZER", organizer),
        *(_address("ATTENDEE", person, "REQ-PARTICIPANT") for person in attendees),
        "END:VEVENT",
    ]
    text = _head(method) + vtimezone(start.year)
    text += "".join(fold(line) for line in event) + fold("END:VCALENDAR")
    return text.encode("utf-8")


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
