"""The approval stage on the councils' calendars (Mødeplan): for every party the planned
meeting per step, its agenda deadline and the step's deadline, with the parties at risk
marked weeks before the stage's deadline (``workflow.approval_risk``)."""

from __future__ import annotations

from flask import render_template

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.state import state
from workflow.calendar import to_local
from workflow.risk_reads import calendars_for, stage_risks


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
    )
