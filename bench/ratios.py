"""The ratio rows of issue 12, taken from the cycle's own repetitions (measurements 1 and 2).

- P1 re-expressed against the write limit: (engine + rendering) / the raw executemany replay of
  the same rows, target ≤ 4×.
- SpiffWorkflow 3.2 running the same year (``bench/spiff.py``), in memory and with the instance
  saved and restored after every step, measured right after each repetition of the engine's
  cycle so that each ratio compares runs made under the same load; the engine alone (everything
  persisted, no mail rendered) against SpiffWorkflow save/restore (no mail either), target ≥ 3×
  faster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench import spiff
from bench.report import INFO, SKIP, Results, Row, median, verdict
from workflow.loader import Bundle

#: Targets of issue 12.
P1_WRITE_LIMIT_TARGET = 4.0
PEER_TARGET = 3.0
#: SpiffWorkflow process-years per repetition of the cycle, in memory and with save/restore.
PEER_INSTANCES = 2


@dataclass
class Peer:
    """SpiffWorkflow measured beside each repetition of the cycle."""

    bundle: Bundle
    instances: int = PEER_INSTANCES
    enabled: bool = True
    why_not: str | None = None
    runs: list[tuple[spiff.Figures, spiff.Figures]] = field(default_factory=list)
    _year: spiff.Year | None = None
    _specs: tuple[Any, dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not self.enabled:
            self.why_not = (
                "the BPMN model is measured with the shipped party set (nordjylland) only"
            )
        else:
            self.why_not = spiff.available()
        if self.why_not is None:
            self._year = spiff.year_of(self.bundle)
            self._specs = spiff.load_specs()

    def measure(self) -> None:
        """One batch of process-years in memory, one with save/restore (after a repetition)."""
        if self.why_not is not None or self.instances < 1:
            return
        assert self._year is not None
        year, n, specs = self._year, self.instances, self._specs
        memory = spiff.measure(year, n, save_restore=False, specs=specs)
        saved = spiff.measure(year, n, save_restore=True, specs=specs)
        self.runs.append((memory, saved))


def add_rows(results: Results, reps: list[dict[str, float]], processes: int, peer: Peer) -> None:
    """The P1 ratio row and the SpiffWorkflow rows, from the same repetitions."""
    p1 = median((r["engine_s"] + r["render_s"]) / r["raw_s"] for r in reps)
    total_ms = median(r["engine_s"] + r["render_s"] for r in reps) / processes * 1000
    raw_ms = median(r["raw_s"] for r in reps) / processes * 1000
    results.add(
        Row(
            "1",
            "P1 against the write limit: engine + rendering / the same rows via sqlite3 "
            "executemany, one transaction per step",
            f"{p1:.1f}× ({total_ms:.1f} ms vs raw {raw_ms:.1f} ms per process-year)",
            f"≤ {P1_WRITE_LIMIT_TARGET:.0f}×",
            verdict(p1 <= P1_WRITE_LIMIT_TARGET),
            f"median of {len(reps)} paired run(s)",
        )
    )
    if peer.why_not is not None or not peer.runs:
        results.add(
            Row(
                "S",
                "Engine alone vs SpiffWorkflow 3.2 with save/restore per step",
                "not measured",
                f"≥ {PEER_TARGET:.0f}× faster",
                SKIP,
                peer.why_not or "no SpiffWorkflow runs",
            )
        )
        return
    _peer_rows(results, reps, processes, peer)


def _peer_rows(results: Results, reps: list[dict[str, float]], processes: int, peer: Peer) -> None:
    pairs = list(zip(reps, peer.runs, strict=False))
    engine = [r["engine_s"] / processes * 1000 for r, _ in pairs]
    memory = [m.ms for _, (m, _) in pairs]
    saved = [s.ms for _, (_, s) in pairs]
    serialising = [s.save_restore_ms for _, (_, s) in pairs]
    engine_ms, memory_ms, saved_ms = median(engine), median(memory), median(saved)
    vs_saved = median(s / e for e, s in zip(engine, saved, strict=True))
    vs_memory = median(m / e for e, m in zip(engine, memory, strict=True))
    last_m, last_s = peer.runs[-1]
    n = sum(m.instances for m, _ in peer.runs)
    steps = (
        f"{last_m.user_steps:.0f} user tasks + {last_m.timer_steps:.0f} timer moments per "
        f"process-year; {n} process-years in memory and {n} with save/restore, "
        f"{peer.instances} after each of {len(peer.runs)} repetition(s); median per repetition"
    )
    results.add(
        Row(
            "S",
            "SpiffWorkflow 3.2, the same year as BPMN (bench/bpmn/socialaftale.bpmn), in memory",
            f"{memory_ms:.1f} ms per process-year (engine alone {engine_ms:.1f} ms = "
            f"{vs_memory:.2f}× its time)",
            "—",
            INFO,
            steps,
        )
    )
    results.add(
        Row(
            "S",
            "SpiffWorkflow 3.2, the instance serialised to JSON and restored after every step "
            "(BpmnWorkflowSerializer), as a host application must",
            f"{saved_ms:.1f} ms per process-year; state {last_s.mean_bytes / 1024:.0f} KB mean "
            f"({last_s.min_bytes / 1024:.0f} KB at the start, {last_s.max_bytes / 1024:.0f} KB "
            "at the end)",
            "—",
            INFO,
            f"of which serialising and restoring {median(serialising):.1f} ms; "
            f"{last_s.user_steps + last_s.timer_steps + 1:.0f} saves per process-year; the JSON "
            "holds the process spec (about 32 KB) and every completed per-party subprocess",
        )
    )
    results.add(
        Row(
            "S",
            "Engine alone (everything persisted, no mail rendered) vs SpiffWorkflow save/restore "
            "(no mail either): how many times faster",
            f"{vs_saved:.1f}× (engine {engine_ms:.1f} ms, SpiffWorkflow {saved_ms:.1f} ms per "
            "process-year)",
            f"≥ {PEER_TARGET:.0f}×",
            verdict(vs_saved >= PEER_TARGET),
            "ratio per repetition, SpiffWorkflow run right after the engine's cycle; median",
        )
    )
    results.notes.append(
        "SpiffWorkflow (S): the shipped year as BPMN (8 stages in order; the questionnaire a "
        "parallel multi-instance user task over the 12 parties with 3 non-interrupting reminder "
        "timers and an escalation timer on it; the approval a multi-instance subprocess whose "
        "gateway picks socialudvalg → byråd for a kommune, regionsråd for the region, with 2 "
        "reminder timers; the submission a script task), driven by bench/spiff.py with the "
        "fleet's dates, late parties and moments of action on a virtual clock (Spiff's timer "
        "module sees it as now; nothing sleeps). Only Spiff's own calls are timed."
    )
