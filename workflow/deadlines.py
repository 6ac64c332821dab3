"""THE deadline a task has now, decided in one place (the engine's records, the dashboard,
the API, the personal-link pages and the calendar all ask here)."""

from __future__ import annotations

from datetime import date


def effective_deadline(
    *, extended: date | None, stage: date | None, step: date | None = None
) -> date | None:
    """The party's own extension (``tasks.deadline_override``, ``workflow.acts.extend``) if it
    has one, else its approval step's own deadline from the council's calendar
    (``tasks.step_deadline``, ``workflow.step_plan``), else the stage's deadline as the live
    plan has it: moved for every party (``workflow.live_plan``) or, unmoved, the definition's."""
    return extended or step or stage
