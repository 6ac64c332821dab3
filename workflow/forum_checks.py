"""The checks of a meeting's ``send_report`` and a decision's ``recommends_agreement`` that
need more than one field (``workflow.definition_checks.semantic_problems`` reports them at
their line)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workflow.definition import (
    ApprovalStage,
    DecisionStage,
    MeetingStage,
    ProcessDefinition,
    QuestionnaireStage,
)
from workflow.labels import label


def forum_problems(proc: ProcessDefinition) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(location, message) of every problem with the report sending and the recommendation."""
    from workflow.definition_errors import suggest

    ids = [s.id for s in proc.stages]
    questionnaires = [s.id for s in proc.stages if isinstance(s, QuestionnaireStage)]
    for i, stage in enumerate(proc.stages):
        if isinstance(stage, MeetingStage) and stage.send_report is not None:
            src = stage.send_report.source
            loc = ("stages", i, "send_report", "source")
            if src not in ids:
                yield loc, f"ukendt fase {src!r}{suggest(src, questionnaires or ids)}"
            elif src not in questionnaires:
                yield (
                    loc,
                    (
                        f"fasen {src!r} er {label(proc.stage(src).kind).lower()}; rapporten "
                        "samles af svarene i en spørgeskemafase "
                        f"({', '.join(questionnaires) or 'der er ingen her'})"
                    ),
                )
            elif ids.index(src) >= i:
                yield loc, f"rapporten fra {src!r} kan ikke sendes, før den fase har kørt"
            if stage.meeting is None:
                yield (
                    ("stages", i, "send_report"),
                    "send_report kræver fasens møde (meeting): rapporten sendes før mødet",
                )
            if not stage.invite:
                yield (
                    ("stages", i, "send_report"),
                    "send_report mailer fasens inviterede; angiv rollerne under 'invite'",
                )
        if isinstance(stage, DecisionStage) and stage.recommends_agreement:
            later = [s for s in proc.stages[i + 1 :] if isinstance(s, ApprovalStage)]
            if not later:
                yield (
                    ("stages", i, "recommends_agreement"),
                    "en beslutning, der anbefaler aftalen, kræver en godkendelsesfase efter sig",
                )
