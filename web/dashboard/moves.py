"""Moving the plan from the dashboard (admin only, each asks why): a meeting or workshop moved
(day, time, place) or cancelled, and a stage's deadline moved for every party
(``workflow.moves``: the invitees get the calendar update, the parties that have not answered
a "ny frist" mail, and the audit log the change)."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for

from web.dashboard import forms
from web.dashboard.actions import Action, Page, action_context, handle, service
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow.calendar import to_local
from workflow.dates import format_date, format_datetime
from workflow.timeline import BoundStage


def _back(key: str, stage: str) -> str:
    return url_for("dashboard.process", key=key) + f"#stage-{stage}"


def _events(ctx: dict[str, Any]) -> BoundStage:
    bst: BoundStage = ctx["stage"]
    if not bst.events:
        abort(404)
    for ev in bst.events:
        when = format_datetime(ev.start, lang())
        ctx["facts"].append(("meeting_now", f"{ev.title}: {when}, {ev.location}"))
    return bst


def _event_field(form: Any, bst: BoundStage) -> None:
    form.event.options = [(ev.id, ev.title) for ev in bst.events]
    if form.event.data is None and len(bst.events) == 1:
        form.event.data = bst.events[0].id


@bp.route("/proces/<key>/fase/<stage>/flyt-moede", methods=["GET", "POST"])
@admin_only
def move_meeting(key: str, stage: str) -> Page:
    ctx = action_context(key, stage)
    bst = _events(ctx)
    form = forms.MoveMeetingForm()
    _event_field(form, bst)
    ids = [ev.id for ev in bst.events]
    if form.event.data in ids and not form.is_submitted():
        ev = bst.events[ids.index(form.event.data)]
        local = to_local(ev.start)
        form.day.data = local.date().isoformat()
        form.clock.data = local.time().isoformat(timespec="minutes")
        form.location.data = ev.location

    def run() -> str:
        at, actor = state().now(), the_user().actor
        moved = service().move_meeting(
            key,
            stage,
            form.event.data,
            to=f"{form.day.data}T{form.clock.data}",
            location=form.location.data,
            at=at,
            actor=actor,
            reason=form.reason.data,
        )
        done = "done_postpone_meeting" if moved.status == "postponed" else "done_move_meeting"
        return dt(done, title=moved.title, when=format_datetime(moved.start, lang()))

    action = Action(
        dt("act_move_meeting"),
        ctx["facts"],
        _back(key, stage),
        dt("act_move_meeting"),
        intro=dt("move_meeting_intro"),
    )
    return handle(form, action, run)


@bp.route("/proces/<key>/fase/<stage>/aflys-moede", methods=["GET", "POST"])
@admin_only
def cancel_meeting(key: str, stage: str) -> Page:
    ctx = action_context(key, stage)
    bst = _events(ctx)
    form = forms.CancelMeetingForm()
    _event_field(form, bst)

    def run() -> str:
        at, actor = state().now(), the_user().actor
        gone = service().move_meeting(
            key,
            stage,
            form.event.data,
            to=None,
            location=None,
            cancel=True,
            at=at,
            actor=actor,
            reason=form.reason.data,
        )
        return dt("done_cancel_meeting", title=gone.title)

    action = Action(
        dt("act_cancel_meeting"),
        ctx["facts"],
        _back(key, stage),
        dt("act_cancel_meeting"),
        intro=dt("cancel_meeting_intro"),
        warning=dt("cancel_meeting_warning"),
    )
    return handle(form, action, run)


@bp.route("/proces/<key>/fase/<stage>/flyt-frist", methods=["GET", "POST"])
@admin_only
def move_deadline(key: str, stage: str) -> Page:
    ctx = action_context(key, stage)
    bst: BoundStage = ctx["stage"]
    if bst.deadline is not None:
        ctx["facts"].append(("deadline", format_date(bst.deadline, lang())))
    form = forms.ExtendForm()

    def run() -> str:
        at, actor = state().now(), the_user().actor
        new = forms.as_date(form.deadline.data)
        got = service().move_deadline(key, stage, new, at=at, actor=actor, reason=form.reason.data)
        return dt(
            "done_move_deadline",
            stage=bst.definition.name,
            date=format_date(new, lang()),
            told=len(got["told"]),
            answered=len(got["answered"]),
        )

    action = Action(
        dt("act_move_deadline"),
        ctx["facts"],
        _back(key, stage),
        dt("act_move_deadline"),
        intro=dt("move_deadline_intro"),
    )
    return handle(form, action, run)
