"""The approval stage on the councils' calendars (Mødeplan): for every party the planned
meeting per step, its agenda deadline and the step's deadline, with the parties at risk
marked weeks before the stage's deadline (``workflow.approval_risk``)."""

from __future__ import annotations

from datetime import time

from flask import render_template

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.i18n import lang
from web.state import state
from workflow.calendar import local_to_utc, to_local
from workflow.councils import Meeting
from workflow.dates import format_time
from workflow.risk_reads import calendars_for, stage_risks


def meeting_time(m: Meeting) -> str:
    """The time of a council meeting as the page's language writes it (kl. 17.00, 17:00)."""
    if not m.time:
        return ""
    return format_time(local_to_utc(m.date, time.fromisoformat(m.time)), lang())


@bp.get("/proces/<key>/moedeplan")
def meeting_plan(key: str) -> str:
    st = state()
    today = to_local(st.now()).date()
    with st.db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        stages = stage_risks(s, row, bound, today)
    calendars, source = calendars_for(row, bound)
    names = reads.party_names(bound)
    return render_template(
        "dashboard/meeting_plan.html",
        names_of=lambda parties: ", ".join(names.get(p.party, p.party) for p in parties),
        row=row,
        stages=stages,
        calendars=calendars,
        source=source,
        names=names,
        today=today,
        meeting_time=meeting_time,
    )
