"""Councils' meeting calendars (mødeplaner): who meets when, and when their agenda closes.

Each kommune's socialudvalg and byråd and the regionsråd meet on their own calendar, typically
monthly except July; KKR Nordjylland and DAS Social are the bodies of the cycle itself. An item
must reach a body's secretariat before its agenda deadline (days before the meeting, per body
with a default). One YAML file per year under ``definitions/calendars/`` holds them; it is
checked like a definition (``file:line`` for every problem) and ``aftaleflow calendar import``
merges an ``.ics`` file into it. Data only: ``workflow.councils_plan`` holds the decisions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from workflow.calendar import holiday_name, is_working_day
from workflow.definition_base import LocatedValueError, Strict
from workflow.definition_parties import BODIES, PartyRegistry
from workflow.errors import DefinitionError, Problem

CouncilBody = Literal["socialudvalg", "byraad", "regionsraad"]
CycleBody = Literal["kkr", "das-social"]
CYCLE = "cycle"
"""The owner of the cycle's bodies (KKR Nordjylland, DAS Social) where a party slug would be."""
CYCLE_BODIES: tuple[str, ...] = ("kkr", "das-social")
ALL_BODIES: tuple[str, ...] = (*BODIES, *CYCLE_BODIES)
BODIES_OF_KIND: dict[str, tuple[str, ...]] = {
    "kommune": ("socialudvalg", "byraad"),
    "region": ("regionsraad",),
}
#: Days before a meeting that its agenda closes, when neither the body nor the file says.
DEFAULT_AGENDA_DEADLINE_DAYS = 10
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def _time_of_day(v: str | None) -> str | None:
    if v is not None and not _TIME.match(v):
        raise ValueError(f"{v!r} er ikke et klokkeslæt; skriv TT:MM, fx 17:00")
    return v


class MeetingEntry(Strict):
    """One meeting: a date (``2022-11-23``) and, if known, its local time (``"16:00"``)."""

    date: date
    time: str | None = None

    _time = field_validator("time")(_time_of_day)

    @field_validator("date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        """Definitions are read with dates as text (``2022-11-23``): parse them strictly here."""
        if isinstance(v, str):
            try:
                return date.fromisoformat(v)
            except ValueError:
                raise ValueError(
                    f"{v!r} er ikke en dato; skriv ÅÅÅÅ-MM-DD, fx 2022-11-23"
                ) from None
        return v


class BodySchedule(Strict):
    """One body's meetings in the year; ``agenda_deadline_days`` overrides the file's default."""

    agenda_deadline_days: int | None = Field(default=None, ge=0, le=60)
    time: str | None = None
    """The usual time of day, for meetings that give none."""
    meetings: list[MeetingEntry]

    _time = field_validator("time")(_time_of_day)

    @field_validator("meetings", mode="before")
    @classmethod
    def _plain_dates(cls, v: Any) -> Any:
        """A bare date in the list is a meeting at the body's usual time."""
        if isinstance(v, list):
            return [{"date": x} if isinstance(x, date | str) else x for x in v]
        return v

    @field_validator("meetings")
    @classmethod
    def _distinct_working_days(cls, v: list[MeetingEntry]) -> list[MeetingEntry]:
        seen: set[date] = set()
        for i, m in enumerate(v):
            if m.date in seen:
                raise LocatedValueError(f"{m.date} står to gange", (i, "date"))
            seen.add(m.date)
            if not is_working_day(m.date):
                why = holiday_name(m.date) or WEEKDAY_NAMES[m.date.weekday()]
                raise LocatedValueError(
                    f"{m.date} er ikke en arbejdsdag ({why}); rådene mødes på arbejdsdage",
                    (i, "date"),
                )
        return v


class CalendarFile(Strict):
    """The file's shape: ``year``, ``parties`` (the registry), defaults, ``cycle``, ``councils``."""

    year: int = Field(ge=2000, le=2100)
    example: bool = False
    """True for made-up demo data: the dashboard and reports say so."""
    parties: str
    agenda_deadline_days: dict[Literal["default", CouncilBody, CycleBody], int] = {}
    cycle: dict[CycleBody, BodySchedule] = {}
    councils: dict[str, dict[CouncilBody, BodySchedule]] = {}

    @field_validator("agenda_deadline_days")
    @classmethod
    def _days(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if not 0 <= n <= 60:
                raise LocatedValueError(f"{n} dage er ikke mellem 0 og 60", (k,))
        return v

    @model_validator(mode="after")
    def _in_the_year(self) -> CalendarFile:
        for owner, key, schedule in self.schedules():
            for i, m in enumerate(schedule.meetings):
                if m.date.year != self.year:
                    loc = (CYCLE, key) if owner == CYCLE else ("councils", owner, key)
                    raise LocatedValueError(
                        f"{m.date} ligger ikke i {self.year}, filens år",
                        (*loc, "meetings", i, "date"),
                    )
        return self

    def schedules(self) -> Iterator[tuple[str, str, BodySchedule]]:
        for cycle_body, s in self.cycle.items():
            yield CYCLE, str(cycle_body), s
        for party, bodies in self.councils.items():
            for body, s in bodies.items():
                yield party, str(body), s


@dataclass(frozen=True, order=True)
class Meeting:
    """A meeting of ``owner``'s ``body`` (owner: a party slug or ``CYCLE``)."""

    date: date
    owner: str
    body: str
    time: str | None
    agenda_deadline_days: int


@dataclass(frozen=True)
class MeetingCalendars:
    """A validated year of calendars, indexed by (owner, body); meetings in date order."""

    year: int
    example: bool
    parties: str
    meetings: dict[tuple[str, str], tuple[Meeting, ...]]
    path: str = ""

    @classmethod
    def from_file(cls, f: CalendarFile, path: str = "") -> MeetingCalendars:
        by_body: dict[str, int] = {str(k): n for k, n in f.agenda_deadline_days.items()}
        default = by_body.get("default", DEFAULT_AGENDA_DEADLINE_DAYS)
        index: dict[tuple[str, str], tuple[Meeting, ...]] = {}
        for owner, body, s in f.schedules():
            days = s.agenda_deadline_days
            if days is None:
                days = by_body.get(body, default)
            index[(owner, body)] = tuple(
                sorted(Meeting(m.date, owner, body, m.time or s.time, days) for m in s.meetings)
            )
        return cls(f.year, f.example, f.parties, index, path)

    def of(self, owner: str, body: str) -> tuple[Meeting, ...]:
        return self.meetings.get((owner, body), ())

    def for_party(self, party: str) -> dict[str, tuple[Meeting, ...]]:
        """The party's bodies and their meetings: what ``plan_steps`` takes."""
        return {body: ms for (owner, body), ms in self.meetings.items() if owner == party}

    @cached_property
    def owners(self) -> list[str]:
        return sorted({owner for owner, _ in self.meetings})


def agenda_deadline(meeting: Meeting) -> date:
    """The last day an item can reach the body's agenda: ``agenda_deadline_days`` before the
    meeting, moved back to a working day (a secretariat does not take items on a Sunday)."""
    d = meeting.date - timedelta(days=meeting.agenda_deadline_days)
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d


# --------------------------------------------------------------------------- reading and writing


def load_calendars(path: str | Path) -> MeetingCalendars:
    """Read and check a calendar file; every problem names the file, its line and field."""
    from workflow.definition_errors import line_at, suggest, validate
    from workflow.yaml_source import read_yaml

    file = str(path)
    data, node = read_yaml(Path(path))
    model = validate(CalendarFile, data, node, file)
    problems: list[Problem] = []
    registry = _registry(Path(file), model.parties)
    if registry is None:
        folder = Path(file).resolve().parent.parent / "parties"
        problems.append(
            Problem(
                file,
                line_at(node, ("parties",)),
                f"partslisten {model.parties!r} findes ikke i {folder}",
                "parties",
            )
        )
    else:
        for party, bodies in model.councils.items():
            if party not in registry.by_slug:
                problems.append(
                    Problem(
                        file,
                        line_at(node, ("councils", party)),
                        f"ukendt part {party!r}{suggest(party, registry.slugs)}",
                        f"councils.{party}",
                    )
                )
                continue
            kind = registry.get(party).kind
            for body in bodies:
                if body not in BODIES_OF_KIND[kind]:
                    problems.append(
                        Problem(
                            file,
                            line_at(node, ("councils", party, body)),
                            f"en {kind} har ingen {body}; dens organer er "
                            + ", ".join(BODIES_OF_KIND[kind]),
                            f"councils.{party}.{body}",
                        )
                    )
    if problems:
        raise DefinitionError(problems)
    return MeetingCalendars.from_file(model, file)


def _registry(path: Path, ident: str) -> PartyRegistry | None:
    from workflow.definition_errors import validate
    from workflow.yaml_source import read_yaml

    registry = path.resolve().parent.parent / "parties" / f"{ident}.yaml"
    if not registry.exists():
        return None
    data, node = read_yaml(registry)
    return validate(PartyRegistry, data, node, str(registry))


def _schedule_data(meetings: list[tuple[date, str | None]], old: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in old.items() if k in ("agenda_deadline_days", "time")}
    times = Counter(t for _, t in meetings if t is not None)
    if "time" not in kept and times:
        kept["time"] = times.most_common(1)[0][0]  # the usual time; others are written out
    usual = kept.get("time")
    entries: list[Any] = [
        d if t is None or t == usual else {"date": d, "time": t} for d, t in sorted(meetings)
    ]
    return {**kept, "meetings": entries}


def merged_text(
    existing: str | None,
    *,
    year: int,
    parties: str,
    owner: str,
    body: str,
    meetings: list[tuple[date, str | None]],
) -> str:
    """The text of a calendar file with ``owner``'s ``body`` replaced by ``meetings``.

    The leading comment block of ``existing`` is kept; the rest is written in one layout.
    """
    header = ""
    data: dict[str, Any] = {"year": year, "parties": parties}
    if existing:
        lines = existing.splitlines(keepends=True)
        while lines and lines[0].startswith("#"):
            header += lines.pop(0)
        loaded = yaml.safe_load(existing)
        if isinstance(loaded, dict):
            data = loaded
    if owner == CYCLE:
        section = data.setdefault("cycle", {})
    else:
        section = data.setdefault("councils", {}).setdefault(owner, {})
    section[body] = _schedule_data(meetings, section.get(body) or {})
    body_text = yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
    )
    return header + body_text
