"""The report to a meeting's invitees, from the report page: when the planned mail goes (or
went), and the admins' actions — send it now by hand, revoke the personal report links.
Each action asks why (CSRF-protected like every dashboard action) and is audited by the
service (``workflow.forum_report``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, url_for
from sqlalchemy import select

from web.dashboard import forms
from web.dashboard.actions import Action, Page, handle, service
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.reads import process_or_404, stage_or_404
from web.dashboard.texts import dt
from web.state import state
from workflow.forum_report import meetings_sending
from workflow.storage.models import OutboxRow, StageRow


@dataclass(frozen=True)
class ForumSend:
    """A meeting that gets the report: its stage, name, planned moment and when it went."""

    stage: str
    name: str
    planned_at: datetime | None
    sent_at: datetime | None
    #: Due when the meeting had already begun (a late start): recorded, nothing sent.
    skipped: bool = False


def forum_sends(key: str, source: str) -> list[ForumSend]:
    with state().db.sessions() as s:
        row, bound = process_or_404(s, key)
        sent = {
            r.stage_id: r.report_sent_at
            for r in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
        }
        mailed = set(
            s.scalars(
                select(OutboxRow.stage_id).where(
                    OutboxRow.process_id == row.id, OutboxRow.kind == "forum_report"
                )
            )
        )
    return [
        ForumSend(
            st.id,
            st.definition.name,
            bound.report_at(st),
            sent.get(st.id),
            skipped=sent.get(st.id) is not None and st.id not in mailed,
        )
        for st in meetings_sending(bound, source)
    ]


def _facts(key: str, source: str, meeting: str) -> tuple[list[tuple[str, str]], str]:
    with state().db.sessions() as s:
        row, bound = process_or_404(s, key)
    stage_or_404(bound, source)
    st = stage_or_404(bound, meeting)
    if st.id not in [m.id for m in meetings_sending(bound, source)]:
        abort(404)
    return [("f_process", row.title), ("stage", st.definition.name)], st.definition.name


def _back(key: str, source: str) -> str:
    return url_for("dashboard.report", key=key, stage=source) + "#forum-send"


@bp.route("/proces/<key>/rapport/<stage>/send/<meeting>", methods=["GET", "POST"])
@admin_only
def send_report(key: str, stage: str, meeting: str) -> Page:
    facts, name = _facts(key, stage, meeting)
    form = forms.ReasonForm()

    def run() -> str:
        n = service().send_report(
            key, meeting, at=state().now(), actor=the_user().actor, reason=form.reason.data
        )
        return dt("done_report_sent", n=n, meeting=name)

    action = Action(
        dt("act_send_report"),
        facts,
        _back(key, stage),
        dt("act_send_report"),
        intro=dt("send_report_intro"),
    )
    return handle(form, action, run)


@bp.route("/proces/<key>/rapport/<stage>/tilbagekald/<meeting>", methods=["GET", "POST"])
@admin_only
def revoke_report_links(key: str, stage: str, meeting: str) -> Page:
    facts, name = _facts(key, stage, meeting)
    form = forms.ReasonForm()

    def run() -> str:
        service().revoke_report_links(
            key, meeting, at=state().now(), actor=the_user().actor, reason=form.reason.data
        )
        return dt("done_report_revoked", meeting=name)

    action = Action(
        dt("act_revoke_report"),
        facts,
        _back(key, stage),
        dt("act_revoke_report"),
        intro=dt("revoke_report_intro"),
        warning=dt("revoke_report_warning"),
    )
    return handle(form, action, run)
