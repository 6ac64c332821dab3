"""The peer: SpiffWorkflow 3.2 running the same process-year as the engine.

``bench/bpmn/socialaftale.bpmn`` models the shipped Socialaftale (8 stages in order, a
multi-instance questionnaire with reminder and escalation timers per party, a per-party approval
chain of two steps for a kommune and one for the region, the submission). This module drives it
to completion the way the bench's fleet drives the engine: the same dates (from the shipped
definition, by the engine's calendar), the same late parties, the same moments of action (the
next working day at 10:00, or after the deadline for a late party), on a virtual clock.

Two ways, as ``make bench`` reports them:

- in memory: one ``BpmnWorkflow`` object lives for the whole year;
- save/restore: after every step (a user task completed, or the timers due at a moment fired)
  the instance is serialised to JSON with ``BpmnWorkflowSerializer`` and restored from it, as a
  host application that keeps its instances in a database must do between requests.

Time: SpiffWorkflow reads the wall clock inside its timer events (its own tests sleep). The driver
swaps the ``datetime`` name of ``SpiffWorkflow.bpmn.specs.event_definitions.timer`` for a
subclass whose ``now()`` is the virtual clock, for the length of a run: the same Spiff code runs,
only "now" differs. Nothing sleeps.

Only Spiff's own calls are timed (creating the instance, completing tasks, engine steps, timer
refreshes, listing ready tasks and waiting timers, serialising and restoring); the driver's
calendar arithmetic is not, as for the engine.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any, ClassVar

from bench.fleet import ACT_AT, first_day, next_working_moment
from bench.scenario import YEAR, late_parties
from workflow.calendar import add_working_days, local_to_utc, to_local
from workflow.loader import Bundle
from workflow.timeline import BoundProcess, BoundStage, bind

BPMN = Path(__file__).resolve().parent / "bpmn" / "socialaftale.bpmn"
PROCESS_ID = "socialaftale"
QUESTIONNAIRE = "fagudvalg-spoergsmaal"
APPROVAL = "politisk-godkendelse"
#: The meeting and decision user tasks: BPMN task id → (stage id, the outcome recorded).
OUTCOMES = {
    "das_meeting": ("das-fokus", "held"),
    "kkr_decision": ("kkr-igangsaetter", "approved"),
    "dialogforum_meeting": ("dialogforum", "held"),
    "kkr_recommendation": ("kkr-anbefaler", "approved"),
}
ANSWER = "answer_questionnaire"
#: The approval steps' user tasks, named as the definition's chains name them.
STEPS = {"socialudvalg": "socialudvalg", "byraad": "byraad", "regionsraad": "regionsraad"}
#: The script tasks behind the timers: reminders (3 on the questionnaire, 2 on the approvals).
REMINDERS = frozenset({"q_remind_1", "q_remind_2", "q_remind_3", "a_remind_1", "a_remind_2"})
ESCALATION = frozenset({"q_escalate"})
EPSILON = timedelta(microseconds=1)  # Spiff fires a timer once now > due, not at due


def available() -> str | None:
    """None if SpiffWorkflow can be imported, else why not (for a SKIP row)."""
    try:
        import SpiffWorkflow.bpmn  # noqa: F401
    except ImportError as e:
        return f"SpiffWorkflow is not installed ({e}); `make bench` installs the bench extra"
    return None


# ---------------------------------------------------------------------- the year's data


@dataclass(frozen=True)
class Year:
    """One process-year as the driver needs it: start data, when each person acts."""

    start_at: datetime
    data: dict[str, Any]
    kinds: dict[str, str]
    late: frozenset[str]
    outcome_at: dict[str, datetime]
    late_at: dict[str, datetime]  # task kind (answer, approve) → when a late party acts

    @property
    def user_tasks(self) -> int:
        """User tasks a year takes: the outcomes, one answer per party, one per approval step."""
        steps = sum(2 if kind == "kommune" else 1 for kind in self.kinds.values())
        return len(OUTCOMES) + len(self.kinds) + steps


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _late_moment(bound: BoundProcess, stage: BoundStage) -> datetime:
    """When a late party acts: as ``Fleet._answer_time`` (after the escalation, before closing)."""
    assert stage.deadline is not None
    rules = stage.rules
    esc = rules.escalate_after_working_days if rules else None
    after = (esc + 1) if esc is not None else 3
    when = local_to_utc(add_working_days(stage.deadline, after), ACT_AT)
    if stage.closes_at is not None and when > stage.closes_at:
        when = local_to_utc(to_local(stage.closes_at).date(), ACT_AT)
    return when


def year_of(bundle: Bundle, year: int = YEAR) -> Year:
    """The start data and action moments of one year of ``bundle`` (the shipped definition)."""
    bound = bind(bundle, year)
    at: dict[str, str] = {}
    for st in bound.stages:
        at[st.id] = _iso(st.send_at or st.opens_at)
        if st.closes_at is not None:
            at[f"{st.id}.closes"] = _iso(st.closes_at)
    q, a = bound.stage(QUESTIONNAIRE), bound.stage(APPROVAL)
    assert q.deadline is not None and a.deadline is not None
    q_reminders = bound.reminder_moments(q, q.deadline)
    a_reminders = bound.reminder_moments(a, a.deadline)
    escalation = bound.escalation_at(q, q.deadline)
    if len(q_reminders) != 3 or len(a_reminders) != 2 or escalation is None:
        raise ValueError(
            "the BPMN model has 3 questionnaire reminders, an escalation and 2 approval "
            f"reminders; the definition plans {len(q_reminders)}, "
            f"{'one' if escalation else 'none'} and {len(a_reminders)}"
        )
    for i, m in enumerate(q_reminders, 1):
        at[f"q-reminder-{i}"] = _iso(m)
    at["q-escalation"] = _iso(escalation)
    for i, m in enumerate(a_reminders, 1):
        at[f"a-reminder-{i}"] = _iso(m)
    kinds = {p.slug: p.kind for p in bundle.parties.parties if p.slug in bundle.participants}
    parties = {slug: {"slug": slug, "kind": kind} for slug, kind in kinds.items()}
    outcome_at = {}
    for task, (stage_id, _) in OUTCOMES.items():
        st = bound.stage(stage_id)
        outcome_at[task] = max(e.end for e in st.events) if st.events else st.opens_at
    start = local_to_utc(first_day(bundle, year), time(0, 0))
    return Year(
        start_at=start,
        data={"at": at, "parties": parties, "reminders": 0, "escalated": False},
        kinds=kinds,
        late=late_parties(bundle),
        outcome_at=outcome_at,
        late_at={"answer": _late_moment(bound, q), "approve": _late_moment(bound, a)},
    )


# ---------------------------------------------------------------------- the virtual clock


class _VirtualDatetime(datetime):
    """``datetime`` whose ``now()`` is the bench's virtual clock."""

    at: ClassVar[datetime]

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.at if tz is None else cls.at.astimezone(tz)


@contextmanager
def virtual_clock(start: datetime) -> Iterator[type[_VirtualDatetime]]:
    """Spiff's timers see ``clock.at`` as now while the block runs."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    saved = timer.datetime
    _VirtualDatetime.at = start
    timer.datetime = _VirtualDatetime  # type: ignore[misc]
    try:
        yield _VirtualDatetime
    finally:
        timer.datetime = saved  # type: ignore[misc]


# ---------------------------------------------------------------------- driving


@dataclass
class Run:
    """What one process-year cost in SpiffWorkflow."""

    seconds: float = 0.0  # Spiff's own calls, save/restore included
    save_restore_s: float = 0.0
    user_steps: int = 0
    timer_steps: int = 0
    sizes: list[int] = field(default_factory=list)  # bytes of each serialised state
    reminders: int = 0
    escalated: int = 0
    completed: bool = False
    data: dict[str, Any] = field(default_factory=dict)


def load_specs() -> tuple[Any, dict[str, Any]]:
    """The process spec and its subprocess specs, parsed once (not part of any figure)."""
    from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator

    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


def serializer() -> Any:
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

    return BpmnWorkflowSerializer()


def _payload(year: Year, task: Any) -> dict[str, Any]:
    name = task.task_spec.bpmn_id
    if name in OUTCOMES:
        return {"outcome": OUTCOMES[name][1], "minutes": "Simuleret referat"}
    if name == ANSWER:
        return {"answer": {"party": task.data["party"]["slug"], "simulated": True}}
    decision = {"decision": "approved", "decision_text": "Godkendt", "agenda_item": "1"}
    return {"approval": {**task.data.get("approval", {}), STEPS[name]: decision}}


def _act_at(year: Year, task: Any, ready_at: datetime) -> datetime:
    """When the simulated person completes ``task``, which became ready at ``ready_at``."""
    name = task.task_spec.bpmn_id
    if name in OUTCOMES:
        return max(year.outcome_at[name], ready_at)
    party = task.data["party" if name == ANSWER else "approving_party"]["slug"]
    soon = next_working_moment(ready_at)
    if party not in year.late:
        return soon
    return max(year.late_at["answer" if name == ANSWER else "approve"], soon)


def drive(spec: Any, subprocess_specs: dict[str, Any], year: Year, *, save: Any = None) -> Run:
    """One process-year from start to the submission; ``save``: a serializer to save/restore
    the instance after every step (None: in memory)."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    run = Run()
    ready_at: dict[Any, datetime] = {}
    with virtual_clock(year.start_at) as clock:
        t0 = perf_counter()
        wf = BpmnWorkflow(spec, subprocess_specs)
        wf.get_next_task(state=TaskState.READY).data.update(copy.deepcopy(year.data))
        wf.do_engine_steps()
        run.seconds += perf_counter() - t0
        wf = _save_restore(wf, save, run)
        while True:
            t0 = perf_counter()
            if wf.is_completed():
                run.seconds += perf_counter() - t0
                break
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            timers = [e.value for e in wf.waiting_events() if e.value]
            run.seconds += perf_counter() - t0
            # the driver's choice of the next moment (not timed)
            for t in ready:
                ready_at.setdefault(t.id, clock.at)
            acts = sorted(((_act_at(year, t, ready_at[t.id]), i, t) for i, t in enumerate(ready)))
            due = min((datetime.fromisoformat(v) for v in timers), default=None)
            if not acts and due is None:
                raise RuntimeError("the SpiffWorkflow instance is stuck: nothing ready, no timer")
            if acts and (due is None or acts[0][0] <= due):
                when, _, task = acts[0]
                clock.at = max(clock.at, when)
                payload = _payload(year, task)
                t0 = perf_counter()
                task.data.update(payload)
                task.run()
                wf.do_engine_steps()
                run.seconds += perf_counter() - t0
                run.user_steps += 1
            else:
                assert due is not None
                clock.at = max(clock.at, due + EPSILON)
                t0 = perf_counter()
                wf.refresh_timers()
                wf.do_engine_steps()
                run.seconds += perf_counter() - t0
                run.timer_steps += 1
            wf = _save_restore(wf, save, run)
    run.completed = wf.is_completed()
    run.data = wf.last_task.data if wf.last_task is not None else {}
    run.reminders = _count(wf, REMINDERS)
    run.escalated = _count(wf, ESCALATION)
    return run


def _save_restore(wf: Any, save: Any, run: Run) -> Any:
    if save is None:
        return wf
    t0 = perf_counter()
    state = save.serialize_json(wf)
    restored = save.deserialize_json(state)
    spent = perf_counter() - t0
    run.seconds += spent
    run.save_restore_s += spent
    run.sizes.append(len(state.encode("utf-8")))
    return restored


def _count(wf: Any, ids: frozenset[str]) -> int:
    """Tasks with these BPMN ids that ran (reminders sent, escalations)."""
    from SpiffWorkflow.util.task import TaskState

    return sum(1 for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id in ids)


# ---------------------------------------------------------------------- many years


@dataclass(frozen=True)
class Figures:
    """Per process-year, over ``instances`` years run one after another."""

    instances: int
    ms: float
    save_restore_ms: float
    user_steps: float
    timer_steps: float
    min_bytes: int
    mean_bytes: float
    max_bytes: int


def measure(
    year: Year,
    instances: int,
    *,
    save_restore: bool,
    specs: tuple[Any, dict[str, Any]] | None = None,
) -> Figures:
    """Run ``instances`` process-years one after another and give the cost of one."""
    spec, subprocess_specs = specs or load_specs()
    save = serializer() if save_restore else None
    runs = [drive(spec, subprocess_specs, year, save=save) for _ in range(instances)]
    bad = [r for r in runs if not r.completed or r.user_steps != year.user_tasks]
    if bad:
        raise RuntimeError(
            f"{len(bad)} SpiffWorkflow instance(s) did not complete with {year.user_tasks} user "
            f"tasks (first: {bad[0].user_steps}, completed={bad[0].completed})"
        )
    sizes = [s for r in runs for s in r.sizes]
    return Figures(
        instances=instances,
        ms=sum(r.seconds for r in runs) / instances * 1000,
        save_restore_ms=sum(r.save_restore_s for r in runs) / instances * 1000,
        user_steps=sum(r.user_steps for r in runs) / instances,
        timer_steps=sum(r.timer_steps for r in runs) / instances,
        min_bytes=min(sizes, default=0),
        mean_bytes=sum(sizes) / len(sizes) if sizes else 0.0,
        max_bytes=max(sizes, default=0),
    )
