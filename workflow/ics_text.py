"""The text of an iCalendar file (RFC 5545), the parts every calendar Aftaleflow writes shares:
TEXT values escaped, content lines folded at 75 octets without splitting a UTF-8 character,
local and UTC DATE-TIMEs, and the Europe/Copenhagen VTIMEZONE derived from the zoneinfo data
(the transitions from a year before to two after, once per year). Pure: values in, text out.
The meeting invitations (``notifications.ics``) and the secretariat's feed
(``workflow.feed_ics``) are written with them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from workflow.calendar import TZ

PRODID = "-//Aftaleflow//Nordjysk Socialaftale//DA"
TZID = "Europe/Copenhagen"
#: RFC 5545 3.1: content lines are folded before 75 octets (the CRLF not counted).
FOLD_AT = 75


def escape_text(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped; lines as ``\\n``."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n")
    escaped = lines.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\n", "\\n")


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
    size = len(data)
    if size <= FOLD_AT:
        return line + "\r\n"
    pieces: list[bytes] = []
    start, end = 0, FOLD_AT
    while end < size:
        while data[end] & 0xC0 == 0x80:  # never inside a character
            end -= 1
        pieces.append(data[start:end])
        start, end = end, end + FOLD_AT - 1  # a continuation line starts with the space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8") + "\r\n"


def local_stamp(moment: datetime) -> str:
    """``YYYYMMDDTHHMMSS`` (what ``strftime("%Y%m%dT%H%M%S")`` writes, without its cost)."""
    m = moment
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def utc_stamp(moment: datetime) -> str:
    """A UTC DATE-TIME; a moment without a time zone is taken as UTC (as the outbox stores)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return local_stamp(aware.astimezone(UTC)) + "Z"


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
    groups[(*opening, offset, offset)] = [local_stamp(start.replace(tzinfo=None))]
    for moment in _transitions(first, last):
        before = (moment - timedelta(seconds=1)).astimezone(TZ)
        after = moment.astimezone(TZ)
        kind = "DAYLIGHT" if after.dst() else "STANDARD"
        frm, to = _offset(before.utcoffset()), _offset(after.utcoffset())
        onset = moment.replace(tzinfo=None) + (before.utcoffset() or timedelta())
        groups.setdefault((kind, str(after.tzname()), frm, to), []).append(local_stamp(onset))
    lines = ["BEGIN:VTIMEZONE", f"TZID:{TZID}"]
    for (kind, name, frm, to), onsets in groups.items():
        lines += [f"BEGIN:{kind}", f"DTSTART:{onsets[0]}"]
        if onsets[1:]:
            lines.append(f"RDATE:{','.join(onsets[1:])}")
        lines += [f"TZNAME:{name}", f"TZOFFSETFROM:{frm}", f"TZOFFSETTO:{to}", f"END:{kind}"]
    lines.append("END:VTIMEZONE")
    return "".join(fold(line) for line in lines)
