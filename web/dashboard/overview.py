"""The overview of every process, and one process's page: timeline, party × stage matrix,
counts, the next mails, the overdue parties and the scheduler's last tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from web.dashboard import agreement, timeline
from web.dashboard.attachments import process_attachments
from web.dashboard.blueprint import bp
from web.dashboard.reads import process_or_404
from web.i18n import lang
from web.state import state
from workflow import queries
from workflow.calendar import to_local
from workflow.contact_book import read_book
from workflow.definition_parties import ROLES
from workflow.queries import ProcessStatus
from workflow.risk_reads import parties_at_risk
from workflow.service import bound_for
from workflow.storage.models import ProcessRow
from workflow.timeline import BoundProcess

#: Badges in the order the counts are shown.
BADGES = (
    "not_invited",
    "invited",
    "opened",
    "draft",
    "answered_by_mail",
    "submitted",
    "late",
    "overdue",
    "exempt",
    "requested",
    "postponed",
    "approved",
    "rejected",
)
#: Next mails shown on a process page.
UPCOMING_SHOWN = 25


@dataclass(frozen=True)
class ProcessView:
    row: ProcessRow
    status: ProcessStatus
    timeline: timeline.Timeline
    overdue: list[queries.OverdueTask]

    @property
    def per_party_stages(self) -> list[queries.StageStatus]:
        return [s for s in self.status.stages if s.kind in ("questionnaire", "approval")]

    @property
    def counts(self) -> list[tuple[str, int]]:
        return [(b, self.status.counts[b]) for b in BADGES if self.status.counts.get(b)]


def process_view(s: Session, row: ProcessRow, now: datetime) -> ProcessView:
    bound = bound_for(row)
    status = queries.process_status(s, row.key, bound)
    return ProcessView(
        row,
        status,
        timeline.build(status.stages, now, lang()),
        queries.overdue_tasks(s, row, bound, now),
    )


@bp.get("/")
def index() -> str:
    st = state()
    now = st.now()
    with st.db.sessions() as s:
        views = [process_view(s, row, now) for row in queries.processes(s)]
    last_tick = views[0].status.last_tick if views else None
    return render_template("dashboard/index.html", views=views, now=now, last_tick=_tick(last_tick))


@bp.get("/proces/<key>")
def process(key: str) -> str:
    st = state()
    now = st.now()
    with st.db.sessions() as s:
        row, bound = process_or_404(s, key)
        view = process_view(s, row, now)
        upcoming = queries.upcoming_mails(s, row, bound)
        attachments = process_attachments(s, row, bound)
        path = agreement.path_of(s, row, bound)
        at_risk = parties_at_risk(s, row, bound, to_local(now).date())
        failing_where = _failing_where(s, bound, view.status.failing_contacts)
    return render_template(
        "dashboard/process.html",
        failing_where=failing_where,
        view=view,
        status=view.status,
        upcoming=upcoming[:UPCOMING_SHOWN],
        more_upcoming=max(0, len(upcoming) - UPCOMING_SHOWN),
        now=now,
        last_tick=_tick(view.status.last_tick),
        questionnaires=[s for s in bound.stages if s.kind == "questionnaire"],
        attachments=attachments,
        path=path,
        at_risk=at_risk,
    )


def _failing_where(
    s: Session, bound: BoundProcess, failing: list[tuple[str, str]]
) -> dict[str, list[tuple[str, str, str]]]:
    """Failing address (lower case) → the (party slug, party name, role) it is an active
    contact of, for the alert's "Erstat" actions; read only when something is failing."""
    if not failing:
        return {}
    book = read_book(s.connection(), bound.bundle.parties)
    wanted = {address.lower() for address, _ in failing}
    out: dict[str, list[tuple[str, str, str]]] = {}
    for p in bound.bundle.parties.parties:
        for role in ROLES:
            for c in book.addresses(p.slug, role):
                if c.email.lower() in wanted:
                    out.setdefault(c.email.lower(), []).append((p.slug, p.name, role))
    return out


def _tick(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last tick as the templates show it (its time parsed back to a datetime)."""
    if not value or not value.get("at"):
        return None
    return {**value, "at": datetime.fromisoformat(value["at"])}
