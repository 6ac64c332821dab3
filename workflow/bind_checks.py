"""The checks of a bound plan that need its reminder and escalation moments: each lies after
the invitation is sent and before the stage closes (``workflow.timeline.bind`` asks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workflow.errors import Problem

if TYPE_CHECKING:
    from workflow.timeline import BoundProcess


def reminder_problems(bound: BoundProcess, year: int) -> list[Problem]:
    problems: list[Problem] = []
    for s in bound.stages:
        if s.deadline is None or s.rules is None:
            continue
        f = f"stages.{s.index}"
        start = s.send_at or s.opens_at
        for j, moment in enumerate(bound.reminder_moments(s, s.deadline)):
            if moment < start:
                problems.append(
                    Problem(
                        bound.bundle.path,
                        None,
                        f"påmindelse {j + 1} ({moment.date()}) falder før invitationen sendes "
                        f"({start.date()}) i {year}",
                        f"{f}.reminders.{j}",
                    )
                )
            if s.closes_at and moment > s.closes_at:
                problems.append(
                    Problem(
                        bound.bundle.path,
                        None,
                        f"påmindelse {j + 1} ({moment.date()}) falder efter at fasen lukker "
                        f"({s.closes_at.date()}) i {year}",
                        f"{f}.reminders.{j}",
                    )
                )
        esc = bound.escalation_at(s, s.deadline)
        if esc and s.closes_at and esc > s.closes_at:
            problems.append(
                Problem(
                    bound.bundle.path,
                    None,
                    f"eskaleringen ({esc.date()}) falder efter at fasen lukker "
                    f"({s.closes_at.date()}) i {year}",
                    f"{f}.escalate_after_working_days",
                )
            )
    return problems
