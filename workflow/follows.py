"""Binding what follows an earlier stage: dates counted from a stage's recorded completion
(``{after: STAGE, working_days: 5}``) and the values a decision recorded (KKR's focus areas)
put into the questionnaire's choice lists and the workshops stage.

``Recorded`` is what the engine keeps on the process row (``processes.actuals``) when a stage
that others follow completes; ``workflow.timeline.bind`` takes them. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workflow.calendar import add_working_days, to_local
from workflow.definition import DecisionStage, ProcessDefinition, QuestionnaireStage, WorkshopStage
from workflow.definition_follows import After
from workflow.definition_questions import Option, Questionnaire

if TYPE_CHECKING:
    from workflow.loader import Bundle

#: (decision stage, value key) → the chosen values.
Values = dict[tuple[str, str], tuple[str, ...]]


@dataclass(frozen=True)
class Recorded:
    """A stage's recorded completion and the values its decision recorded."""

    at: datetime
    values: Mapping[str, tuple[str, ...]]

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "values": {k: list(v) for k, v in self.values.items()}}


def actuals_of(data: Mapping[str, Any] | None) -> dict[str, Recorded]:
    """The recorded completions kept on a process row (``processes.actuals``)."""
    out: dict[str, Recorded] = {}
    for sid, got in (data or {}).items():
        values = {k: tuple(v) for k, v in (got.get("values") or {}).items()}
        out[sid] = Recorded(datetime.fromisoformat(got["at"]), values)
    return out


def actuals_key(data: Mapping[str, Any] | None) -> str:
    """The cache key of a process row's actuals ("" without any): what binding reads of them,
    each completion's Danish day and values, so processes recorded the same day share one."""
    if not data:
        return ""
    days = {
        sid: [to_local(datetime.fromisoformat(got["at"])).date().isoformat(), got.get("values")]
        for sid, got in data.items()
    }
    return json.dumps(days, sort_keys=True, separators=(",", ":"))


def counted(base: date, rule: After) -> date:
    """``base`` moved on by the rule's working days, weeks or days."""
    if rule.working_days is not None:
        return add_working_days(base, rule.working_days)
    return base + timedelta(days=7 * (rule.weeks or 0) + (rule.days or 0))


def planned_completion(
    opens: date, closes_at: datetime | None, deadline: date | None, last_event: date | None
) -> date:
    """When a stage is planned to be complete: its (last) meeting or workshop, else its
    deadline, else its close, else its opening."""
    if last_event is not None:
        return last_event
    if deadline is not None:
        return deadline
    return to_local(closes_at).date() if closes_at else opens


def followed(proc: ProcessDefinition) -> set[str]:
    """The stages whose completion the engine records: followed by a date, or deciding values."""
    out: set[str] = set()
    for st in proc.stages:
        if isinstance(st, DecisionStage) and st.decides:
            out.add(st.id)
        for v in (st.closes, getattr(st, "send", None), getattr(st, "deadline", None)):
            if isinstance(v, After) and not v.own:
                out.add(v.after)
    return out


def value_refs(bundle: Bundle, sid: str) -> list[str]:
    """The ``STAGE.VALUE`` references a stage uses (its workshops, its questions' choices)
    that name a decision of this process."""
    proc = bundle.process
    st = proc.stage(sid)
    refs: set[str] = set()
    if isinstance(st, WorkshopStage) and st.one_per:
        refs.add(st.one_per)
    if isinstance(st, QuestionnaireStage) and st.questionnaire in bundle.questionnaires:
        q = bundle.questionnaires[st.questionnaire]
        refs.update(x.choices_from for x in q.questions if x.choices_from)
    # a question's reference to a decision this process does not have: its own options
    return sorted(r for r in refs if proc.decision_value(r) is not None)


def decided(proc: ProcessDefinition, actuals: Mapping[str, Recorded]) -> Values:
    """Every decided value: as recorded, else the planned choice (else every option)."""
    out: Values = {}
    for st in proc.stages:
        if not isinstance(st, DecisionStage):
            continue
        rec = actuals.get(st.id)
        for key, spec in st.decides.items():
            if rec is not None and key in rec.values:
                out[(st.id, key)] = rec.values[key]
            else:
                out[(st.id, key)] = tuple(spec.planned or [o.value for o in spec.options])
    return out


def with_choices(bundle: Bundle, values: Values) -> Bundle:
    """The bundle with every ``choices_from`` question's options taken from ``values``."""
    proc = bundle.process
    changed: dict[str, Questionnaire] = {}
    for qid, q in bundle.questionnaires.items():
        if not any(x.choices_from for x in q.questions):
            continue
        sections = []
        for sec in q.sections:
            questions = []
            for x in sec.questions:
                got = proc.decision_value(x.choices_from) if x.choices_from else None
                if got is not None:
                    stage, key = got
                    spec = stage.decides[key]
                    opts = [
                        Option(value=v, label=spec.label_of(v)) for v in values[(stage.id, key)]
                    ]
                    x = x.model_copy(update={"options": opts})
                questions.append(x)
            sections.append(sec.model_copy(update={"questions": questions}))
        changed[qid] = q.model_copy(update={"sections": sections})
    if not changed:
        return bundle
    return replace(bundle, questionnaires={**bundle.questionnaires, **changed})


def chosen_workshops(st: WorkshopStage, proc: ProcessDefinition, values: Values) -> WorkshopStage:
    """A ``one_per`` workshops stage with only the workshops of the decided values."""
    got = proc.decision_value(st.one_per) if st.one_per else None
    if got is None:
        return st
    chosen = values[(got[0].id, got[1])]
    kept = [w for w in st.workshops if w.focus_area in chosen]
    return st.model_copy(update={"workshops": kept})
