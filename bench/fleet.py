"""Many processes on one shared virtual clock, with simulated people (adapted from
``workflow.simulation``, which runs one process per call).

The clock jumps to the earliest of "the engine's next due time" and "the next simulated
person's act"; at each moment the acts due run first (one transaction each), then one tick
(one transaction per process due). Simulated parties answer and approve at 10:00 on the next
working day after they are asked; the ``late`` parties only one working day after their
escalation (or three after the deadline); the secretariat records each meeting and decision
when the meeting has ended. Every engine call is timed on its own, so the driver's own
book-keeping is not counted as engine time.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter, process_time
from typing import Any, TypeVar

from workflow import sample_agreement
from workflow.calendar import add_working_days, local_to_utc, to_local
from workflow.decided import planned_values
from workflow.definition_base import DateExpr
from workflow.loader import Bundle
from workflow.planner import INVITE, OPEN_STAGE, REQUEST_APPROVAL
from workflow.service import Applied, Service
from workflow.timeline import BoundProcess, bind

#: When a simulated person acts on a working day (Danish time), as in workflow.simulation.
ACT_AT = time(10, 0)
ACTOR = "bench"

T = TypeVar("T")
Act = Callable[[datetime], list[Applied]]


@dataclass
class Step:
    """One timed engine call: ``transactions`` is how many write transactions it made."""

    kind: str  # start | tick | next_due | answer | approve | outcome
    seconds: float
    transactions: int
    at: datetime
    #: CPU seconds of this process during the call (robust to other load on the machine).
    cpu: float = 0.0
    #: SQL statements the call sent (only counted when the fleet has a statement counter).
    statements: int = 0


@dataclass
class FleetStats:
    steps: list[Step] = field(default_factory=list)
    wall_s: float = 0.0
    #: CPU seconds of this process over the run (engine and driver): robust to a busy machine.
    cpu_s: float = 0.0

    @property
    def engine_s(self) -> float:
        return sum(s.seconds for s in self.steps)

    @property
    def engine_cpu_s(self) -> float:
        return sum(s.cpu for s in self.steps)

    @property
    def transactions(self) -> int:
        return sum(s.transactions for s in self.steps)

    def of(self, *kinds: str) -> list[Step]:
        return [s for s in self.steps if s.kind in kinds]


def first_day(bundle: Bundle, year: int) -> date:
    """The day before the first stage opens: where the clock starts."""
    return min(DateExpr.parse(s.opens).bind(year) for s in bundle.process.stages) - timedelta(
        days=1
    )


def next_working_moment(at: datetime) -> datetime:
    return local_to_utc(add_working_days(to_local(at).date(), 1), ACT_AT)


class Fleet:
    """``processes`` copies of one definition, started together and run to the end."""

    def __init__(
        self,
        service: Service,
        bundle: Bundle,
        year: int,
        *,
        processes: int = 1,
        late: frozenset[str] = frozenset(),
        key_prefix: str = "bench",
        statement_counter: Callable[[], int] | None = None,
    ) -> None:
        self.service = service
        self.bundle = bundle
        self.year = year
        self.bound: BoundProcess = bind(bundle, year)
        self.late = late
        self.keys = [f"{key_prefix}-{i:04d}" for i in range(processes)]
        self.start_at = local_to_utc(first_day(bundle, year), time(0, 0))
        self.now = self.start_at
        self.stats = FleetStats()
        self.done = False
        self._acts: list[tuple[datetime, int, str, Act]] = []
        self._counter = itertools.count()
        self._started = False
        self._count = statement_counter or (lambda: 0)

    # ---------------------------------------------------------------- timing

    def _timed(self, kind: str, at: datetime, fn: Callable[[], T], transactions: int = 1) -> T:
        n0, t0, c0 = self._count(), perf_counter(), process_time()
        result = fn()
        t1, c1 = perf_counter(), process_time()
        self.stats.steps.append(Step(kind, t1 - t0, transactions, at, c1 - c0, self._count() - n0))
        return result

    def _tick(self, at: datetime) -> None:
        n0, t0, c0 = self._count(), perf_counter(), process_time()
        report = self.service.tick(at, actor=ACTOR)
        t1, c1 = perf_counter(), process_time()
        self.stats.steps.append(
            Step("tick", t1 - t0, report.processes, at, c1 - c0, self._count() - n0)
        )
        self._react(report.applied, at)

    # ---------------------------------------------------------------- running

    def start(self) -> None:
        """Start every process at the first day (one transaction each), then tick once."""
        t0, c0 = perf_counter(), process_time()
        for key in self.keys:
            self._timed(
                "start",
                self.start_at,
                lambda key=key: self.service.start(  # type: ignore[misc]
                    self.bundle, self.year, at=self.start_at, actor=ACTOR, key=key
                ),
            )
        for key in self.keys:  # an approval stage opens only with an agreement up
            self._timed(
                "agreement",
                self.start_at,
                lambda key=key: self._put_up_sample(key),  # type: ignore[misc]
                2,
            )
        self._tick(self.start_at)
        self._started = True
        self.stats.wall_s += perf_counter() - t0
        self.stats.cpu_s += process_time() - c0

    def run(self, until: datetime | None = None) -> FleetStats:
        """Run until nothing is left (or until the clock would pass ``until``; call again to go on)."""
        if not self._started:
            self.start()
        t0, c0 = perf_counter(), process_time()
        try:
            while not self.done:
                due = self._timed("next_due", self.now, self.service.next_due, 0)
                candidates = [t for t in (due, self._acts[0][0] if self._acts else None) if t]
                if not candidates:
                    self.done = True
                    break
                moment = max(self.now, min(candidates))
                if until is not None and moment > until:
                    break
                self.now = moment
                while self._acts and self._acts[0][0] <= moment:
                    when, _, kind, fn = heapq.heappop(self._acts)
                    applied = self._timed(kind, when, lambda fn=fn, when=when: fn(when))  # type: ignore[misc]
                    self._react(applied, when)
                self._tick(moment)
        finally:
            self.stats.wall_s += perf_counter() - t0
            self.stats.cpu_s += process_time() - c0
        return self.stats

    # ---------------------------------------------------------------- simulated people

    def _put_up_sample(self, key: str) -> str:
        version = self.service.add_document(
            key,
            filename=sample_agreement.FILENAME,
            media_type=sample_agreement.MEDIA_TYPE,
            content=sample_agreement.sample_agreement(self.bound.title),
            at=self.start_at,
            actor=ACTOR,
        )
        return self.service.put_up_for_approval(
            key, version, at=self.start_at, actor=ACTOR, reason="bench"
        )

    def _schedule(self, at: datetime, kind: str, fn: Act) -> None:
        heapq.heappush(self._acts, (at, next(self._counter), kind, fn))

    def _react(self, applied: list[Applied], at: datetime) -> None:
        for a in applied:
            act = a.action
            if act.kind == OPEN_STAGE:
                self._plan_outcome(a.process_key, act.stage, at)
            elif act.kind == INVITE:
                when = self._answer_time(act.stage, act.party, at)
                self._schedule(when, "answer", self._answer(a.process_key, act.stage, act.party))
            elif act.kind == REQUEST_APPROVAL:
                when = self._answer_time(act.stage, act.party, at)
                self._schedule(
                    when,
                    "approve",
                    self._approve(a.process_key, act.stage, act.party, act.step),
                )

    def _answer_time(self, stage_id: str, party: str, at: datetime) -> datetime:
        if party not in self.late:
            return next_working_moment(at)
        st = self.bound.stage(stage_id)
        assert st.deadline is not None
        rules = st.rules
        esc = rules.escalate_after_working_days if rules else None
        after = (esc + 1) if esc is not None else 3
        when = local_to_utc(add_working_days(st.deadline, after), ACT_AT)
        if st.closes_at is not None and when > st.closes_at:
            when = local_to_utc(to_local(st.closes_at).date(), ACT_AT)
        return max(when, next_working_moment(at))

    def _plan_outcome(self, key: str, stage_id: str, at: datetime) -> None:
        st = self.bound.stage(stage_id)
        if st.kind not in ("meeting", "decision"):
            return
        when = max(e.end for e in st.events) if st.events else next_working_moment(at)
        outcome = "approved" if st.kind == "decision" else "held"

        def record(now: datetime) -> list[Applied]:
            return self.service.record_outcome(
                key,
                stage_id,
                outcome=outcome,
                text="Simuleret referat",
                at=now,
                actor=ACTOR,
                reason="simulated secretariat",
                values=planned_values(st.definition),  # KKR's focus areas, as planned
            )

        self._schedule(max(when, at), "outcome", record)

    def _answer(self, key: str, stage: str, party: str) -> Act:
        def act(at: datetime) -> list[Applied]:
            self.service.submit_answer(
                key, stage, party, {"simulated": True}, at=at, actor=f"{party} (bench)"
            )
            return []

        return act

    def _approve(self, key: str, stage: str, party: str, step: str) -> Act:
        def act(at: datetime) -> list[Applied]:
            return self.service.record_approval(
                key,
                stage,
                party,
                step,
                decision="approved",
                at=at,
                actor=f"{party} (bench)",
                decision_text="Godkendt",
                agenda_item="1",
            )

        return act


def summary(stats: FleetStats) -> dict[str, Any]:
    """Counts and seconds per kind of engine call (for reports and debugging)."""
    out: dict[str, Any] = {}
    for s in stats.steps:
        d = out.setdefault(
            s.kind, {"calls": 0, "transactions": 0, "seconds": 0.0, "cpu": 0.0, "statements": 0}
        )
        d["calls"] += 1
        d["transactions"] += s.transactions
        d["seconds"] += s.seconds
        d["cpu"] += s.cpu
        d["statements"] += s.statements
    return out
