"""The definition model of a process: its stages, reminders, events and calendar rules as
validated, frozen data (the parties in ``workflow.definition_parties``, the questionnaires in
``workflow.definition_questions``, the base in ``workflow.definition_base``).

A definition never holds runtime state. It is read from YAML by ``workflow.loader`` and
bound to a preparation year by ``workflow.timeline``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from workflow.definition_base import (
    SLUG,
    DateExpr,
    LocatedValueError,
    Strict,
    valid_clock,
    valid_date_expr,
)
from workflow.definition_follows import DateValue, DecidedValue, split_ref, valid_date_value
from workflow.definition_parties import Body, Contact, PartyKind, Role

Roll = Literal["next_working_day", "previous_working_day", "keep"]
"""What a date does on a weekend or a Danish holiday (see ``workflow.roll``)."""
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")


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

    id: Annotated[str, Field(pattern=SLUG)]
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
    focus_area: str | None = None
    """Workshops of a stage with ``one_per``: the decided value this workshop is held for."""

    @field_validator("date")
    @classmethod
    def check_dates(cls, v: str | None) -> str | None:
        return valid_date_expr(v)

    @field_validator("time")
    @classmethod
    def check_times(cls, v: str | None) -> str | None:
        return valid_clock(v)


class StageBase(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: str
    forum: str = ""
    action: str = ""
    opens: str
    closes: DateValue | None = None
    """A date, or ``{after: STAGE, weeks: 2}`` (``workflow.definition_follows``)."""
    requires: list[str] | None = None
    """Stages that must be complete first; by default the stage before."""
    roll: Roll | None = None
    """For the stage's deadline and events on a weekend or holiday (see ``workflow.roll``)."""

    @field_validator("opens")
    @classmethod
    def check_window(cls, v: str | None) -> str | None:
        return valid_date_expr(v)

    @field_validator("closes")
    @classmethod
    def check_closes(cls, v: DateValue | None) -> DateValue | None:
        return valid_date_value(v)


class ReminderRules(Strict):
    reminders: list[Reminder] = []
    min_gap_days: int = 2
    max_reminders: int = 3
    escalate_after_working_days: int | None = None


class SendReport(Strict):
    """The compiled report of a questionnaire stage, mailed to a meeting's invitees (a
    personal link to the report page) ``working_days_before`` working days before it."""

    source: Annotated[str, Field(pattern=SLUG)]
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
    decides: dict[Annotated[str, Field(pattern=SLUG)], DecidedValue] = {}
    """Values the decision records for later stages (KKR's focus areas)."""
    short_name: str = ""
    """How the decision's body is named in "afventer KKR's beslutning"; by default ``body``."""

    def waiting_text(self) -> tuple[str, str]:
        """What a stage that needs this decision's values says until it is recorded."""
        who = self.short_name or self.body
        da = f"{who}'s" if who[-1:].isupper() else (who if who.endswith("s") else f"{who}s")
        return f"afventer {da} beslutning", f"awaiting {who}'s decision"


class QuestionnaireStage(StageBase, ReminderRules):
    """One task per party: invitation on ``send``, answer by ``deadline``, reminders, escalation."""

    kind: Literal["questionnaire"]
    questionnaire: str
    send: DateValue
    deadline: DateValue | None = None
    deadline_working_days: int | None = None
    accept_late: bool = True
    recipients: Role = "committee_secretary"
    report_questions: list[str] = []
    """Questions shown first in the compiled dialogue-forum report."""

    @field_validator("send", "deadline")
    @classmethod
    def check_send_deadline(cls, v: DateValue | None) -> DateValue | None:
        return valid_date_value(v)

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
    one_per: str | None = None
    """``STAGE.VALUE`` of a decision: only the workshops whose ``focus_area`` was decided."""


class ApprovalStage(StageBase, ReminderRules):
    """Per-party chain of bodies; complete when every party's chain has approved."""

    kind: Literal["approval"]
    chains: dict[PartyKind, list[Body]] = {
        "kommune": ["socialudvalg", "byraad"],
        "region": ["regionsraad"],
    }
    deadline: str
    recipients: Role = "council_secretariat"
    step_recipients: dict[Body, Role] = {}
    """Who is asked for one body's step (``socialudvalg: committee_secretary``); the steps
    not named go to ``recipients``."""
    minutes_working_days: int = Field(default=2, ge=0, le=30)
    """Working days after a body's meeting that its minutes (the decision) reach the
    secretariat: a step planned on the councils' calendars is due then."""

    @field_validator("deadline")
    @classmethod
    def check_approval_deadline(cls, v: str | None) -> str | None:
        return valid_date_expr(v)

    @model_validator(mode="after")
    def _step_recipients_in_a_chain(self) -> ApprovalStage:
        steps = {b for chain in self.chains.values() for b in chain}
        for body in self.step_recipients:
            if body not in steps:
                raise LocatedValueError(
                    f"trinnet {body!r} er ikke med i nogen kæde ({', '.join(sorted(steps))}); "
                    "fjern det fra 'step_recipients', eller føj det til 'chains'",
                    ("step_recipients", body),
                )
        return self

    def recipient_role(self, step: str) -> str:
        """The role asked for (and reminded of) one step of the chain."""
        for body, role in self.step_recipients.items():
            if body == step:
                return role
        return self.recipients


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
        return valid_clock(v)


class ProcessDefinition(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
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

    def decision_value(self, ref: str) -> tuple[DecisionStage, str] | None:
        """The decision stage and value key of ``kkr-igangsaetter.focus_areas``, if declared."""
        parts = split_ref(ref)
        if parts is None:
            return None
        try:
            st = self.stage(parts[0])
        except KeyError:
            return None
        if not isinstance(st, DecisionStage) or parts[1] not in st.decides:
            return None
        return st, parts[1]

    def title_for(self, year: int) -> str:
        text = self.title or self.name
        return re.sub(r"\{Y([+-]\d+)?\}", lambda m: str(year + int(m.group(1) or 0)), text)
