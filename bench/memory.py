"""Peak memory of a scheduler process with many running processes (run as a subprocess).

``python -m bench.memory DB --processes 1000 [--copy-to FILE]`` imports what the scheduler
imports, starts the processes in the SQLite file DB, (optionally copies the database for the
idle-tick measurement), ticks once when they all fall due and once when nothing is due, and
prints one JSON object: ``ru_maxrss`` (KiB, Linux) after each phase and the seconds taken.

Linux carries a parent's peak RSS into the ``ru_maxrss`` of a child it forks and execs (the
old memory map's high-water mark is recorded at exec), so a child of the big bench process
would report the bench's memory. The module therefore runs the measurement in a grandchild,
forked from this small process, and also reports ``VmHWM`` from /proc as a cross-check.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
from datetime import time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any


def maxrss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def vm_hwm_kib() -> int | None:
    """Peak resident set of this process's memory map (fresh at exec), from /proc."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


FRESH = "AFTALEFLOW_BENCH_MEMORY_FRESH"


def checkpoint(url_path: Path) -> None:
    """Fold the WAL into the database file so that copying the file copies everything."""
    import sqlite3

    conn = sqlite3.connect(url_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--processes", type=int, default=1000)
    parser.add_argument("--copy-to", type=Path, default=None)
    args = parser.parse_args(argv)
    if os.environ.get(FRESH) != "1":
        # measure in a grandchild whose ru_maxrss starts from this small process, not the bench
        cmd = [sys.executable, "-m", "bench.memory", *(sys.argv[1:] if argv is None else argv)]
        done = subprocess.run(cmd, env={**os.environ, FRESH: "1"}, check=False)
        return done.returncode
    out: dict[str, Any] = {"rss_start_kib": maxrss_kib()}

    # what run_scheduler.py loads: the engine, the sender, APScheduler (and the demo/web glue)
    from workflow.calendar import local_to_utc
    from workflow.loader import load_bundle
    from workflow.service import Service
    from workflow.storage.db import Database

    for name in ("notifications.sender", "apscheduler.schedulers.blocking", "run_scheduler"):
        try:
            importlib.import_module(name)
        except Exception as e:  # a module in flux must not break the measurement
            out.setdefault("import_errors", []).append(f"{name}: {type(e).__name__}: {e}")
    try:
        from workflow.scheduling import record_tick
    except ImportError:  # pragma: no cover - older engine
        record_tick = None  # type: ignore[assignment]
    from bench.fleet import first_day
    from bench.scenario import SHIPPED_PROCESS, YEAR

    out["rss_imports_kib"] = maxrss_kib()
    db = Database(f"sqlite:///{args.db}")
    db.migrate()
    bundle = load_bundle(SHIPPED_PROCESS, reference_year=YEAR)
    service = Service(db, link_secret="bench-secret-not-for-production")
    start = local_to_utc(first_day(bundle, YEAR), time(0, 0))
    t0 = perf_counter()
    for i in range(args.processes):
        service.start(bundle, YEAR, at=start, actor="bench", key=f"mem-{i:05d}")
    out["start_s"] = perf_counter() - t0
    out["rss_started_kib"] = maxrss_kib()

    if args.copy_to is not None:
        db.dispose()
        checkpoint(args.db)
        shutil.copy(args.db, args.copy_to)

    due = service.next_due()
    assert due is not None
    t0 = perf_counter()
    report = service.tick(due, actor="bench")
    if record_tick is not None:
        record_tick(db, report, due)
    out["busy_tick_s"] = perf_counter() - t0
    out["busy_tick_processes"] = report.processes
    out["rss_busy_tick_kib"] = maxrss_kib()

    idle = due + timedelta(minutes=1)
    t0 = perf_counter()
    report = service.tick(idle, actor="bench")
    if record_tick is not None:
        record_tick(db, report, idle)
    out["idle_tick_s"] = perf_counter() - t0
    out["rss_final_kib"] = maxrss_kib()
    out["vm_hwm_kib"] = vm_hwm_kib()
    out["processes"] = args.processes
    db.dispose()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
