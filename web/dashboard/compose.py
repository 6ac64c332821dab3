"""Write a mail to chosen parties and roles (admin only, CSRF like every dashboard form).

The form carries a one-time id; the service (``workflow.messages``) queues one outbox mail
per party with that id in its idempotency key, so the same form sent twice is queued once,
and writes the audit event in the same transaction. Files are PDF, Word or OpenDocument,
checked by their content, at most 10 MB each and 20 MB together.
"""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from web.dashboard import reads
from web.dashboard.actions import Page, service
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.forms import SHORT_MAX, TEXT_MAX, max_length, required
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from web.uploads import overflowed
from workflow.definition_parties import ROLES
from workflow.errors import AftaleflowError
from workflow.messages import MAX_FILE, Message, MessageFile
from workflow.validation import clean_filename

#: Roles checked when the form opens: the committee secretary gets every mail the engine sends.
DEFAULT_ROLES = ("committee_secretary",)


class ComposeForm(FlaskForm):
    subject = StringField("f_subject", validators=[required, max_length(SHORT_MAX)])
    text = TextAreaField("f_text", validators=[required, max_length(TEXT_MAX * 4)])
    now = BooleanField("f_send_now")
    token = HiddenField()


def _files() -> tuple[list[MessageFile], str]:
    out = []
    for upload in request.files.getlist("files"):
        if not upload.filename:
            continue
        if overflowed(upload):
            return [], "err_file_too_large"
        content = upload.stream.read(MAX_FILE + 1)
        if not content:
            return [], "err_file_empty"
        out.append(MessageFile(clean_filename(upload.filename), content))
    return out, ""


@bp.route("/proces/<key>/skriv", methods=["GET", "POST"])
@admin_only
def compose(key: str) -> Page:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        s.expunge(row)
    parties = [bound.bundle.parties.get(p) for p in bound.bundle.participants]
    form = ComposeForm()
    chosen_parties = [p.slug for p in parties]
    if request.args.get("party") in chosen_parties:
        chosen_parties = [request.args["party"]]
    chosen_roles: list[str] = list(DEFAULT_ROLES)
    refused = problem = ""
    if request.method == "GET":
        form.token.data = secrets.token_urlsafe(16)
    else:
        chosen_parties = [
            p for p in request.form.getlist("parties") if p in bound.bundle.parties.by_slug
        ]
        chosen_roles = [r for r in request.form.getlist("roles") if r in ROLES]
        files, problem = _files()
        if form.validate() and not problem:
            message = Message(
                parties=tuple(chosen_parties),
                roles=tuple(chosen_roles),
                subject=form.subject.data,
                text=form.text.data,
                token=form.token.data or "",
                files=tuple(files),
                now=bool(form.now.data),
            )
            try:
                sent = service().send_message(
                    key, message, at=state().now(), actor=the_user().actor
                )
            except AftaleflowError as e:
                refused = e.text(lang())
            else:
                flash(dt("done_message", n=len(sent)), "success")
                return redirect(url_for("dashboard.outbox", process=key, kind="message"), code=303)
    page = render_template(
        "dashboard/compose.html",
        row=row,
        form=form,
        parties=parties,
        roles=ROLES,
        chosen_parties=chosen_parties,
        chosen_roles=chosen_roles,
        refused=refused or (dt(problem) if problem else ""),
    )
    if refused or problem:
        return page, 409 if refused else 400
    return (page, 400) if form.errors else page
