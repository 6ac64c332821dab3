"""Calendar commands and reports: dates on non-working days, councils' meeting plans.

``print_date_report`` is what ``aftaleflow check FILE --year Y`` and ``simulate`` print after a
definition: every date of the bound year on a weekend or a Danish holiday, what its rule makes of
it, and a warning (``file:line: [field] advarsel: …``, exit code 0) for a meeting, workshop or
deadline that still lands on such a day.
"""

from __future__ import annotations

from pathlib import Path

import click

from notifications.dates import format_date
from workflow.loader import Bundle, line_of
from workflow.roll import DA_WEEKDAYS, WEEKDAYS, DateHit, date_hits, weekday_placements

WHAT = {
    "deadline": "frist",
    "meeting": "møde",
    "workshop": "workshop",
    "send": "udsendelse",
    "opens": "fasen åbner",
    "closes": "fasen lukker",
}
RULE = {
    "next_working_day": "flyttes til næste arbejdsdag",
    "previous_working_day": "flyttes til forrige arbejdsdag",
    "keep": "beholdes",
    "office_slot": "mails går ud næste arbejdsdag kl. kontortid",
}


def describe(hit: DateHit) -> str:
    """``mandag den 20. maj 2024 (Anden pinsedag) → tirsdag den 21. maj 2024``-style line."""
    when = f"{format_date(hit.written)} ({hit.reason})"
    if hit.what == "closes":
        outcome = "lukker ved dagens udgang; intet sendes"
    elif hit.outcome != hit.written:
        outcome = f"{format_date(hit.outcome)} ({RULE[hit.rule]})"
    else:
        outcome = RULE[hit.rule]
    return f"{when}: {WHAT[hit.what]} – {hit.title} → {outcome}"


def print_date_report(bundle: Bundle, year: int) -> int:
    """Print the non-working-day dates of ``bundle`` in ``year``; returns the number of warnings."""
    hits = date_hits(bundle.process, year)
    path = bundle.path
    placed = weekday_placements(bundle.process, year)
    if placed:
        click.echo(f"{path}: møder og workshops på faste ugedage i {year}:")
        for w in placed:
            rule = f"første {DA_WEEKDAYS[WEEKDAYS.index(w.weekday)]} fra {format_date(w.anchor)}"
            click.echo(f"  {format_date(w.day)}: {w.title} ({rule})  [{w.field}]")
    if not hits:
        click.echo(f"{path}: ingen datoer på weekender eller helligdage i {year}")
        return 0
    click.echo(f"{path}: {len(hits)} dato(er) på weekender eller helligdage i {year}:")
    for h in hits:
        click.echo(f"  {describe(h)}  [{h.field}]")
    warnings = [h for h in hits if h.warning]
    for h in warnings:
        line = line_of(Path(path), h.field) if path else None
        where = f"{path}:{line}" if line else path
        click.echo(
            f"{where}: [{h.field}] advarsel: {WHAT[h.what]} {h.title!r} ligger "
            f"{format_date(h.outcome)} ({h.reason}); giv datoen en 'weekday' eller en 'roll'"
        )
    return len(warnings)
