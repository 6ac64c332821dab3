"""``aftaleflow simulate --from KEY``: what happens to a running process if a stage slips or
parties answer late, tried out in a throw-away copy (``workflow.fork``)."""

from __future__ import annotations

import click
from sqlalchemy import select

from aftaleflow.cli_common import App, console, parse_at
from workflow.errors import GuardRefused
from workflow.fork import forked, live_now, parse_slip, set_definition, slip_stage, stage_done
from workflow.loader import Bundle
from workflow.risk_reads import calendars_of
from workflow.service import Service
from workflow.storage.models import ProcessRow


def simulate_live(
    app: App,
    key: str,
    slips: tuple[str, ...],
    late: frozenset[str],
    show_all: bool,
    at_text: str | None,
) -> None:
    """Fork the process ``key``, move the slipped stages, and print the rest of its year."""
    from aftaleflow.cli_calendar import print_date_report
    from aftaleflow.cli_process import check_late, print_simulation
    from workflow.calendar import to_local
    from workflow.simulation import simulate_from

    app.service()  # checks the schema
    now = parse_at(at_text) if at_text else live_now(app.db, key, parse_at(None))
    moves = [parse_slip(s) for s in slips]
    with forked(app.db, key) as db:
        with db.sessions() as s:
            row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
            assert row is not None
            bundle = Bundle.from_snapshot(row.definition_snapshot, path=row.definition_path)
            year = row.year
        check_late(bundle, late)
        for stage_id, days in moves:
            if stage_done(db, key, stage_id):
                raise GuardRefused(
                    f"fasen {stage_id!r} er afsluttet; historien kan ikke forsinkes",
                    en=f"the stage {stage_id!r} is completed; history cannot slip",
                )
            bundle = slip_stage(bundle, year, stage_id, days)
        if moves:
            set_definition(db, key, bundle)
        print_date_report(bundle, year)
        shown = ", ".join(f"{sid} {d:+d} dage" for sid, d in moves) or "ingen"
        click.echo(f"Hvad nu hvis: {key} fra {to_local(now):%Y-%m-%d %H:%M}; flyttet: {shown}")
        svc = Service(db, link_secret=app.settings.secret_key, calendars=calendars_of)
        result = simulate_from(svc, key, now, late=late)
        print_simulation(bundle, result, show_all, late)
    console.print("(En kopi: den rigtige proces er ikke ændret.)")
