"""The read-only JSON API: processes, their stages, and the parties with their statuses.

Every request needs ``Authorization: Bearer <token>`` with a token from
``aftaleflow user api-token NAME`` (only its SHA-256 is stored); a session cookie is not
enough, so the API cannot be driven from a logged-in browser by another site. Documented in
``docs/api.md``. Times are ISO 8601 in UTC; dates are ISO dates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web.state import state
from workflow import queries, users
from workflow.labels import label
from workflow.service import bound_for
from workflow.storage.models import ProcessRow, TaskRow

VERSION = "v1"
bp = Blueprint("api", __name__, url_prefix=f"/api/{VERSION}")


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="aftaleflow"'
    return response


@bp.before_request
def _authenticate() -> Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "unauthorized", "send Authorization: Bearer <token>")
    user = users.user_for_token(state().db, token.strip())
    if user is None:
        return _error(401, "unauthorized", "the token is not known (issue one with "
                      "`aftaleflow user api-token NAME`)")  # fmt: skip
    g.api_user = user
    return None


@bp.errorhandler(404)
def _not_found(_e: Exception) -> Response:
    return _error(404, "not_found", "no such resource")


@bp.errorhandler(405)
def _not_allowed(_e: Exception) -> Response:
    return _error(405, "method_not_allowed", "the API is read-only: use GET")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _process(s: Session, key: str) -> ProcessRow | None:
    return s.scalar(select(ProcessRow).where(ProcessRow.key == key))


def _summary(st: queries.ProcessStatus) -> dict[str, Any]:
    return {
        "key": st.key,
        "title": st.title,
        "year": st.year,
        "status": st.status,
        "status_label": label(st.status),
        "definition": st.definition,
        "definition_hash": st.definition_hash,
        "next_due_at": _iso(st.next_due_at),
        "counts": dict(sorted(st.counts.items())),
        "outbox": dict(sorted(st.outbox.items())),
        "document_hash": st.document_hash,
        "submission_refused": st.submission_refused or None,
    }


def _stages(st: queries.ProcessStatus) -> list[dict[str, Any]]:
    return [
        {
            "id": x.id,
            "name": x.name,
            "forum": x.forum,
            "kind": x.kind,
            "status": x.status,
            "status_label": label(x.status),
            "opens_at": _iso(x.opens_at),
            "closes_at": _iso(x.closes_at),
            "deadline": _iso(x.deadline),
            "opened_at": _iso(x.opened_at),
            "closed_at": _iso(x.closed_at),
            "outcome": (x.outcome or {}).get("outcome"),
        }
        for x in st.stages
    ]


def _parties(st: queries.ProcessStatus) -> list[dict[str, Any]]:
    return [
        {
            "slug": p.slug,
            "name": p.name,
            "stages": {
                stage: {
                    "badge": c.badge,
                    "label": label(c.badge),
                    "step": c.detail or None,
                    "deadline_extended_to": _iso(c.deadline),
                }
                for stage, c in p.cells.items()
            },
        }
        for p in st.parties
    ]


def _task(t: TaskRow, deadline: date | None) -> dict[str, Any]:
    d = t.decision or {}
    return {
        "stage": t.stage_id,
        "step": t.step or None,
        "kind": t.kind,
        "status": t.status,
        "deadline": _iso(t.deadline_or(deadline)),
        "deadline_extended": t.deadline_override is not None,
        "invited_at": _iso(t.invited_at),
        "opened_at": _iso(t.opened_at),
        "submitted_at": _iso(t.submitted_at),
        "decided_at": _iso(t.decided_at),
        "reminders_sent": t.reminders_done,
        "escalated": t.escalated,
        "decision": (
            {
                "decision": d.get("decision"),
                "meeting_date": d.get("meeting_date") or None,
                "agenda_item": d.get("agenda_item") or None,
                "decision_text": d.get("decision_text") or None,
                "document_hash": d.get("document_hash") or None,
            }
            if d
            else None
        ),
    }


def _status_or_404(s: Session, key: str) -> tuple[ProcessRow, queries.ProcessStatus] | None:
    row = _process(s, key)
    if row is None:
        return None
    return row, queries.process_status(s, key, bound_for(row))


@bp.get("/processes")
def processes() -> Response:
    with state().db.sessions() as s:
        out = [
            _summary(queries.process_status(s, row.key, bound_for(row)))
            for row in queries.processes(s)
        ]
    return jsonify({"processes": out})


@bp.get("/processes/<key>")
def process(key: str) -> Response:
    with state().db.sessions() as s:
        found = _status_or_404(s, key)
    if found is None:
        return _error(404, "not_found", f"no process {key!r}")
    _, st = found
    tick = st.last_tick or {}
    return jsonify(
        {
            **_summary(st),
            "stages": _stages(st),
            "parties": _parties(st),
            "failing_contacts": [{"address": a, "reason": r} for a, r in st.failing_contacts],
            "last_tick": {k: tick.get(k) for k in ("at", "applied", "late")} if tick else None,
        }
    )


@bp.get("/processes/<key>/stages")
def stages(key: str) -> Response:
    with state().db.sessions() as s:
        found = _status_or_404(s, key)
    if found is None:
        return _error(404, "not_found", f"no process {key!r}")
    return jsonify({"process": key, "stages": _stages(found[1])})


@bp.get("/processes/<key>/parties")
def parties(key: str) -> Response:
    with state().db.sessions() as s:
        found = _status_or_404(s, key)
    if found is None:
        return _error(404, "not_found", f"no process {key!r}")
    return jsonify({"process": key, "parties": _parties(found[1])})


@bp.get("/processes/<key>/parties/<slug>")
def party(key: str, slug: str) -> Response:
    with state().db.sessions() as s:
        found = _status_or_404(s, key)
        if found is None:
            return _error(404, "not_found", f"no process {key!r}")
        row, st = found
        p = next((p for p in _parties(st) if p["slug"] == slug), None)
        if p is None:
            return _error(404, "not_found", f"no party {slug!r} in {key}")
        bound = bound_for(row)
        deadlines = {b.id: b.deadline for b in bound.stages}
        tasks = [
            _task(t, deadlines.get(t.stage_id))
            for t in s.scalars(
                select(TaskRow)
                .where(TaskRow.process_id == row.id, TaskRow.party == slug)
                .order_by(TaskRow.stage_id, TaskRow.seq)
            )
        ]
    return jsonify({"process": key, **p, "tasks": tasks})
