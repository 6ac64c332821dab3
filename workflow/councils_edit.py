"""Changes to a year's calendar file, as text in and text out: add, move or delete one
meeting of a body, set a body's agenda deadline, or replace its meetings by an ``.ics`` import.

The dashboard and ``aftaleflow calendar import`` change the same YAML file
(``definitions/calendars/YEAR.yaml``), so ``aftaleflow check``, the command line and git see one
source. A change that cannot hold (a meeting on a Saturday, a date that is already there, a
meeting that is not there) is refused here with a Danish message and its English twin, before
anything is written; ``workflow.calendar_files`` writes the result and audits it. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import yaml

from workflow.calendar import holiday_name, is_working_day
from workflow.councils import CYCLE, CYCLE_BODIES, DEFAULT_AGENDA_DEADLINE_DAYS, merged_text
from workflow.dates import EN_WEEKDAYS, format_date
from workflow.errors import GuardRefused
from workflow.roll import why_not_working

ChangeKind = Literal["add", "move", "delete", "agenda_days", "import"]
Meetings = tuple[tuple[date, str | None], ...]


class CalendarChangeRefused(GuardRefused):
    """The calendar cannot be changed like that; the message says why, and nothing changed."""


@dataclass(frozen=True)
class CalendarChange:
    """One change to one body's calendar (``owner``: a party slug or ``CYCLE``).

    ``day`` is the meeting added, moved or deleted; ``to`` where a meeting moves; ``time`` the
    new meeting's time (None: the body's usual time); ``days`` the body's agenda deadline (None:
    the file's default for the body); ``meetings`` what an import puts in place of the body's.
    """

    kind: ChangeKind
    owner: str
    body: str
    day: date | None = None
    to: date | None = None
    time: str | None = None
    days: int | None = None
    meetings: Meetings = ()

    def audit_data(self) -> dict[str, Any]:
        """What the audit event says about the change (plain JSON)."""
        out: dict[str, Any] = {"change": self.kind, "owner": self.owner, "body": self.body}
        if self.day is not None:
            out["date"] = self.day.isoformat()
        if self.to is not None:
            out["to"] = self.to.isoformat()
        if self.kind in ("add", "move"):
            out["time"] = self.time or ""
        if self.kind == "agenda_days":
            out["days"] = self.days
        if self.kind == "import":
            out["meetings"] = len(self.meetings)
        return out


def check_owner_body(owner: str, body: str) -> None:
    """KKR and DAS Social belong to the cycle; the councils' bodies to a party."""
    if (body in CYCLE_BODIES) != (owner == CYCLE):
        if body in CYCLE_BODIES:
            raise CalendarChangeRefused(
                f"{body} hører til selve forløbet: skriv --party {CYCLE}",
                en=f"{body} belongs to the cycle itself: write --party {CYCLE}",
            )
        raise CalendarChangeRefused(
            f"{body} hører til en part: skriv --party med partens id, fx --party aalborg",
            en=f"{body} belongs to a party: write --party with the party's id, e.g. --party aalborg",
        )


def ics_meetings(data: bytes, year: int, source: str) -> Meetings:
    """The meetings of ``year`` in an ``.ics`` text; refused if none, or any on a day that is
    not a working day (the councils meet on working days: the calendar is wrong)."""
    from workflow.councils_ics import meetings_from_ics

    meetings = meetings_from_ics(data, year, source=source)
    if not meetings:
        raise CalendarChangeRefused(
            f"{source} har ingen møder i {year}; intet er ændret",
            en=f"{source} has no meetings in {year}; nothing was changed",
        )
    off = [d for d, _ in meetings if why_not_working(d)]
    if off:
        days = ", ".join(f"{format_date(d)} ({why_not_working(d)})" for d in off)
        days_en = ", ".join(format_date(d, "en") for d in off)
        raise CalendarChangeRefused(
            f"{source} har møder på dage, der ikke er arbejdsdage: {days}; rådene mødes på "
            "arbejdsdage, så ret kalenderen først; intet er ændret",
            en=f"{source} has meetings on days that are not working days: {days_en}; the "
            "councils meet on working days, so correct the calendar first; nothing was changed",
        )
    return tuple(meetings)


def changed_text(existing: str, change: CalendarChange) -> str:
    """The calendar file's text after ``change``; its leading comment block is kept, the rest
    written in one layout (as an import writes it)."""
    if change.kind == "import":
        data = yaml.safe_load(existing)
        return merged_text(
            existing,
            year=int(data["year"]),
            parties=str(data["parties"]),
            owner=change.owner,
            body=change.body,
            meetings=list(change.meetings),
        )
    header = ""
    lines = existing.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        header += lines.pop(0)
    data = yaml.safe_load(existing)
    if not isinstance(data, dict):
        raise CalendarChangeRefused(
            "kalenderfilen er ikke en kalender; ret den med `aftaleflow check`",
            en="the calendar file is not a calendar; correct it with `aftaleflow check`",
        )
    year = int(data.get("year", 0))
    if change.owner == CYCLE:
        section = data.setdefault("cycle", {})
    else:
        section = data.setdefault("councils", {}).setdefault(change.owner, {})
    schedule: dict[str, Any] = dict(section.get(change.body) or {})
    meetings = _read_meetings(schedule.get("meetings") or [])
    if change.kind == "agenda_days":
        if change.days is None:
            schedule.pop("agenda_deadline_days", None)
        else:
            schedule["agenda_deadline_days"] = change.days
    else:
        meetings = _changed_meetings(meetings, change, year)
    usual = schedule.get("time")
    entries: list[Any] = [
        d if t is None or t == usual else {"date": d, "time": t}
        for d, t in sorted(meetings.items())
    ]
    rest = {k: v for k, v in schedule.items() if k != "meetings"}
    section[change.body] = {**rest, "meetings": entries}
    text = yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
    )
    return header + text


def _read_meetings(entries: list[Any]) -> dict[date, str | None]:
    out: dict[date, str | None] = {}
    for e in entries:
        if isinstance(e, dict):
            out[_as_date(e.get("date"))] = e.get("time")
        else:
            out[_as_date(e)] = None
    return out


def _as_date(v: Any) -> date:
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def _changed_meetings(
    meetings: dict[date, str | None], change: CalendarChange, year: int
) -> dict[date, str | None]:
    out = dict(meetings)
    assert change.day is not None
    if change.kind in ("move", "delete") and change.day not in out:
        raise CalendarChangeRefused(
            f"der er intet møde {format_date(change.day)} i kalenderen; genindlæs siden",
            en=f"there is no meeting on {format_date(change.day, 'en')} in the calendar; "
            "reload the page",
        )
    if change.kind == "delete":
        del out[change.day]
        return out
    new = change.to if change.kind == "move" else change.day
    assert new is not None
    _check_day(new, year)
    if change.kind == "move":
        del out[change.day]
    if new in out:
        raise CalendarChangeRefused(
            f"organet har allerede et møde {format_date(new)}",
            en=f"the body already has a meeting on {format_date(new, 'en')}",
        )
    out[new] = change.time
    return out


def _check_day(day: date, year: int) -> None:
    if day.year != year:
        raise CalendarChangeRefused(
            f"{format_date(day)} ligger ikke i {year}; kalenderfilen gælder {year}",
            en=f"{format_date(day, 'en')} is not in {year}; the calendar file is for {year}",
        )
    if not is_working_day(day):
        why = holiday_name(day) or why_not_working(day)
        why_en = holiday_name(day) or EN_WEEKDAYS[day.weekday()]
        raise CalendarChangeRefused(
            f"{format_date(day)} er ikke en arbejdsdag ({why}); rådene mødes på arbejdsdage",
            en=f"{format_date(day, 'en')} is not a working day ({why_en}); the councils meet "
            "on working days",
        )


def agenda_days_of(text: str, owner: str, body: str) -> tuple[int, str]:
    """A body's agenda deadline in the calendar file and where it is set: ``"body"`` (the
    body's own), ``"file"`` (the file's for that kind of body) or ``"default"``."""
    data = yaml.safe_load(text) or {}
    section = data.get("cycle", {}) if owner == CYCLE else data.get("councils", {}).get(owner, {})
    own = ((section or {}).get(body) or {}).get("agenda_deadline_days")
    if own is not None:
        return int(own), "body"
    by_body = data.get("agenda_deadline_days") or {}
    if body in by_body:
        return int(by_body[body]), "file"
    return int(by_body.get("default", DEFAULT_AGENDA_DEADLINE_DAYS)), "default"
