"""When a workshop's sign-up closes, and when its reminder and its minimum check fall due.

Pure functions of the definition and the bound timeline (``workflow.timeline``); what happens
then is decided in ``workflow.workshops``. Days before are working days (Danish calendar).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workflow.calendar import add_working_days, end_of_day, to_local
from workflow.definition import Event, Signup, WorkshopStage
from workflow.definition_base import DateExpr
from workflow.errors import NotFound
from workflow.labels import label
from workflow.timeline import BoundEvent, BoundProcess, BoundStage


@dataclass(frozen=True)
class SignupWindow:
    """One workshop that takes sign-ups, with its moments."""

    stage_id: str
    event: BoundEvent
    rules: Signup
    deadline: datetime
    """The end of the last day to sign up (UTC)."""
    remind_at: datetime
    """Parties without a sign-up are reminded then."""
    flag_at: datetime
    """Fewer confirmed than ``minimum`` then: the secretariat is told."""

    @property
    def id(self) -> str:
        return self.event.id

    def open_for_signup(self, at: datetime) -> bool:
        return at <= self.deadline

    def open_for_cancelling(self, at: datetime) -> bool:
        return at < self.event.start


def signup_problems(stage: Any, ev: Event, year: int) -> list[tuple[tuple[str, ...], str]]:
    """A ``signup`` belongs on a workshop, and closes before the workshop is held."""
    if ev.signup is None:
        return []
    if not isinstance(stage, WorkshopStage):
        kind = label(stage.kind).lower()
        where = f"{ev.title!r} står i fasen {stage.id!r}, som er {kind}"
        return [(("signup",), f"kun workshops har tilmelding; {where}")]
    deadline = ev.signup.deadline
    if isinstance(deadline, str) and DateExpr.parse(deadline).sort_key(year) > DateExpr.parse(
        ev.date
    ).sort_key(year):
        return [
            (
                ("signup", "deadline"),
                f"tilmeldingsfristen {deadline} ligger efter workshoppen ({ev.date})",
            )
        ]
    return []


def _deadline_day(rules: Signup, workshop_day: date, year: int) -> date:
    if isinstance(rules.deadline, int):
        return add_working_days(workshop_day, -rules.deadline)
    return DateExpr.parse(rules.deadline).bind(year)


def signup_windows(bound: BoundProcess, bst: BoundStage) -> list[SignupWindow]:
    """The stage's workshops that take sign-ups, in the definition's order."""
    d = bst.definition
    if not isinstance(d, WorkshopStage):
        return []
    by_id = {ev.id: ev for ev in bst.events}
    out = []
    for w in d.workshops:
        if w.signup is None or w.id not in by_id:
            continue
        ev = by_id[w.id]
        day = to_local(ev.start).date()
        last = _deadline_day(w.signup, day, bound.year)
        out.append(
            SignupWindow(
                stage_id=bst.id,
                event=ev,
                rules=w.signup,
                deadline=end_of_day(last),
                remind_at=bound.slot(add_working_days(last, -w.signup.remind_days_before)),
                flag_at=bound.slot(add_working_days(day, -w.signup.flag_days_before)),
            )
        )
    return out


def signup_window(bound: BoundProcess, stage_id: str, workshop_id: str) -> SignupWindow:
    try:
        bst = bound.stage(stage_id)
    except KeyError:
        raise NotFound(
            f"Processen har ingen fase {stage_id!r}.", en=f"The process has no stage {stage_id!r}."
        ) from None
    for w in signup_windows(bound, bst):
        if w.id == workshop_id:
            return w
    name = bst.definition.name
    raise NotFound(
        f"Fasen »{name}« har ingen workshop {workshop_id!r} med tilmelding.",
        en=f"The stage »{name}« has no workshop {workshop_id!r} that takes sign-ups.",
    )


#: What the tick does about a workshop's sign-up (``workflow.workshop_tick``), and the key of
#: the stage's ``outcome`` that lists the workshops it was done for.
REMIND_SIGNUP, FLAG_WORKSHOP = "remind_signup", "flag_workshop"
DONE_KEYS = {REMIND_SIGNUP: "signup_reminded", FLAG_WORKSHOP: "signup_flagged"}


def signup_due(
    bound: BoundProcess, bst: BoundStage, outcome: dict[str, Any] | None
) -> list[tuple[str, datetime, str]]:
    """(kind, due, workshop) of what is still to do about the stage's sign-ups."""
    done = outcome or {}
    out = []
    for w in signup_windows(bound, bst):
        if w.id not in done.get(DONE_KEYS[REMIND_SIGNUP], []):
            out.append((REMIND_SIGNUP, w.remind_at, w.id))
        if w.rules.minimum and w.id not in done.get(DONE_KEYS[FLAG_WORKSHOP], []):
            out.append((FLAG_WORKSHOP, w.flag_at, w.id))
    return out
