"""The secretariat's workshop page: per workshop the sign-ups and the waiting list, the
minimum flag, attendance (admins, once the workshop has begun), the conclusions (challenges,
actions, recommendations; every version kept) and the participant list as XLSX."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.workshop_texts import wt
from web.i18n import lang
from web.state import state
from workflow import exports
from workflow.errors import ConcurrentUpdate, GuardRefused, NotFound
from workflow.workshop_exports import participant_tables
from workflow.workshop_service import WorkshopInfo, Workshops
from workflow.workshops import CONFIRMED, TEXT_MAX

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS = ("challenges", "actions", "recommendations")


@bp.app_context_processor
def _texts() -> dict[str, object]:
    """``wt`` in every template (the process page links to the workshop page)."""
    return {"wt": wt}


def _workshops() -> Workshops:
    return Workshops(state().responses.service)


def _overview(key: str) -> tuple[str, list[WorkshopInfo], dict[str, str]]:
    try:
        row, infos = _workshops().overview(key)
    except NotFound:
        abort(404)
    with state().db.sessions() as s:
        _, bound = reads.process_or_404(s, key)
    return row.title, infos, reads.party_names(bound)


def _page(
    key: str, *, status: int = 200, form: dict[str, str] | None = None, error: str = ""
) -> tuple[str, int]:
    title, infos, names = _overview(key)
    now = state().now()
    return (
        render_template(
            "dashboard/workshops.html",
            key=key,
            title=title,
            infos=infos,
            names=names,
            now=now,
            confirmed=CONFIRMED,
            form=form or {},
            error=error,
            text_max=TEXT_MAX,
        ),
        status,
    )


@bp.get("/proces/<key>/workshops")
def workshops(key: str) -> tuple[str, int]:
    return _page(key)


@bp.post("/proces/<key>/workshops/<stage>/<workshop>/fremmoede")
@admin_only
def workshop_attendance(key: str, stage: str, workshop: str) -> Response | tuple[str, int]:
    _, infos, _ = _overview(key)
    info = next((i for i in infos if i.window.stage_id == stage and i.window.id == workshop), None)
    if info is None:
        abort(404)
    came = set(request.form.getlist("attended"))
    seqs = [r.seq for r in info.signups if r.status == CONFIRMED]
    try:
        _workshops().record_attendance(
            key,
            stage,
            workshop,
            {seq: str(seq) in came for seq in seqs},
            at=state().now(),
            actor=the_user().actor,
        )
    except (GuardRefused, NotFound, ConcurrentUpdate) as exc:
        return _page(key, status=409, error=wt("ws_refused", reason=exc.text(lang())))
    flash(wt("ws_attendance_saved"), "success")
    return redirect(url_for("dashboard.workshops", key=key) + f"#ws-{workshop}", code=303)


@bp.post("/proces/<key>/workshops/<stage>/<workshop>/konklusioner")
@admin_only
def workshop_conclusions(key: str, stage: str, workshop: str) -> Response | tuple[str, int]:
    texts = {f: str(request.form.get(f, "")) for f in FIELDS}
    if any(len(v) > TEXT_MAX for v in texts.values()):
        form = {**texts, "workshop": workshop}
        return _page(key, status=422, form=form, error=wt("ws_too_long", max=TEXT_MAX))
    try:
        version = _workshops().save_conclusions(
            key, stage, workshop, texts, at=state().now(), actor=the_user().actor
        )
    except NotFound:
        abort(404)
    except ConcurrentUpdate as exc:
        return _page(
            key,
            status=409,
            form={**texts, "workshop": workshop},
            error=wt("ws_refused", reason=exc.text(lang())),
        )
    flash(wt("ws_conclusions_saved", version=version), "success")
    return redirect(url_for("dashboard.workshops", key=key) + f"#ws-{workshop}", code=303)


@bp.get("/proces/<key>/eksport/workshops.xlsx")
def workshops_xlsx(key: str) -> Response:
    _, infos, names = _overview(key)
    response = Response(exports.to_xlsx(participant_tables(infos, names)), mimetype=XLSX)
    response.headers.set("Content-Disposition", "attachment", filename=f"{key}-workshops.xlsx")
    return response
