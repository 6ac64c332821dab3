"""``python -m bench``: run the performance suite, print the table, write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path
from time import perf_counter

from bench.ratios import PEER_INSTANCES
from bench.report import RESULTS, markdown, table
from bench.suite import MEASUREMENTS, Options, Suite


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--parties",
        default="nordjylland",
        help="party set of the cycle measurements (1, 2): nordjylland (the shipped "
        "definition, 12 parties), danmark (98 kommuner + 5 regions) or a number",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes in the cycle run (default 100; 10 for other party sets or --quick)",
    )
    p.add_argument(
        "--only",
        default=",".join(MEASUREMENTS),
        help="comma-separated measurement numbers to run (default: all)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, for trying the suite out")
    p.add_argument(
        "--budget",
        type=float,
        default=170.0,
        help="seconds the cycle measurement may spend on repetitions (at least one)",
    )
    p.add_argument("--max-reps", type=int, default=5, help="most repetitions of the cycle run")
    p.add_argument(
        "--peer-instances",
        type=int,
        default=None,
        help=f"SpiffWorkflow process-years after each cycle repetition, in memory and with "
        f"save/restore (default {PEER_INSTANCES}; 1 with --quick; 0 leaves SpiffWorkflow out)",
    )
    p.add_argument("--profile", action="store_true", help="add a cProfile of a 10-process cycle")
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the results (default bench/RESULTS.md for a full default run; "
        "other runs write only when this is given)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    only = frozenset(x.strip() for x in args.only.split(",") if x.strip())
    unknown = only - set(MEASUREMENTS)
    if unknown:
        print(f"unknown measurement(s) {', '.join(sorted(unknown))}; use 1-7", file=sys.stderr)
        return 2
    parties = args.parties
    if parties not in ("nordjylland", "danmark") and not parties.isdigit():
        print("--parties must be nordjylland, danmark or a number", file=sys.stderr)
        return 2
    default_run = (
        only == frozenset(MEASUREMENTS)
        and not args.quick
        and parties == "nordjylland"
        and args.processes is None
        and args.peer_instances is None
    )
    output = args.output or (RESULTS if default_run else None)
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m bench", *([shlex.join(given)] if given else [])])
    t0 = perf_counter()
    with tempfile.TemporaryDirectory(prefix="aftaleflow-bench-") as tmp:
        opts = Options(
            workdir=Path(tmp),
            parties=parties,
            processes=args.processes,
            only=only,
            quick=args.quick,
            cycle_budget_s=args.budget,
            max_reps=max(1, args.max_reps),
            profile=args.profile,
            peer_instances=(
                args.peer_instances
                if args.peer_instances is not None
                else (1 if args.quick else PEER_INSTANCES)
            ),
        )
        results = Suite(opts).run()
    elapsed = perf_counter() - t0
    print()
    print(table(results.rows))
    for r in results.rows:
        if r.note:
            print(f"  {r.no}: {r.note}")
    for n in results.notes:
        print(f"- {n}")
    print(f"\n{elapsed:.0f} s in all.")
    if output is not None:
        output.write_text(markdown(results, command, elapsed), encoding="utf-8")
        print(f"wrote {output}")
    failed = any(r.status == "ERROR" for r in results.rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
