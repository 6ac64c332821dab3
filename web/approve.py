"""The approval step of a personal link: ``/godkend/<token>``, for a council secretariat.

The form takes the meeting date, the agenda item, the decision (approved, rejected,
postponed), the decision text and the minutes (a file, a web address, or both) and records
them with ``Service.record_approval``, which also blocks the process and tells the
secretariat on a rejection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from web.answer_form import issue_message, sign_kept, summary, take_file
from web.downloads import attachment
from web.i18n import t
from web.links import resolve_link
from web.security import csrf
from web.state import state
from workflow.calendar import to_local
from workflow.errors import GuardRefused
from workflow.link_target import OPEN, LinkNotFound, Target
from workflow.validation import DECISIONS, Issue, validate_decision

bp = Blueprint("approve", __name__)
csrf.exempt(bp)

APPROVAL = "approval"
#: The minutes may be a PDF, DOCX or ODT of at most this size.
MINUTES_ACCEPT = ["pdf", "docx", "odt"]
MINUTES_MAX_MB = 10
#: Form fields in the order of the page (the error summary follows it).
FIELDS = ["meeting_date", "agenda_item", "decision", "decision_text", "minutes_file", "minutes_url"]


@bp.get("/godkend/<token>")
def approval(token: str) -> str:
    target = resolve_link(token, kind=APPROVAL)
    return render_approval(target, {}, {})


@bp.post("/godkend/<token>")
def post(token: str) -> Response | tuple[str, int]:
    st = state()
    target = resolve_link(token, kind=APPROVAL)
    if target.phase != OPEN:
        return render_approval(target, {}, {}, posted=True), 409
    values: dict[str, Any] = {f: request.form.get(f, "") for f in FIELDS if f != "minutes_file"}
    try:
        csrf.protect()
    except CSRFError:
        values["minutes_file"], _ = take_file(
            target, "minutes_file", request.form, request.files, accept=MINUTES_ACCEPT,
            max_mb=MINUTES_MAX_MB, signer=st.kept_files, upload_dir=st.upload_dir, store=False,
        )  # fmt: skip
        return render_approval(target, values, {}, csrf_failed=True), 400
    minutes, upload_issue = take_file(
        target, "minutes_file", request.form, request.files, accept=MINUTES_ACCEPT,
        max_mb=MINUTES_MAX_MB, signer=st.kept_files, upload_dir=st.upload_dir,
    )  # fmt: skip
    values["minutes_file"] = minutes
    today = to_local(st.now()).date()
    decision, issues = validate_decision(values, minutes, today=today)
    if upload_issue is not None:
        issues["minutes_file"] = upload_issue
    if issues or decision is None:
        return render_approval(target, values, issues), 422
    try:
        st.responses.decide(target, decision, st.now())
    except GuardRefused:
        target = resolve_link(token, kind=APPROVAL, mark_opened=False)
        return render_approval(target, {}, {}, posted=True), 409
    return redirect(url_for(".recorded", token=token), 303)


@bp.get("/godkend/<token>/aftale/<int:version>")
def agreement(token: str, version: int) -> Response:
    """The agreement version the council is asked to approve, through its personal link."""
    target = resolve_link(token, kind=APPROVAL, mark_opened=False)
    try:
        doc = state().responses.agreement_document(target, version)
    except LinkNotFound:
        abort(404)
    return attachment(doc.content, doc.filename, fallback="aftale")


@bp.get("/godkend/<token>/kvittering")
def recorded(token: str) -> Response | str:
    target = resolve_link(token, kind=APPROVAL)
    if not target.decision:
        return redirect(url_for(".approval", token=token), 303)
    return render_template("approval_done.html", target=target, token=token)


def render_approval(
    target: Target,
    values: Mapping[str, Any],
    issues: Mapping[str, Issue],
    *,
    posted: bool = False,
    csrf_failed: bool = False,
) -> str:
    st = state()
    kept = None
    file = values.get("minutes_file")
    if isinstance(file, Mapping):
        kept = (file, sign_kept(st.kept_files, target, "minutes_file", file))
    labels = {f: t(f) for f in FIELDS}
    return render_template(
        "approval.html",
        target=target,
        values=values,
        errors={k: issue_message(v) for k, v in issues.items()},
        summary=summary(labels, issues, FIELDS),
        kept=kept,
        posted=posted,
        csrf_failed=csrf_failed,
        decisions=DECISIONS,
        accept=MINUTES_ACCEPT,
        max_mb=MINUTES_MAX_MB,
        today=to_local(st.now()).date().isoformat(),
        token=request.view_args.get("token", "") if request.view_args else "",
    )
