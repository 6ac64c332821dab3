"""The audit log: every event (who, when, what, why), filtered by process, party, kind and
date (Danish local dates, both ends included)."""

from __future__ import annotations

from datetime import date

from flask import render_template, request

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.state import state


@bp.get("/log")
def audit_log() -> str:
    errors: list[str] = []
    since = _date("fra", errors)
    until = _date("til", errors)
    try:
        page_no = max(1, int(request.args.get("side", "1")))
    except ValueError:
        page_no = 1
    f = reads.EventFilter(
        process=request.args.get("process", "")[:120],
        party=request.args.get("party", "")[:100],
        kind=request.args.get("kind", "")[:60],
        since=since,
        until=until,
        page=page_no,
        errors=errors,
    )
    with state().db.sessions() as s:
        page = reads.events(s, f)
        keys = reads.process_keys(s)
        kinds = reads.event_kinds(s)
        parties = reads.event_parties(s)
    return render_template(
        "dashboard/audit.html", f=f, page=page, keys=keys, kinds=kinds, parties=parties
    )


def _date(name: str, errors: list[str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(name)
        return None
