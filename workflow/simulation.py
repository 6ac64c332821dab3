"""A whole cycle on a virtual clock: the engine ticks, simulated people answer and decide.

Simulated parties answer and approve on the first working day after they are asked (at
10:00), a council whose step is planned on its meeting calendar on the working day after
that meeting, except the parties named ``late``, which answer only after their deadline (one
working day after the escalation, or three after the (step's own) deadline when there is
none). The
simulated secretariat records each meeting and decision when the meeting has ended.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import sample_agreement
from workflow.calendar import add_working_days, local_to_utc, to_local
from workflow.decided import planned_values
from workflow.loader import Bundle
from workflow.planner import INVITE, OPEN_STAGE, REQUEST_APPROVAL, SUBMIT_AGREEMENT, Action
from workflow.service import Applied, Service, bound_for
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, StageRow, TaskRow
from workflow.timeline import BoundProcess

#: When a simulated person acts on a working day (Danish time).
ACT_AT = time(10, 0)
SIMULATED = "simulation"
#: How long before an approval stage would open the simulated secretariat puts the sample up.
SAMPLE_LEAD = timedelta(minutes=1)
#: The ``Happening.kind`` of the sample agreement put up for approval.
SAMPLE_PUT_UP = "document_put_up_for_approval"


@dataclass(frozen=True)
class Happening:
    at: datetime
    kind: str
    stage: str = ""
    party: str = ""
    step: str = ""
    detail: str = ""


Act = Callable[[datetime], "tuple[Happening, list[Applied]]"]


@dataclass
class SimulationResult:
    key: str
    year: int
    happenings: list[Happening] = field(default_factory=list)
    ticks: int = 0
    final_status: str = ""


def simulate(
    service: Service,
    bundle: Bundle,
    year: int,
    *,
    late: frozenset[str] = frozenset(),
    on_tick: Callable[[datetime], None] | None = None,
    until: datetime | None = None,
    reload: Callable[[], Service] | None = None,
) -> SimulationResult:
    """Run the whole cycle; ``on_tick(at)`` runs after every tick (e.g. to deliver mail).

    With ``reload``, every step (tick or simulated person) gets a fresh service from it: a
    store round-trip between steps, so persistence bugs surface.
    """
    fresh = reload or (lambda: service)
    start = local_to_utc(_first_day(bundle, year), time(0, 0))
    key = service.start(bundle, year, at=start, actor=SIMULATED)
    return _run(fresh, key, start, late, on_tick, until, resume=False)


def simulate_from(
    service: Service,
    key: str,
    now: datetime,
    *,
    late: frozenset[str] = frozenset(),
    on_tick: Callable[[datetime], None] | None = None,
) -> SimulationResult:
    """Run the rest of the cycle of the process ``key`` as it stands (a fork of the live
    state, ``workflow.fork``) from ``now``: the simulated people take up what waits for them
    (open meetings, invited parties, requested approvals) and everything after."""
    return _run(lambda: service, key, now, late, on_tick, None, resume=True)


def _run(
    fresh: Callable[[], Service],
    key: str,
    start: datetime,
    late: frozenset[str],
    on_tick: Callable[[datetime], None] | None,
    until: datetime | None,
    *,
    resume: bool,
) -> SimulationResult:
    acts: list[tuple[datetime, int, Act]] = []
    counter = itertools.count()

    with fresh().db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None
        bound = bound_for(row)
        result = SimulationResult(key, row.year)
        waiting = _waiting(s, row.id) if resume else []

    def schedule(at: datetime, fn: Act) -> None:
        heapq.heappush(acts, (at, next(counter), fn))

    def react(applied: list[Applied], at: datetime) -> None:
        for a in applied:
            act = a.action
            result.happenings.append(
                Happening(at, act.kind, act.stage, act.party, act.step, _detail(act))
            )
            if act.kind == OPEN_STAGE:
                _plan_outcome(fresh, bound, key, act.stage, at, schedule)
            elif act.kind == INVITE:
                when = _answer_time(bound, act.stage, act.party, at, late)
                schedule(when, _answer(fresh, key, act.stage, act.party))
            elif act.kind == REQUEST_APPROVAL:
                plan = _step_plan(fresh, key, act.stage, act.party, act.step)
                when = _answer_time(bound, act.stage, act.party, at, late, plan)
                schedule(when, _approve(fresh, key, act.stage, act.party, act.step))
            elif act.kind == SUBMIT_AGREEMENT:
                result.happenings[-1] = _with_attachment(fresh, key, result.happenings[-1])

    for st in bound.stages:
        if st.kind == "approval" and not (resume and _started(waiting, st.id)):
            schedule(max(st.opens_at - SAMPLE_LEAD, start), _put_up_sample(fresh, key))
    for kind, stage, party, step, since in waiting:
        at = max(since or start, start)
        if kind == "outcome":
            _plan_outcome(fresh, bound, key, stage, at, schedule)
        elif kind == "answer":
            schedule(_answer_time(bound, stage, party, at, late), _answer(fresh, key, stage, party))
        elif kind == "approve":
            when = _answer_time(bound, stage, party, at, late)
            schedule(when, _approve(fresh, key, stage, party, step))

    now = start
    react(fresh().tick(now, actor=SIMULATED).applied, now)
    for _ in range(100_000):
        due = fresh().next_due()
        candidates = [t for t in (due, acts[0][0] if acts else None) if t is not None]
        if not candidates:
            break
        now = max(now, min(candidates))
        if until is not None and now > until:
            break
        while acts and acts[0][0] <= now:
            when, _, fn = heapq.heappop(acts)
            happening, applied = fn(when)
            result.happenings.append(happening)
            react(applied, when)
        report = fresh().tick(now, actor=SIMULATED)
        result.ticks += 1
        react(report.applied, now)
        if on_tick is not None:
            on_tick(now)
    result.happenings.sort(key=lambda h: h.at)  # stable: same-moment order is kept
    with fresh().db.sessions() as s:
        result.final_status = s.scalar(select(ProcessRow.status).where(ProcessRow.key == key)) or ""
    return result


#: What waits for a simulated person in a process as it stands: (what, stage, party, step,
#: since when).
Waiting = tuple[str, str, str, str, datetime | None]


def _waiting(s: Session, pid: int) -> list[Waiting]:
    """The outcomes of open meetings and decisions, the answers of invited parties and the
    approvals requested, in a process that has begun (``simulate_from``)."""
    out: list[Waiting] = []
    stages = s.scalars(select(StageRow).where(StageRow.process_id == pid)).all()
    for st in stages:
        if st.kind in ("meeting", "decision") and st.status == "open" and not st.outcome:
            out.append(("outcome", st.stage_id, "", "", st.opened_at))
        elif st.kind == "approval" and st.status != "pending":
            out.append(("started", st.stage_id, "", "", st.opened_at))
    for t in s.scalars(select(TaskRow).where(TaskRow.process_id == pid)).all():
        if t.kind == "questionnaire" and t.status in ("invited", "opened", "draft", "overdue"):
            out.append(("answer", t.stage_id, t.party, "", t.invited_at))
        elif t.kind == "approval" and t.status == "requested":
            out.append(("approve", t.stage_id, t.party, t.step, t.invited_at))
    return out


def _started(waiting: list[Waiting], stage_id: str) -> bool:
    return any(w[0] == "started" and w[1] == stage_id for w in waiting)


def _detail(act: Action) -> str:
    if act.n:
        return f"nr. {act.n}" + (f": {act.reason}" if act.reason else "")
    return act.reason


def _first_day(bundle: Bundle, year: int) -> date:
    from workflow.definition_base import DateExpr

    return min(DateExpr.parse(s.opens).bind(year) for s in bundle.process.stages) - timedelta(
        days=1
    )


def _next_working_moment(at: datetime) -> datetime:
    return local_to_utc(add_working_days(to_local(at).date(), 1), ACT_AT)


def _step_plan(
    fresh: Callable[[], Service], key: str, stage: str, party: str, step: str
) -> tuple[date, date | None] | None:
    """A requested approval step's own deadline and the meeting it asks for, as the engine
    recorded them (``workflow.step_plan``); None: the step keeps the stage's deadline."""
    with fresh().db.sessions() as s:
        data = s.scalar(
            select(EventRow.data)
            .join(ProcessRow, ProcessRow.id == EventRow.process_id)
            .where(
                ProcessRow.key == key,
                EventRow.kind == "approval_requested",
                EventRow.stage_id == stage,
                EventRow.party == party,
                EventRow.step == step,
            )
            .order_by(EventRow.id.desc())
            .limit(1)
        )
    if not data or not data.get("step_deadline"):
        return None
    meeting = data.get("meeting")
    return date.fromisoformat(data["step_deadline"]), (
        date.fromisoformat(meeting) if meeting else None
    )


def _answer_time(
    bound: BoundProcess,
    stage_id: str,
    party: str,
    at: datetime,
    late: frozenset[str],
    plan: tuple[date, date | None] | None = None,
) -> datetime:
    """When a simulated party answers or decides: the working day after it is asked, or, for
    a step planned on its council's calendar, the working day after the meeting; a ``late``
    party only after its (the step's own) deadline."""
    deadline, meeting = plan if plan is not None else (None, None)
    if party not in late:
        if meeting is not None:
            after_meeting = local_to_utc(add_working_days(meeting, 1), ACT_AT)
            return max(after_meeting, _next_working_moment(at))
        return _next_working_moment(at)
    st = bound.stage(stage_id)
    assert st.deadline is not None
    rules = st.rules
    esc = rules.escalate_after_working_days if rules else None
    after = (esc + 1) if esc is not None else 3
    when = local_to_utc(add_working_days(deadline or st.deadline, after), ACT_AT)
    if st.closes_at is not None and when > st.closes_at:
        when = local_to_utc(to_local(st.closes_at).date(), ACT_AT)
    return max(when, _next_working_moment(at))


def _plan_outcome(
    fresh: Callable[[], Service],
    bound: BoundProcess,
    key: str,
    stage_id: str,
    at: datetime,
    schedule: Callable[[datetime, Act], None],
) -> None:
    st = bound.stage(stage_id)
    if st.kind not in ("meeting", "decision"):
        return
    when = max(e.end for e in st.events) if st.events else _next_working_moment(at)
    outcome = "approved" if st.kind == "decision" else "held"

    def record(now: datetime) -> tuple[Happening, list[Applied]]:
        applied = fresh().record_outcome(
            key,
            stage_id,
            outcome=outcome,
            text="Simuleret referat",
            at=now,
            actor=SIMULATED,
            reason="simulated secretariat",
            values=planned_values(st.definition),
        )
        return Happening(now, "outcome_recorded", stage_id, detail=outcome), applied

    schedule(max(when, at), record)


def _answer(fresh: Callable[[], Service], key: str, stage: str, party: str) -> Act:
    def act(at: datetime) -> tuple[Happening, list[Applied]]:
        fresh().submit_answer(
            key, stage, party, {"simulated": True}, at=at, actor=f"{party} (simulated)"
        )
        return Happening(at, "answer_submitted", stage, party), []

    return act


def _approve(fresh: Callable[[], Service], key: str, stage: str, party: str, step: str) -> Act:
    def act(at: datetime) -> tuple[Happening, list[Applied]]:
        applied = fresh().record_approval(
            key,
            stage,
            party,
            step,
            decision="approved",
            at=at,
            actor=f"{party} (simulated)",
            decision_text="Godkendt",
            agenda_item="1",
        )
        return Happening(at, "approval_approved", stage, party, step), applied

    return act


def _put_up_sample(fresh: Callable[[], Service], key: str) -> Act:
    """The simulated secretariat: the sample agreement up for approval unless one is up."""

    def act(at: datetime) -> tuple[Happening, list[Applied]]:
        svc = fresh()
        with svc.db.sessions() as s:
            row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
            assert row is not None
            up, title = row.approval_document_hash, row.title
        if up:
            return Happening(at, "agreement_already_up", detail=up[:12]), []
        version = svc.add_document(
            key,
            filename=sample_agreement.FILENAME,
            media_type=sample_agreement.MEDIA_TYPE,
            content=sample_agreement.sample_agreement(title),
            at=at,
            actor=SIMULATED,
            note="simuleret sekretariat: eksempel, ikke en rigtig aftale",
        )
        digest = svc.put_up_for_approval(
            key, version, at=at, actor=SIMULATED, reason="simuleret sekretariat"
        )
        detail = f"{sample_agreement.FILENAME}, version {version}, SHA-256 {digest[:12]}"
        return Happening(at, SAMPLE_PUT_UP, detail=detail), []

    return act


def _with_attachment(fresh: Callable[[], Service], key: str, h: Happening) -> Happening:
    """The submission as the simulation shows it: with the document the mail attaches."""
    with fresh().db.sessions() as s:
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
        ctx = s.scalar(
            select(OutboxRow.context).where(
                OutboxRow.process_id == pid, OutboxRow.kind == "submission"
            )
        )
    doc = (ctx or {}).get("document") or {}
    if not doc.get("filename"):
        return h
    detail = (
        f"vedhæftet: {doc['filename']} (version {doc['version']}, SHA-256 {doc['sha256'][:12]})"
    )
    return Happening(h.at, h.kind, h.stage, h.party, h.step, detail)
