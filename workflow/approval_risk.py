"""Risk ahead in the approval stage: each party's planned council meeting per step, from the
councils' calendars, and who cannot make the deadline — known weeks before it, not after.

Pure: the bound definition, the calendars and what each approval step is in now; plans out.
A party is at risk when a step it has not yet decided is planned for a meeting after its
(possibly extended) deadline, when no meeting with an open agenda is left before the year
ends, or when a step's agenda deadline has passed while no agreement version is up for
approval yet (the item could not have been on that agenda).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from workflow.calendar import to_local
from workflow.councils import MeetingCalendars
from workflow.councils_plan import StepPlan, plan_steps
from workflow.definition import ApprovalStage
from workflow.timeline import BoundProcess, BoundStage

DONE = frozenset({"approved", "exempt"})


def calendar_file(definition_path: str | Path, year: int) -> Path:
    """Where a definition's councils' calendars of ``year`` live: ``definitions/calendars/``
    beside its ``processes/`` folder."""
    return Path(definition_path).resolve().parent.parent / "calendars" / f"{year}.yaml"


@dataclass(frozen=True)
class StepRisk:
    plan: StepPlan
    status: str
    late: bool
    agenda_missed: bool

    @property
    def at_risk(self) -> bool:
        return self.late or self.agenda_missed


@dataclass(frozen=True)
class PartyRisk:
    party: str
    deadline: date
    steps: tuple[StepRisk, ...]

    @property
    def at_risk(self) -> bool:
        return any(s.at_risk for s in self.steps)


@dataclass(frozen=True)
class StageRisks:
    stage: BoundStage
    parties: tuple[PartyRisk, ...]

    @property
    def at_risk(self) -> list[PartyRisk]:
        return [p for p in self.parties if p.at_risk]


def approval_risks(
    bound: BoundProcess,
    calendars: MeetingCalendars,
    steps: Mapping[tuple[str, str, str], tuple[str, date | None]],
    *,
    agreement_up: bool,
    today: date,
    minutes_working_days: int | None = None,
    requested: Mapping[tuple[str, str, str], date] | None = None,
) -> list[StageRisks]:
    """Every approval stage's plan per party; ``steps`` maps (stage, party, step) to the
    step's status and its deadline override (None: the stage's deadline);
    ``minutes_working_days`` by default the stage's own (``ApprovalStage``); ``requested``
    maps (stage, party, step) to the day the step was asked for, or could be (the step before
    it decided): the plan then follows what happened (``councils_plan.plan_steps``)."""
    out: list[StageRisks] = []
    for bst in bound.stages:
        st = bst.definition
        if not isinstance(st, ApprovalStage) or bst.deadline is None:
            continue
        opens = to_local(bst.opens_at).date()
        minutes = st.minutes_working_days if minutes_working_days is None else minutes_working_days
        parties = []
        for slug in bound.bundle.participants:
            chain = list(st.chains.get(bound.bundle.parties.get(slug).kind, []))
            deadline = max(
                (steps.get((bst.id, slug, b), ("", None))[1] or bst.deadline for b in chain),
                default=bst.deadline,
            )
            asked = {
                b: d for (sid, p, b), d in (requested or {}).items() if (sid, p) == (bst.id, slug)
            }
            plans = plan_steps(chain, calendars.for_party(slug), opens, deadline, minutes, asked)
            parties.append(PartyRisk(slug, deadline, tuple(
                _step(p, steps.get((bst.id, slug, p.body), ("", None))[0], deadline,
                      agreement_up=agreement_up, today=today)
                for p in plans
            )))  # fmt: skip
        out.append(StageRisks(bst, tuple(parties)))
    return out


def _step(
    plan: StepPlan, status: str, deadline: date, *, agreement_up: bool, today: date
) -> StepRisk:
    if status in DONE:
        return StepRisk(plan, status, late=False, agenda_missed=False)
    missed = (
        not agreement_up
        and plan.agenda_deadline is not None
        and plan.agenda_deadline < today
        and status in ("", "pending")
    )
    return StepRisk(plan, status, late=plan.late_for(deadline), agenda_missed=missed)
