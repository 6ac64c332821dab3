"""The seven measurements of issue 7. Each adds rows (figure, target, PASS/FAIL) to Results."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import func, select

from bench import mail, writes
from bench.fleet import Fleet, FleetStats, summary
from bench.ratios import PEER_INSTANCES, Peer, add_rows
from bench.report import FAIL, INFO, PASS, SKIP, Results, Row, median, ms, percentile, verdict
from bench.scenario import ROOT, YEAR, late_parties, scenario_bundle
from workflow.calendar import local_to_utc
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import Base, ProcessRow

SECRET = mail.SECRET
#: Targets of issue 7.
CYCLE_TARGET_MS = 10.0
WRITE_LIMIT_TARGET = 3.0
IDLE_TARGET = 2.0
DELIVERY_TARGET = 0.8
DASHBOARD_TARGETS_MS = {12: 50.0, 98: 200.0}
FANOUT_TARGET = 9.0
#: Issue 12: one party's act costs at most this much more with the most parties than with 12.
ACT_FLAT_TARGET = 1.5
#: Where the fan-out and dashboard runs stop: the questionnaire stage has closed and the
#: dialogue forum opened (fan-out); the approvals are half done (dashboard).
FANOUT_UNTIL = local_to_utc(date(YEAR, 6, 10), time(0, 0))
FANOUT_TARGET_WINDOW = "10 June (invitations, answers, reminders, questionnaire closed)"
MID_APPROVAL = local_to_utc(date(YEAR, 11, 21), time(12, 0))
MEASUREMENTS = ("1", "2", "3", "4", "5", "6", "7")


@dataclass
class Options:
    workdir: Path
    parties: str = "nordjylland"
    processes: int | None = None
    only: frozenset[str] = frozenset(MEASUREMENTS)
    quick: bool = False
    cycle_budget_s: float = 170.0
    max_reps: int = 5
    profile: bool = False
    fanout_sizes: tuple[int, ...] = (12, 98, 600)
    peer_instances: int = PEER_INSTANCES  # SpiffWorkflow process-years per cycle repetition

    @property
    def cycle_processes(self) -> int:
        if self.processes:
            return self.processes
        if self.quick:
            return 10
        return 100 if self.parties == "nordjylland" else 10


@dataclass
class Suite:
    opts: Options
    results: Results = field(default_factory=Results)
    _n: int = 0

    # ---------------------------------------------------------------- plumbing

    def run(self) -> Results:
        steps: list[tuple[set[str], Callable[[], None]]] = [
            ({"1", "2"}, self.cycle_and_write_limit),
            ({"3"}, self.idle_tick),
            ({"4"}, self.delivery),
            ({"5"}, self.dashboard),
            ({"6"}, self.fan_out),
            ({"7"}, self.memory),
        ]
        for numbers, fn in steps:
            if not numbers & self.opts.only:
                continue
            print(f"measuring {fn.__name__.replace('_', ' ')} …", file=sys.stderr, flush=True)
            t0 = perf_counter()
            try:
                fn()
            except Exception as e:  # one broken measurement must not hide the others
                traceback.print_exc()
                self.results.add(
                    Row(
                        "/".join(sorted(numbers)),
                        fn.__name__,
                        f"error: {type(e).__name__}: {e}",
                        status="ERROR",
                    )
                )
            print(f"  ({perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        if self.opts.profile:
            self.results.profile = self.profile()
        return self.results

    def _db(self, name: str) -> Database:
        self._n += 1
        path = self.opts.workdir / f"{self._n:03d}-{name}.db"
        db = Database(f"sqlite:///{path}")
        db.migrate()
        return db

    def _drop(self, db: Database) -> None:
        db.dispose()
        path = Path(db.url.split("///", 1)[1])
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)

    def _bundle(self, parties: str | int) -> Bundle:
        return scenario_bundle(parties, self.opts.workdir)

    def _fleet(self, db: Database, bundle: Bundle, processes: int = 1) -> Fleet:
        return Fleet(
            Service(db, link_secret=SECRET),
            bundle,
            YEAR,
            processes=processes,
            late=late_parties(bundle),
        )

    # ---------------------------------------------------------------- 1 and 2

    def cycle_and_write_limit(self) -> None:
        o = self.opts
        bundle = self._bundle(o.parties)
        n_parties = len(bundle.participants)
        P = o.cycle_processes
        conf = mail.settings(o.workdir, "sqlite://")
        render_ok = mail.renderer_available()

        # the rows one process-year writes, captured once (not timed)
        db = self._db("capture")
        with writes.capture(Path(db.url.split("///", 1)[1])) as trace:
            captured = Fleet(
                Service(db, link_secret=SECRET),
                bundle,
                YEAR,
                late=late_parties(bundle),
                statement_counter=trace.statement_count,
            ).run()
        self._drop(db)
        batches = writes.prepare(trace, P)
        per_process_rows = trace.rows

        peer = Peer(bundle, o.peer_instances, enabled=o.parties == "nordjylland")
        reps: list[dict[str, float]] = []
        last: FleetStats | None = None
        render_failures = ""
        t_all = perf_counter()
        while True:
            t_rep = perf_counter()
            db = self._db("cycle")
            fleet = self._fleet(db, bundle, P)
            stats = fleet.run()
            rendered = mail.render_outbox(db, conf) if render_ok else mail.Rendered(0, 0.0)
            if rendered.failed:
                render_failures = (
                    f"{rendered.failed} of {rendered.mails} mails did not render "
                    f"(first: {rendered.first_error})"
                )
            counts = _row_counts(db)
            self._drop(db)
            raw_path = o.workdir / "raw.db"
            writes.fresh_database(raw_path)
            raw_s = writes.replay(raw_path, batches)
            raw_counts = _row_counts(Database(f"sqlite:///{raw_path}"), dispose=True)
            for p in (raw_path, Path(f"{raw_path}-wal"), Path(f"{raw_path}-shm")):
                p.unlink(missing_ok=True)
            peer.measure()  # SpiffWorkflow, right after the engine: same load, paired ratios
            reps.append(
                {
                    "engine_s": stats.engine_s,
                    "engine_cpu_s": stats.engine_cpu_s,
                    "wall_s": stats.wall_s,
                    "render_s": rendered.seconds,
                    "mails": rendered.mails,
                    "raw_s": raw_s,
                    "ratio": stats.engine_s / raw_s,
                    "transactions": stats.transactions,
                }
            )
            last = stats
            rep_s = perf_counter() - t_rep
            spent = perf_counter() - t_all
            if len(reps) >= o.max_reps or spent + rep_s > o.cycle_budget_s:
                break
        assert last is not None

        engine_ms = median(r["engine_s"] for r in reps) / P * 1000
        engine_cpu_ms = median(r["engine_cpu_s"] for r in reps) / P * 1000
        render_ms = median(r["render_s"] for r in reps) / P * 1000
        driver_ms = median(r["wall_s"] - r["engine_s"] for r in reps) / P * 1000
        raw_ms = median(r["raw_s"] for r in reps) / P * 1000
        total_ms = median((r["engine_s"] + r["render_s"]) for r in reps) / P * 1000
        ratio = median(r["ratio"] for r in reps)
        tx = reps[-1]["transactions"] / P
        mails = reps[-1]["mails"] / P
        what = (
            f"Cycle throughput: {'shipped Socialaftale' if o.parties == 'nordjylland' else o.parties}"
            f", {P} processes × {n_parties} parties, SQLite file, every mail rendered"
        )
        self.results.add(
            Row(
                "1",
                what,
                f"{total_ms:.1f} ms per process-year",
                f"≤ {CYCLE_TARGET_MS:.0f} ms",
                verdict(total_ms <= CYCLE_TARGET_MS),
                f"engine {engine_ms:.1f} ms (CPU {engine_cpu_ms:.1f} ms) + rendering "
                f"{render_ms:.1f} ms ({mails:.0f} mails); "
                f"{tx:.0f} transactions per process-year; median of {len(reps)} run(s)"
                + ("" if render_ok else "; notifications.render not available: mails not rendered")
                + (f"; {render_failures}" if render_failures else ""),
            )
        )
        self.results.add(
            Row(
                "2",
                "Against the write limit: engine / the same rows via sqlite3 executemany, "
                "one transaction per step",
                f"{ratio:.1f}× (engine {engine_ms:.1f} ms, raw {raw_ms:.1f} ms per process-year)",
                f"≤ {WRITE_LIMIT_TARGET:.0f}×",
                verdict(ratio <= WRITE_LIMIT_TARGET),
                f"{per_process_rows} rows in {len(trace.transactions)} transactions per "
                f"process-year; median of {len(reps)} paired run(s)",
            )
        )
        add_rows(self.results, reps, P, peer)
        if counts != raw_counts:
            self.results.notes.append(
                f"Write-limit replay wrote different row counts than the engine: engine {counts}, "
                f"raw {raw_counts}."
            )
        self.results.notes.append(
            f"Cycle (1, 2): {P} processes started together on one virtual clock; at each moment "
            "the simulated people due act (one transaction each), then one tick (one "
            "transaction per process due). Every sixth party answers late (reminders, overdue, "
            f"escalation). Driver book-keeping outside the engine: {driver_ms:.2f} ms per "
            f"process-year, not counted. {len(reps)} repetition(s) within a "
            f"{o.cycle_budget_s:.0f} s budget."
        )
        per_kind = summary(last)
        statements = {
            k: v["statements"] / (v["transactions"] or v["calls"])
            for k, v in summary(captured).items()
        }
        lines = [
            "| engine call | calls | transactions | ms per process-year | CPU ms | "
            "ms per transaction | SQL statements per transaction (or call) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, d in sorted(per_kind.items(), key=lambda kv: -kv[1]["seconds"]):
            n_tx = d["transactions"]
            per_tx = d["seconds"] / n_tx * 1000 if n_tx else 0.0
            stmts = statements.get(kind, 0.0)
            lines.append(
                f"| {kind} | {d['calls'] / P:.1f} | {n_tx / P:.1f} | "
                f"{d['seconds'] / P * 1000:.1f} | {d['cpu'] / P * 1000:.1f} | {per_tx:.2f} | "
                f"{stmts:.1f} |"
            )
        rows = ["", "| table, operation | rows per process-year |", "|---|---:|"]
        rows += [f"| {k} | {v} |" for k, v in sorted(trace.counts().items())]
        rows += ["", "| SQL statements sent (one process-year) | count |", "|---|---:|"]
        rows += [f"| {k} | {v} |" for k, v in trace.statements.most_common()]
        self.results.detail(
            "Cycle: where one process-year's engine time goes (last run, per process)",
            lines + rows,
        )

    # ---------------------------------------------------------------- 3

    def idle_tick(self) -> None:
        try:
            from workflow.scheduling import record_tick
        except ImportError:  # pragma: no cover
            record_tick = None  # type: ignore[assignment]
        bundle = self._bundle("nordjylland")
        sizes = (10, 100, 1000)
        services: dict[int, Service] = {}
        dbs: list[Database] = []
        start_s: dict[int, float] = {}
        at = None
        for n in sizes:
            db = self._db(f"idle-{n}")
            dbs.append(db)
            fleet = self._fleet(db, bundle, n)
            t0 = perf_counter()
            fleet.start()
            start_s[n] = (perf_counter() - t0) / n
            services[n] = fleet.service
            at = fleet.start_at + timedelta(hours=12)  # the first stage opens a day later
        assert at is not None
        reps = 20 if self.opts.quick else 60
        engine: dict[int, list[float]] = {n: [] for n in sizes}
        job: dict[int, list[float]] = {n: [] for n in sizes}
        for i in range(reps + 3):
            for n in sizes:
                svc = services[n]
                t0 = perf_counter()
                report = svc.tick(at, actor="bench")
                t1 = perf_counter()
                if record_tick is not None:
                    record_tick(svc.db, report, at)
                t2 = perf_counter()
                assert not report.applied, "the idle tick found something due"
                if i >= 3:  # warm-up
                    engine[n].append(t1 - t0)
                    job[n].append(t2 - t0)
        for db in dbs:
            self._drop(db)
        e = {n: median(engine[n]) for n in sizes}
        j = {n: median(job[n]) for n in sizes}
        ratio = j[1000] / j[10]
        self.results.add(
            Row(
                "3",
                "Idle tick (nothing due): scheduler tick job over 10 / 100 / 1,000 running processes",
                f"{ms(j[10], 2)} / {ms(j[100], 2)} / {ms(j[1000], 2)}; 1,000 = {ratio:.2f}× 10",
                f"1,000 ≤ {IDLE_TARGET:.0f}× 10",
                verdict(ratio <= IDLE_TARGET),
                f"service.tick alone {ms(e[10], 2)} / {ms(e[100], 2)} / {ms(e[1000], 2)} "
                f"({e[1000] / e[10]:.2f}×); the job adds record_tick (backlog + last tick); "
                f"median of {reps} interleaved ticks each",
            )
        )
        self.results.notes.append(
            "Idle tick (3): processes started with the shipped definition (next due: the first "
            "stage, a day later), ticked 12 hours before that. Starting one process cost "
            + ", ".join(f"{ms(start_s[n], 2)} (n={n})" for n in sizes)
            + "."
        )

    # ---------------------------------------------------------------- 4

    def delivery(self) -> None:
        deliver_due = mail.sender()
        if not mail.renderer_available():
            self.results.add(
                Row(
                    "4",
                    "Delivery",
                    "not available yet",
                    "≥ 0.8",
                    SKIP,
                    "notifications.render is not there yet",
                )
            )
            return
        bundle = self._bundle("nordjylland")
        n_proc = 2 if self.opts.quick else 3
        src = self._db("delivery-src")
        self._fleet(src, bundle, n_proc).run()
        queued = mail.queued(src)
        src_path = Path(src.url.split("///", 1)[1])
        src.dispose()
        at = datetime(YEAR + 1, 12, 31, tzinfo=UTC)  # everything is due
        reps = 2 if self.opts.quick else 3
        with mail.smtp_server() as server:
            host, port = server.host, server.port
            conf = mail.settings(self.opts.workdir, src.url, smtp_url=f"smtp://{host}:{port}")
            reader = Database(src.url)
            messages = mail.build_messages(reader, conf, at)
            outgoing = mail.queued_mails(reader)
            reader.dispose()
            wires = mail.serialised(messages)
            ratios: list[float] = []
            full_ratios: list[float] = []
            bytes_ratios: list[float] = []
            engine_s: list[float] = []
            plain_s: list[float] = []
            full_s: list[float] = []
            bytes_s: list[float] = []
            for i in range(reps):
                plain = mail.smtplib_loop(host, port, messages)
                plain_s.append(plain)
                raw = mail.sendmail_loop(host, port, wires)
                bytes_s.append(raw)
                full = mail.render_build_send_loop(host, port, outgoing, conf, at)
                full_s.append(full)
                if deliver_due is None:
                    continue
                copy = self.opts.workdir / f"delivery-{i}.db"
                shutil.copy(src_path, copy)
                db = Database(f"sqlite:///{copy}")
                before = server.messages
                took = mail.engine_drain(deliver_due, db, conf, at)
                sent = server.messages - before
                left = mail.queued(db)
                self._drop(db)
                if sent != len(messages) or left:
                    self.results.notes.append(
                        f"Delivery run {i + 1}: the sender delivered {sent} of {len(messages)} "
                        f"mails ({left} still queued)."
                    )
                engine_s.append(took)
                ratios.append(plain / took)
                full_ratios.append(full / took)
                bytes_ratios.append(raw / took)
        src_path.unlink(missing_ok=True)
        n = len(messages)
        plain_rate = n / median(plain_s)
        if deliver_due is None:
            self.results.add(
                Row(
                    "4",
                    "Delivery: outbox → aiosmtpd on loopback vs plain smtplib loop",
                    "not available yet",
                    f"≥ {DELIVERY_TARGET}",
                    SKIP,
                    f"notifications.sender.deliver_due is not there yet; the plain smtplib "
                    f"loop alone sends {plain_rate:.0f} mails/s ({n} mails)",
                )
            )
            return
        ratio = median(ratios)
        engine_rate = n / median(engine_s)
        self.results.add(
            Row(
                "4",
                "Delivery: outbox drained by deliver_due to aiosmtpd on loopback, "
                "relative to a plain smtplib.send_message loop over one connection",
                f"{ratio:.2f} ({engine_rate:.0f} vs {plain_rate:.0f} mails/s)",
                f"≥ {DELIVERY_TARGET}",
                verdict(ratio >= DELIVERY_TARGET),
                f"{n} queued mails of {n_proc} process-years ({queued} queued); the plain loop "
                f"sends the same, already built messages; median of {reps} paired runs",
            )
        )
        self.results.add(
            Row(
                "4",
                "Delivery: deliver_due relative to a plain loop that also renders and builds "
                "each mail (the sender's own book-keeping: claims, results, audit events)",
                f"{median(full_ratios):.2f} ({engine_rate:.0f} vs {n / median(full_s):.0f} mails/s)",
                "—",
                INFO,
                "the loop composes each mail's bytes as the sender does and sends them with "
                "sendmail; the gap to 1.0 is what the outbox costs (claims, results, audit "
                "events, one commit per result)",
            )
        )
        self.results.add(
            Row(
                "4",
                "Delivery: deliver_due relative to the strictest loop: sendmail of bytes "
                "serialised beforehand (no EmailMessage flattened per mail, nothing rendered)",
                f"{median(bytes_ratios):.2f} ({engine_rate:.0f} vs {n / median(bytes_s):.0f} "
                "mails/s)",
                "—",
                INFO,
                "send_message in the target's loop flattens an EmailMessage per mail "
                f"({(median(plain_s) - median(bytes_s)) / n * 1000:.2f} ms per mail here), "
                "which the sender, sending composed bytes, does not",
            )
        )

    # ---------------------------------------------------------------- 5

    def dashboard(self) -> None:
        from workflow.queries import process_status
        from workflow.service import bound_for

        cases: dict[int, tuple[Database, str]] = {}
        for n, parties in ((12, "nordjylland"), (98, 98)):
            bundle = self._bundle(parties)
            db = self._db(f"dashboard-{n}")
            fleet = self._fleet(db, bundle)
            fleet.run(until=MID_APPROVAL)
            cases[n] = (db, fleet.keys[0])

        calls: dict[int, Callable[[], Any]] = {}
        measured: dict[int, str] = {}
        apps: list[Any] = []
        for n, (db, key) in cases.items():
            page = _web_status_page(db.url, key, self.opts.workdir, apps)
            if page is not None:
                calls[n], measured[n] = page
                continue

            def direct(db: Database = db, key: str = key) -> Any:
                with db.sessions() as s:
                    row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
                    assert row is not None
                    return process_status(s, key, bound_for(row))

            calls[n], measured[n] = direct, "workflow.queries.process_status"
        samples: dict[int, list[float]] = {n: [] for n in calls}
        reps = 30 if self.opts.quick else 120
        for i in range(reps + 5):
            for n, fn in calls.items():
                t0 = perf_counter()
                fn()
                if i >= 5:
                    samples[n].append(perf_counter() - t0)
        for app in apps:
            _close_app(app)
        for db, _ in cases.values():
            self._drop(db)
        for n in calls:
            p50, p95 = percentile(samples[n], 50), percentile(samples[n], 95)
            target = DASHBOARD_TARGETS_MS[n]
            self.results.add(
                Row(
                    "5",
                    f"Dashboard: status of a {n}-party process (mid-approval), p50 / p95",
                    f"{ms(p50)} / {ms(p95)}",
                    f"p95 ≤ {target:.0f} ms",
                    verdict(p95 * 1000 <= target),
                    f"measured: {measured[n]} (one session per call, like a request); {reps} calls",
                )
            )
        if any(m == "workflow.queries.process_status" for m in measured.values()):
            self.results.notes.append(
                "Dashboard (5): the web app has no process overview page, so workflow.queries.process_status "
                "was timed (open a session, load the process row, bound definition, status)."
            )

    # ---------------------------------------------------------------- 6

    def fan_out(self) -> None:
        sizes = tuple(s for s in self.opts.fanout_sizes if not (self.opts.quick and s > 200))
        if self.opts.quick and 600 in self.opts.fanout_sizes:
            sizes = (*sizes, 200)
        bundles = {n: self._bundle(n) for n in sizes}
        small = [n for n in sizes if n <= 200]
        reps_small = 2 if self.opts.quick else 3
        runs: dict[int, list[FleetStats]] = {n: [] for n in sizes}
        for _ in range(reps_small):
            for n in small:
                runs[n].append(self._fanout_run(bundles[n]))
        for n in sizes:
            if n not in small:
                runs[n].append(self._fanout_run(bundles[n]))

        def per_step(st: FleetStats) -> float:
            return st.engine_s / st.transactions

        def invite_tick(st: FleetStats) -> float:
            return max(s.seconds for s in st.of("tick"))

        def answer(st: FleetStats) -> float:
            return median(s.seconds for s in st.of("answer"))

        def answer_cpu(st: FleetStats) -> float:
            return median(s.cpu for s in st.of("answer"))

        base = sizes[0]
        step = {n: median(per_step(s) for s in runs[n]) for n in sizes}
        ratios = {
            n: median(per_step(b) / per_step(a) for a, b in zip(runs[base], runs[n], strict=False))
            for n in sizes
        }
        tick = {n: median(invite_tick(s) for s in runs[n]) for n in sizes}
        act = {n: median(answer(s) for s in runs[n]) for n in sizes}
        act_cpu = {n: median(answer_cpu(s) for s in runs[n]) for n in sizes}
        tx = {n: runs[n][0].transactions for n in sizes}
        total = {n: median(s.engine_s for s in runs[n]) for n in sizes}
        mid = 98 if 98 in sizes else sizes[min(1, len(sizes) - 1)]
        limit = FANOUT_TARGET * mid / 98
        self.results.add(
            Row(
                "6",
                "Fan-out: mean engine cost per step (transaction), "
                + " / ".join(str(n) for n in sizes)
                + " parties",
                " / ".join(ms(step[n], 2) for n in sizes)
                + "; "
                + ", ".join(f"{n} = {ratios[n]:.1f}× {base}" for n in sizes if n != base),
                f"{mid} ≤ {limit:.0f}× {base} (linear)",
                verdict(ratios[mid] <= limit),
                f"one process from start to {FANOUT_TARGET_WINDOW}; steps = "
                + " / ".join(str(tx[n]) for n in sizes)
                + f"; median of {reps_small} run(s)"
                + (
                    f" ({', '.join(str(n) for n in sizes if n not in small)} parties: 1 run)"
                    if len(small) < len(sizes)
                    else ""
                ),
            )
        )
        self.results.add(
            Row(
                "6",
                "Fan-out: the invitation tick (one transaction inviting every party)",
                " / ".join(ms(tick[n]) for n in sizes)
                + "; "
                + ", ".join(f"{n} = {tick[n] / tick[base]:.1f}×" for n in sizes if n != base),
                "linear",
                INFO,
                " / ".join(f"{tick[n] / n * 1e6:.0f} µs" for n in sizes) + " per party",
            )
        )
        self.results.add(
            Row(
                "6",
                "Fan-out: one party's answer (a single-party step)",
                " / ".join(ms(act[n], 2) for n in sizes)
                + "; "
                + ", ".join(f"{n} = {act[n] / act[base]:.1f}×" for n in sizes if n != base),
                f"{sizes[-1]} ≤ {ACT_FLAT_TARGET}× {base} (flat)",
                verdict(act[sizes[-1]] / act[base] <= ACT_FLAT_TARGET),
                "median of every answer of the run(s); CPU time "
                + " / ".join(ms(act_cpu[n], 2) for n in sizes)
                + " ("
                + ", ".join(f"{n} = {act_cpu[n] / act_cpu[base]:.1f}×" for n in sizes if n != base)
                + ")",
            )
        )
        self.results.add(
            Row(
                "6",
                "Fan-out: the whole window (every step of one process)",
                " / ".join(f"{total[n]:.2f} s" for n in sizes)
                + "; "
                + ", ".join(f"{n} = {total[n] / total[base]:.0f}×" for n in sizes if n != base),
                "linear",
                INFO,
                "linear in the parties would be "
                + ", ".join(f"{n / base:.0f}×" for n in sizes if n != base),
            )
        )

    def _fanout_run(self, bundle: Bundle) -> FleetStats:
        db = self._db(f"fanout-{len(bundle.participants)}")
        stats = self._fleet(db, bundle).run(until=FANOUT_UNTIL)
        self._drop(db)
        return stats

    # ---------------------------------------------------------------- 7

    def memory(self) -> None:
        sizes = (10, 100) if self.opts.quick else (100, 1000)
        data: dict[int, dict[str, Any]] = {}
        for n in sizes:
            path = self.opts.workdir / f"memory-{n}.db"
            proc = subprocess.run(
                [sys.executable, "-m", "bench.memory", str(path), "--processes", str(n)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
            if proc.returncode != 0:
                raise RuntimeError(f"bench.memory failed: {proc.stderr.strip()[-500:]}")
            data[n] = json.loads(proc.stdout.strip().splitlines()[-1])
        mib = 1024.0
        n = sizes[-1]
        d = data[n]
        final, imports = d["rss_final_kib"] / mib, d["rss_imports_kib"] / mib
        started = d["rss_started_kib"] / mib
        hwm = d.get("vm_hwm_kib")
        self.results.add(
            Row(
                "7",
                f"Peak memory (ru_maxrss) of a scheduler process with {n:,} running processes",
                f"{final:.0f} MiB ({sizes[0]:,} processes: "
                f"{data[sizes[0]]['rss_final_kib'] / mib:.0f} MiB)",
                "—",
                INFO,
                f"{imports:.0f} MiB after the scheduler's imports; {started:.0f} MiB after "
                f"migrating and starting {n:,} processes ({d['start_s']:.1f} s); {final:.0f} MiB "
                f"after ticking them all ({d['busy_tick_s']:.1f} s, "
                f"{d['busy_tick_processes']} processes)"
                + (f"; VmHWM {hwm / mib:.0f} MiB" if hwm else ""),
            )
        )
        errors = {e for x in data.values() for e in x.get("import_errors", [])}
        if errors:
            self.results.notes.append("Memory (7): could not import " + "; ".join(sorted(errors)))

    # ---------------------------------------------------------------- profile

    def profile(self) -> str:
        """cProfile of a 10-process cycle (not part of any figure)."""
        bundle = self._bundle(self.opts.parties)
        db = self._db("profile")
        fleet = self._fleet(db, bundle, 10)
        prof = cProfile.Profile()
        prof.enable()
        fleet.run()
        prof.disable()
        self._drop(db)
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(20)
        text = out.getvalue()
        return re.sub(r"\n{3,}", "\n\n", text)


def _row_counts(db: Database, dispose: bool = False) -> dict[str, int]:
    out: dict[str, int] = {}
    with db.sessions() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in ("scheduler_state", "contact_status", "alembic_version"):
                continue
            out[table.name] = int(s.scalar(select(func.count()).select_from(table)) or 0)
    if dispose:
        db.dispose()
    return out


def _web_status_page(
    url: str, key: str, workdir: Path, apps: list[Any]
) -> tuple[Callable[[], Any], str] | None:
    """The web app's status page for a process, if web/ has one that answers 200."""
    try:
        from web import create_app
    except ImportError:
        return None
    try:
        app = create_app(
            database_url=url,
            secret_key=SECRET,
            base_url="http://127.0.0.1:8000",
            upload_dir=workdir / "uploads",
        )
    except Exception:
        return None
    apps.append(app)
    client = app.test_client()
    _log_in(app, client, url)
    for rule in app.url_map.iter_rules():
        args = set(rule.arguments)
        if "GET" not in (rule.methods or ()) or args != {"key"}:
            continue
        if not rule.rule.endswith("/proces/<key>"):  # the process overview (status) page
            continue
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, key=key)
        resp = client.get(path)
        if resp.status_code == 200:

            def get(path: str = path) -> Any:
                r = client.get(path)
                assert r.status_code == 200
                return r

            return get, f"GET {path} (Flask test client, endpoint {rule.endpoint})"
    return None


def _log_in(app: Any, client: Any, url: str) -> None:
    """Log a bench user in to the dashboard, as the secretariat would be (pages need it)."""
    try:
        from workflow.users import ensure_user
    except ImportError:
        return
    from datetime import UTC, datetime

    from workflow.storage.db import Database

    db = Database(url)
    try:
        ensure_user(db, "bench", "bench-password-1", "viewer", at=datetime.now(UTC), actor="bench")
    finally:
        db.dispose()
    page = client.get("/sekretariat/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    client.post(
        "/sekretariat/login",
        data={
            "name": "bench",
            "password": "bench-password-1",
            "csrf_token": token.group(1) if token else "",
        },
    )


def _close_app(app: Any) -> None:
    try:
        from web import close_app
    except ImportError:
        return
    close_app(app)


__all__ = ["FAIL", "MEASUREMENTS", "PASS", "Options", "Suite"]
