"""The definition model: parties, questionnaires and processes as validated, frozen data.

A definition never holds runtime state. It is read from YAML by ``workflow.loader`` and
bound to a preparation year by ``workflow.timeline``.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["committee_secretary", "director", "council_secretariat"]
ROLES: tuple[str, ...] = ("committee_secretary", "director", "council_secretariat")
PartyKind = Literal["kommune", "region"]
Body = Literal["socialudvalg", "byraad", "regionsraad"]
BODIES: tuple[str, ...] = ("socialudvalg", "byraad", "regionsraad")
QuestionType = Literal["single_choice", "multiple_choice", "text", "scale", "file"]
Roll = Literal["next_working_day", "previous_working_day", "keep"]
"""What a date does on a weekend or a Danish holiday (see ``workflow.roll``)."""
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")

_SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DATE_EXPR = re.compile(r"^(?:(?P<abs>\d{4})|Y(?P<off>[+-]\d)?)-(?P<m>\d{2})-(?P<d>\d{2})$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class LocatedValueError(ValueError):
    """A validation error about one part of the value being validated: ``loc`` is the path
    from the validated field (or model) to that part, so the loader can name its line."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class Strict(BaseModel):
    """Base for every definition model: unknown keys are errors, nothing is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True, order=True)
class DateExpr:
    """A date written relative to the preparation year ``Y`` (``Y-03-15``, ``Y+1-01-10``)
    or absolute (``2016-10-24``)."""

    year_offset: int | None
    absolute_year: int | None
    month: int
    day: int

    @classmethod
    def parse(cls, text: str) -> DateExpr:
        m = _DATE_EXPR.match(text)
        if not m:
            raise ValueError(
                f"{text!r} er ikke en dato; skriv Y-MM-DD (i forhold til forberedelsesåret), "
                "Y+1-MM-DD eller en fast dato ÅÅÅÅ-MM-DD"
            )
        month, day = int(m["m"]), int(m["d"])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: måned {month} findes ikke")
        year = int(m["abs"]) if m["abs"] else 2024  # a leap year: Y-02-29 is checked at binding
        if not 1 <= day <= _calendar.monthrange(year, month)[1]:
            raise ValueError(f"{text!r}: dag {day} findes ikke i måned {month}")
        if m["abs"]:
            return cls(None, int(m["abs"]), month, day)
        return cls(int(m["off"] or 0), None, month, day)

    def bind(self, year: int) -> date:
        y = self.absolute_year if self.absolute_year is not None else year + (self.year_offset or 0)
        return date(y, self.month, self.day)

    def sort_key(self, year: int) -> tuple[int, int, int]:
        y = self.absolute_year if self.absolute_year is not None else year + (self.year_offset or 0)
        return (y, self.month, self.day)

    def __str__(self) -> str:
        if self.absolute_year is not None:
            return f"{self.absolute_year:04d}-{self.month:02d}-{self.day:02d}"
        off = f"{self.year_offset:+d}" if self.year_offset else ""
        return f"Y{off}-{self.month:02d}-{self.day:02d}"


def _date_expr(value: str | None) -> str | None:
    if value is not None:
        DateExpr.parse(value)
    return value


def _clock(value: str | None) -> str | None:
    if value is not None and not _TIME.match(value):
        raise ValueError(f"{value!r} er ikke et klokkeslæt; skriv TT:MM, fx 09:00")
    return value


# --------------------------------------------------------------------------- parties


class Contact(Strict):
    name: str
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError(f"{v!r} er ikke en mailadresse")
        return v


class Party(Strict):
    slug: Annotated[str, Field(pattern=_SLUG)]
    name: str
    kind: PartyKind
    contacts: dict[Role, list[Contact]]

    @field_validator("contacts")
    @classmethod
    def _has_secretary(cls, v: dict[str, list[Contact]]) -> dict[str, list[Contact]]:
        if not v.get("committee_secretary"):
            raise ValueError("hver part skal have mindst én committee_secretary-kontakt")
        return v

    def addresses(self, role: str) -> list[Contact]:
        return list(self.contacts.get(role, []))  # type: ignore[call-overload]


class PartyRegistry(Strict):
    id: Annotated[str, Field(pattern=_SLUG)]
    name: str
    secretariat: Contact
    parties: list[Party]

    @field_validator("parties")
    @classmethod
    def _unique(cls, v: list[Party]) -> list[Party]:
        seen: set[str] = set()
        for i, p in enumerate(v):
            if p.slug in seen:
                raise LocatedValueError(f"parten {p.slug!r} står to gange", (i, "slug"))
            seen.add(p.slug)
        return v

    @cached_property
    def by_slug(self) -> dict[str, Party]:
        """An index: ``get`` and membership tests are O(1) however many parties there are."""
        return {p.slug: p for p in self.parties}

    def get(self, slug: str) -> Party:
        return self.by_slug[slug]

    @property
    def slugs(self) -> list[str]:
        return list(self.by_slug)


# --------------------------------------------------------------------------- questionnaires


class Option(Strict):
    value: Annotated[str, Field(pattern=_SLUG)]
    label: str


class Question(Strict):
    id: Annotated[str, Field(pattern=_SLUG)]
    type: QuestionType
    label: str
    help: str = ""
    required: bool = False
    options: list[Option] = []
    min: int = 1
    max: int = 5
    min_label: str = ""
    max_label: str = ""
    accept: list[Literal["pdf", "docx", "odt"]] = ["pdf", "docx", "odt"]
    max_mb: int = 10
    max_length: int = 10000

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.type in ("single_choice", "multiple_choice") and len(self.options) < 2:
            raise LocatedValueError(
                f"et {self.type}-spørgsmål skal have mindst to svarmuligheder", ("options",)
            )
        if self.type not in ("single_choice", "multiple_choice") and self.options:
            raise LocatedValueError(
                f"et {self.type}-spørgsmål har ingen svarmuligheder (options)", ("options",)
            )
        if self.type == "scale" and self.min >= self.max:
            raise LocatedValueError("en skala skal have min < max", ("max",))
        return self


class Section(Strict):
    id: Annotated[str, Field(pattern=_SLUG)]
    title: str
    intro: str = ""
    focus_area: str = ""
    questions: list[Question]


class Questionnaire(Strict):
    id: Annotated[str, Field(pattern=_SLUG)]
    version: int
    title: str
    intro: str = ""
    sections: list[Section]

    @model_validator(mode="after")
    def _unique_ids(self) -> Questionnaire:
        seen: set[str] = set()
        for si, s in enumerate(self.sections):
            for qi, q in enumerate(s.questions):
                if q.id in seen:
                    raise LocatedValueError(
                        f"spørgsmåls-id'et {q.id!r} er brugt to gange",
                        ("sections", si, "questions", qi, "id"),
                    )
                seen.add(q.id)
        return self

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)


# --------------------------------------------------------------------------- processes


class Reminder(Strict):
    """One reminder, counted in working days before or after the deadline."""

    before_working_days: int | None = None
    after_working_days: int | None = None

    @model_validator(mode="after")
    def _one(self) -> Reminder:
        if (self.before_working_days is None) == (self.after_working_days is None):
            raise ValueError(
                "en påmindelse skal have præcis én af before_working_days og after_working_days"
            )
        n = (
            self.before_working_days
            if self.before_working_days is not None
            else self.after_working_days
        )
        if n is not None and n < 0:
            raise ValueError("påmindelser tæller arbejdsdage og kan ikke være negative")
        return self

    @property
    def offset(self) -> int:
        """Signed working days relative to the deadline (negative = before)."""
        if self.before_working_days is not None:
            return -self.before_working_days
        return self.after_working_days or 0


class Signup(Strict):
    """A workshop people sign up for (``workflow.workshops``): ``capacity`` seats, first come
    first served, the rest on a waiting list; ``deadline`` a date (``Y-09-08``) or working
    days before the workshop (``5``); parties without sign-ups are reminded
    ``remind_days_before`` days before the deadline; fewer than ``minimum`` confirmed
    participants ``flag_days_before`` days before the workshop flags it to the secretariat."""

    capacity: Annotated[int, Field(ge=1, le=1000)]
    minimum: Annotated[int, Field(ge=0, le=1000)] = 0
    deadline: str | int
    remind_days_before: Annotated[int, Field(ge=0, le=60)] = 3
    flag_days_before: Annotated[int, Field(ge=0, le=120)] = 7

    @field_validator("deadline")
    @classmethod
    def check_deadline(cls, v: str | int) -> str | int:
        if isinstance(v, int):
            if not 0 <= v <= 120:
                raise ValueError(
                    f"{v} arbejdsdage før workshoppen er ingen tilmeldingsfrist; "
                    "skriv 0 til 120 eller en dato, fx Y-09-08"
                )
            return v
        try:
            DateExpr.parse(v)
        except ValueError as e:
            raise ValueError(f"{e}; eller antal arbejdsdage før workshoppen, fx 5") from None
        return v

    @model_validator(mode="after")
    def _minimum(self) -> Signup:
        if self.minimum > self.capacity:
            raise LocatedValueError(
                f"minimum {self.minimum} er større end antallet af pladser ({self.capacity})",
                ("minimum",),
            )
        return self


class Event(Strict):
    """A dated meeting or workshop that people are invited to."""

    id: Annotated[str, Field(pattern=_SLUG)]
    title: str
    date: str
    time: str = "10:00"
    duration_minutes: int = 180
    location: str = ""
    weekday: Weekday | None = None
    """The event is on the first such weekday on or after ``date`` (a fixed meeting day)."""
    roll: Roll | None = None
    """On a weekend or holiday; by default the stage's ``roll``, else ``keep`` (and a warning)."""
    signup: Signup | None = None
    """Workshops only: people sign up through the invitation's personal link."""

    @field_validator("date")
    @classmethod
    def check_dates(cls, v: str | None) -> str | None:
        return _date_expr(v)

    @field_validator("time")
    @classmethod
    def check_times(cls, v: str | None) -> str | None:
        return _clock(v)


class StageBase(Strict):
    id: Annotated[str, Field(pattern=_SLUG)]
    name: str
    forum: str = ""
    action: str = ""
    opens: str
    closes: str | None = None
    requires: list[str] | None = None
    """Stages that must be complete first; by default the stage before."""
    roll: Roll | None = None
    """For the stage's deadline and events on a weekend or holiday (see ``workflow.roll``)."""

    @field_validator("opens", "closes")
    @classmethod
    def check_window(cls, v: str | None) -> str | None:
        return _date_expr(v)


class ReminderRules(Strict):
    reminders: list[Reminder] = []
    min_gap_days: int = 2
    max_reminders: int = 3
    escalate_after_working_days: int | None = None


class SendReport(Strict):
    """The compiled report of a questionnaire stage, mailed to a meeting's invitees (a
    personal link to the report page) ``working_days_before`` working days before it."""

    source: Annotated[str, Field(pattern=_SLUG)]
    """The questionnaire stage whose answers the report compiles."""
    working_days_before: int = 5

    @field_validator("working_days_before")
    @classmethod
    def _not_negative(cls, v: int) -> int:
        if v < 0:
            raise ValueError("working_days_before tæller arbejdsdage og kan ikke være negativ")
        return v


class MeetingStage(StageBase):
    """The secretariat records the outcome; never silently auto-advanced."""

    kind: Literal["meeting"]
    meeting: Event | None = None
    invite: list[Role] = []
    send_report: SendReport | None = None
    """Mail the compiled report of a questionnaire stage to the invitees before the meeting."""


class DecisionStage(StageBase):
    """One body decides (e.g. KKR recommends); the secretariat records the decision."""

    kind: Literal["decision"]
    body: str
    meeting: Event | None = None
    invite: list[Role] = []
    recommends_agreement: bool = False
    """The decision recommends a version of the agreement (KKR): recording it records which."""


class QuestionnaireStage(StageBase, ReminderRules):
    """One task per party: invitation on ``send``, answer by ``deadline``, reminders, escalation."""

    kind: Literal["questionnaire"]
    questionnaire: str
    send: str
    deadline: str | None = None
    deadline_working_days: int | None = None
    accept_late: bool = True
    recipients: Role = "committee_secretary"
    report_questions: list[str] = []
    """Questions shown first in the compiled dialogue-forum report."""

    @field_validator("send", "deadline")
    @classmethod
    def check_send_deadline(cls, v: str | None) -> str | None:
        return _date_expr(v)

    @model_validator(mode="after")
    def _deadline(self) -> QuestionnaireStage:
        if (self.deadline is None) == (self.deadline_working_days is None):
            raise ValueError("angiv præcis én af deadline og deadline_working_days")
        return self


class WorkshopStage(StageBase):
    """One workshop per focus area; invitations with a calendar file go out when it opens."""

    kind: Literal["workshops"]
    workshops: list[Event]
    invite: list[Role] = ["committee_secretary"]


class ApprovalStage(StageBase, ReminderRules):
    """Per-party chain of bodies; complete when every party's chain has approved."""

    kind: Literal["approval"]
    chains: dict[PartyKind, list[Body]] = {
        "kommune": ["socialudvalg", "byraad"],
        "region": ["regionsraad"],
    }
    deadline: str
    recipients: Role = "council_secretariat"

    @field_validator("deadline")
    @classmethod
    def check_approval_deadline(cls, v: str | None) -> str | None:
        return _date_expr(v)


class SubmissionStage(StageBase):
    """The approved agreement is sent to the recipient (Socialstyrelsen)."""

    kind: Literal["submission"]
    recipient: Contact

    @model_validator(mode="after")
    def _nothing_to_roll(self) -> SubmissionStage:
        if self.roll is not None:
            raise LocatedValueError(
                "en fremsendelsesfase har ingen frist eller møde at rulle; fjern 'roll'", ("roll",)
            )
        return self


Stage = Annotated[
    MeetingStage
    | DecisionStage
    | QuestionnaireStage
    | WorkshopStage
    | ApprovalStage
    | SubmissionStage,
    Field(discriminator="kind"),
]


class CalendarRules(Strict):
    timezone: Literal["Europe/Copenhagen"] = "Europe/Copenhagen"
    office_hour: str = "09:00"
    office_hours_end: str = "16:00"

    @field_validator("office_hour", "office_hours_end")
    @classmethod
    def check_times(cls, v: str | None) -> str | None:
        return _clock(v)


class ProcessDefinition(Strict):
    id: Annotated[str, Field(pattern=_SLUG)]
    version: int
    name: str
    title: str = ""
    """Shown title; ``{Y}``, ``{Y+1}``, ``{Y+2}`` are replaced by years."""
    parties: str
    participants: list[str] | None = None
    """The parties taking part; by default every party in the registry."""
    calendar: CalendarRules = CalendarRules()
    link_grace_days: int = 14
    stages: list[Stage]

    def stage(self, sid: str) -> Stage:
        for s in self.stages:
            if s.id == sid:
                return s
        raise KeyError(sid)

    def requirements(self, sid: str) -> list[str]:
        ids = [s.id for s in self.stages]
        stage = self.stage(sid)
        if stage.requires is not None:
            return list(stage.requires)
        i = ids.index(sid)
        return [ids[i - 1]] if i else []

    def title_for(self, year: int) -> str:
        text = self.title or self.name
        return re.sub(r"\{Y([+-]\d+)?\}", lambda m: str(year + int(m.group(1) or 0)), text)
