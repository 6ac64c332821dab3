"""The results table, the machine's description, and ``bench/RESULTS.md``."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

PASS, FAIL, INFO, SKIP = "PASS", "FAIL", "info", "SKIP"


@dataclass
class Row:
    no: str
    what: str
    figure: str
    target: str = ""
    status: str = INFO
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[tuple[str, list[str]]] = field(default_factory=list)
    profile: str = ""
    load_at_start: str = field(default_factory=lambda: load_average())

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        target = f" (target {row.target})" if row.target else ""
        print(
            f"  [{row.status:>4}] {row.no} {row.what}: {row.figure}{target}",
            file=sys.stderr,
            flush=True,
        )
        return row

    def detail(self, title: str, lines: list[str]) -> None:
        self.details.append((title, lines))


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a sample."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1000:.{digits}f} ms"


# ---------------------------------------------------------------------- the machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine(load_at_start: str = "") -> list[tuple[str, str]]:
    import sqlalchemy

    return [
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("RAM", _ram()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        ("SQLAlchemy", sqlalchemy.__version__),
        ("load average (1, 5, 15 min) at the start", load_at_start or "unknown"),
        ("load average (1, 5, 15 min) at the end", load_average()),
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


# ---------------------------------------------------------------------- output


def table(rows: list[Row]) -> str:
    head = ["#", "measurement", "figure", "target", "result"]
    body = [[r.no, r.what, r.figure, r.target or "—", r.status] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]
    line = "  ".join("{:<%d}" % w for w in widths)  # noqa: UP031
    out = [line.format(*head), line.format(*["-" * w for w in widths])]
    out += [line.format(*b) for b in body]
    return "\n".join(out)


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown(results: Results, command: str, elapsed_s: float) -> str:
    lines = [
        "# Aftaleflow benchmark results",
        "",
        f"Written by `{command}` (issue 7) in {elapsed_s:.0f} s. Every figure is a median of the "
        "repetitions named in the notes; ratios are taken per repetition, measured side by "
        "side in the same run, and then their median is shown.",
        "",
        "## Machine",
        "",
        _md_row(["", ""]),
        _md_row(["---", "---"]),
    ]
    lines += [_md_row([k, v]) for k, v in machine(results.load_at_start)]
    lines += [
        "",
        "## Results",
        "",
        _md_row(["#", "measurement", "figure", "target", "result", "note"]),
        _md_row(["---", "---", "---:", "---", "---", "---"]),
    ]
    lines += [
        _md_row([r.no, r.what, r.figure, r.target or "—", f"**{r.status}**", r.note])
        for r in results.rows
    ]
    if results.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {n}" for n in results.notes]
    for title, body in results.details:
        lines += ["", f"### {title}", "", *body]
    if results.profile:
        lines += [
            "",
            "## Where the time goes (cProfile)",
            "",
            "```",
            results.profile.rstrip(),
            "```",
        ]
    return "\n".join(lines) + "\n"
