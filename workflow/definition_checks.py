"""Checks of a process definition that need more than one field: the order of stages and
dates, references between stages, questions and parties, and binding to a real year.

Each problem is told at its line in the process file (``semantic_problems``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from workflow.definition import (
    ApprovalStage,
    Event,
    MeetingStage,
    ProcessDefinition,
    QuestionnaireStage,
    Stage,
    WorkshopStage,
)
from workflow.definition_base import DateExpr
from workflow.definition_errors import dotted, suggest
from workflow.definition_follows import fixed
from workflow.errors import DefinitionError, Problem
from workflow.signup_rules import signup_problems
from workflow.yaml_source import locate

if TYPE_CHECKING:
    from workflow.loader import Bundle

#: Reports one problem at a location in the process file.
At = Callable[[tuple[Any, ...], str], None]


def semantic_problems(
    bundle: Bundle, node: yaml.Node | None, file: str, reference_year: int | None = None
) -> list[Problem]:
    """Checks that need more than one field: order of stages and dates, references."""
    from workflow.follows_checks import follows_problems
    from workflow.forum_checks import forum_problems

    proc = bundle.process
    problems: list[Problem] = []

    def at(loc: tuple[Any, ...], message: str) -> None:
        line, _ = locate(node, loc)
        problems.append(Problem(file, line, message, dotted(loc)))

    seen: set[str] = set()
    for i, stage in enumerate(proc.stages):
        if stage.id in seen:
            at(("stages", i, "id"), f"fase-id'et {stage.id!r} er brugt to gange")
        seen.add(stage.id)

    year = reference_year or 2022
    for i, stage in enumerate(proc.stages):
        _stage_problems(bundle, i, stage, year, at)

    for loc, message in forum_problems(proc):
        at(loc, message)
    for loc, message in follows_problems(bundle):
        at(loc, message)

    slugs = bundle.parties.slugs
    for j, slug in enumerate(proc.participants or []):
        if slug not in slugs:
            at(("participants", j), f"ukendt part {slug!r}{suggest(slug, slugs)}")

    if problems:
        return problems
    return _bind_problems(bundle, node, file, year)


def _stage_problems(bundle: Bundle, i: int, stage: Stage, year: int, at: At) -> None:
    opens = DateExpr.parse(stage.opens)
    _order_problems(bundle.process, i, stage, year, at)
    closes = fixed(stage.closes)
    if closes and DateExpr.parse(closes).sort_key(year) < opens.sort_key(year):
        at(
            ("stages", i, "closes"),
            f"fasen {stage.id!r} lukker ({stage.closes}), før den åbner ({stage.opens})",
        )
    if isinstance(stage, QuestionnaireStage):
        _questionnaire_problems(bundle, i, stage, year, at)
    if isinstance(stage, ApprovalStage) and DateExpr.parse(stage.deadline).sort_key(
        year
    ) < opens.sort_key(year):
        at(
            ("stages", i, "deadline"),
            f"fristen {stage.deadline} ligger før fasen åbner ({stage.opens})",
        )
    _event_problems(i, stage, year, at)


def _order_problems(proc: ProcessDefinition, i: int, stage: Stage, year: int, at: At) -> None:
    """A stage requires only stages before it, and opens no earlier than they do."""
    ids = [s.id for s in proc.stages]
    opens = DateExpr.parse(stage.opens)
    for j, req in enumerate(stage.requires or []):
        if req not in ids:
            at(("stages", i, "requires", j), f"ukendt fase {req!r}{suggest(req, ids)}")
        elif ids.index(req) >= i:
            at(
                ("stages", i, "requires", j),
                f"fasen {stage.id!r} kræver {req!r}, som kommer efter den; "
                "faserne står i den rækkefølge, de kører",
            )
    for req in proc.requirements(stage.id):
        if req in ids and ids.index(req) < i:
            before = DateExpr.parse(proc.stage(req).opens)
            if opens.sort_key(year) < before.sort_key(year):
                at(
                    ("stages", i, "opens"),
                    f"fasen {stage.id!r} åbner {opens}, men fasen før den, {req!r}, "
                    f"åbner senere ({before}): faserne står i forkert rækkefølge",
                )


def _questionnaire_problems(
    bundle: Bundle, i: int, stage: QuestionnaireStage, year: int, at: At
) -> None:
    opens = DateExpr.parse(stage.opens)
    written_send, written_deadline = fixed(stage.send), fixed(stage.deadline)
    send = DateExpr.parse(written_send) if written_send else None
    if send and send.sort_key(year) < opens.sort_key(year):
        at(
            ("stages", i, "send"),
            f"afsendelsesdatoen {stage.send} ligger før fasen åbner ({stage.opens})",
        )
    if (
        send
        and written_deadline
        and DateExpr.parse(written_deadline).sort_key(year) <= send.sort_key(year)
    ):
        at(
            ("stages", i, "deadline"),
            f"fristen {stage.deadline} ligger ikke efter afsendelsesdatoen {stage.send}",
        )
    if stage.deadline_working_days is not None and stage.deadline_working_days < 1:
        at(("stages", i, "deadline_working_days"), "skal være mindst 1 arbejdsdag")
    q = bundle.questionnaires.get(stage.questionnaire)
    if q is not None:
        qids = [x.id for x in q.questions]
        for j, qid in enumerate(stage.report_questions):
            if qid not in qids:
                at(
                    ("stages", i, "report_questions", j),
                    f"ukendt spørgsmål {qid!r} i spørgeskemaet {q.id!r}{suggest(qid, qids)}",
                )


def _event_problems(i: int, stage: Stage, year: int, at: At) -> None:
    """A stage's meeting or workshops lie inside the stage, and their sign-up rules hold."""
    opens = DateExpr.parse(stage.opens)
    events: list[tuple[tuple[Any, ...], Event]] = []
    if isinstance(stage, WorkshopStage):
        events = [(("stages", i, "workshops", k), w) for k, w in enumerate(stage.workshops)]
    elif isinstance(stage, MeetingStage) or getattr(stage, "meeting", None) is not None:
        m = getattr(stage, "meeting", None)
        if m is not None:
            events = [(("stages", i, "meeting"), m)]
    closes = fixed(stage.closes)
    for loc, ev in events:
        d = DateExpr.parse(ev.date)
        for sloc, message in signup_problems(stage, ev, year):
            at((*loc, *sloc), message)
        if d.sort_key(year) < opens.sort_key(year) or (
            closes and d.sort_key(year) > DateExpr.parse(closes).sort_key(year)
        ):
            at(
                (*loc, "date"),
                f"{ev.title!r} den {ev.date} ligger uden for fasen "
                f"({stage.opens} til {stage.closes or 'åben slutning'})",
            )


def _bind_problems(bundle: Bundle, node: yaml.Node | None, file: str, year: int) -> list[Problem]:
    """Bind to a real year: catches Y-02-29 in a common year and reminders outside the stage."""
    from workflow.timeline import bind  # timeline imports the definition model only

    problems: list[Problem] = []
    try:
        bind(bundle, year)
    except DefinitionError as e:
        for prob in e.problems:
            loc = (
                tuple(int(x) if x.isdigit() else x for x in prob.field.split("."))
                if prob.field
                else ()
            )
            line, _ = locate(node, loc)
            problems.append(Problem(file, line, prob.message, prob.field))
    return problems
