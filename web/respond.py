"""The questionnaire of a personal link: ``/svar/<token>`` and its confirmation page.

GET shows the form filled in with the draft (or else the newest submitted version). POST
with ``action=draft`` keeps what was typed; ``action=submit`` validates and submits a new
version, then redirects to the confirmation page (post/redirect/get, so a reload never
submits twice). A refused post re-shows the form with everything typed, and files already
uploaded, plus an error summary that links to each field. A closed stage gets a polite page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from web.answer_form import gather, issue_message, sign_kept, summary
from web.links import resolve_link
from web.security import csrf
from web.state import state
from workflow.errors import GuardRefused
from workflow.link_target import LATE, Target
from workflow.responses import AnswerState
from workflow.validation import AnswerInvalid, Issue, answer_texts, validate_answers

bp = Blueprint("respond", __name__)
csrf.exempt(bp)

QUESTIONNAIRE = "questionnaire"
DRAFT_SAVED = "draft_saved"


@bp.get("/svar/<token>")
def questionnaire(token: str) -> str | tuple[str, int]:
    target = resolve_link(token, kind=QUESTIONNAIRE)
    answers = state().responses.answers(target)
    if not target.can_answer:
        return closed_page(target, answers)
    saved = DRAFT_SAVED in get_flashed_messages()
    return render_form(target, answers, answers.current, {}, saved=saved)


@bp.post("/svar/<token>")
def post(token: str) -> Response | tuple[str, int]:
    st = state()
    target = resolve_link(token, kind=QUESTIONNAIRE)
    answers = st.responses.answers(target)
    if not target.can_answer:
        return closed_page(target, answers, posted=True), 409
    form, files = request.form, request.files
    try:
        csrf.protect()
    except CSRFError:
        raw, _ = gather(
            target, form, files, signer=st.kept_files, upload_dir=st.upload_dir, store=False
        )
        return render_form(target, answers, raw, {}, csrf_failed=True), 400
    raw, upload_issues = gather(target, form, files, signer=st.kept_files, upload_dir=st.upload_dir)
    draft = form.get("action") == "draft"
    assert target.questionnaire is not None
    if upload_issues:
        _, issues = validate_answers(target.questionnaire, raw, complete=not draft)
        return render_form(target, answers, raw, {**issues, **upload_issues}), 422
    try:
        if draft:
            st.responses.save_draft(target, raw, st.now())
            flash(DRAFT_SAVED)
            return redirect(url_for(".questionnaire", token=token), 303)
        st.responses.submit(target, raw, st.now())
        return redirect(url_for(".confirmation", token=token), 303)
    except AnswerInvalid as e:
        return render_form(target, answers, raw, e.issues), 422
    except GuardRefused:  # the stage closed (or the deadline passed) while the form was open
        target = resolve_link(token, kind=QUESTIONNAIRE, mark_opened=False)
        return closed_page(target, answers, posted=True), 409


@bp.get("/svar/<token>/kvittering")
def confirmation(token: str) -> Response | str:
    target = resolve_link(token, kind=QUESTIONNAIRE)
    answers = state().responses.answers(target)
    latest = answers.latest
    if latest is None or target.questionnaire is None:
        return redirect(url_for(".questionnaire", token=token), 303)
    st = state()
    receipt_at = st.responses.receipt_due(target, latest.version)
    return render_template(
        "confirmation.html",
        target=target,
        version=latest,
        versions=answers.versions,
        answers=answer_texts(target.questionnaire, latest.data),
        token=token,
        receipt_waits=receipt_at is not None and receipt_at > st.now(),
        receipt_at=receipt_at,
    )


def render_form(
    target: Target,
    answers: AnswerState,
    values: Mapping[str, Any],
    issues: Mapping[str, Issue],
    *,
    saved: bool = False,
    csrf_failed: bool = False,
) -> str:
    st = state()
    q = target.questionnaire
    assert q is not None
    kept = {
        question.id: (
            values[question.id],
            sign_kept(st.kept_files, target, question.id, values[question.id]),
        )
        for question in q.questions
        if question.type == "file" and isinstance(values.get(question.id), Mapping)
    }
    labels = {question.id: question.label for question in q.questions}
    return render_template(
        "questionnaire.html",
        target=target,
        questionnaire=q,
        answers=answers,
        values=values,
        errors={k: issue_message(v) for k, v in issues.items()},
        summary=summary(labels, issues, [question.id for question in q.questions]),
        kept=kept,
        saved=saved,
        csrf_failed=csrf_failed,
        late=target.phase == LATE,
    )


def closed_page(target: Target, answers: AnswerState, *, posted: bool = False) -> str:
    return render_template("closed.html", target=target, latest=answers.latest, posted=posted)
