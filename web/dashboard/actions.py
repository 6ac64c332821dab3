"""The secretariat's actions (admin only): one page per action, each asking why.

GET shows the form, POST validates it and calls ``workflow.service.Service``; the service
writes the change and an audit event (the user as actor, the reason as why) in one
transaction. A guard that does not hold (``GuardRefused``) re-shows the form with the
service's message and changes nothing. Success returns to the page the action came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from web.dashboard import agreement, forms
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.reads import party_or_404, process_or_404, stage_or_404, task
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow.dates import format_date, format_sending
from workflow.errors import AftaleflowError
from workflow.labels import label
from workflow.service import Service

Page = Response | str | tuple[str, int]


@dataclass(frozen=True)
class Action:
    """What the action page shows around its form."""

    title: str
    facts: list[tuple[str, str]]
    back: str
    submit: str
    intro: str = ""
    warning: str = ""
    multipart: bool = False


def service() -> Service:
    return state().responses.service


def handle(form: FlaskForm, action: Action, run: Callable[[], str]) -> Page:
    """Validate, run, and redirect with the success message; or show the form again."""
    refused = ""
    if request.method == "POST" and form.validate():
        try:
            message = run()
        except AftaleflowError as e:
            refused = e.text(lang())
        else:
            flash(message, "success")
            return redirect(action.back, code=303)
    page = render_template("dashboard/action.html", form=form, action=action, refused=refused)
    if refused:
        return page, 409
    return (page, 400) if form.errors else page


def action_context(key: str, stage: str | None = None, party: str | None = None) -> dict[str, Any]:
    """The process (404 if unknown) and, if named, its stage and party (404 if unknown)."""
    with state().db.sessions() as s:
        row, bound = process_or_404(s, key)
    out: dict[str, Any] = {"row": row, "bound": bound, "facts": [("f_process", row.title)]}
    if stage is not None:
        out["stage"] = stage_or_404(bound, stage)
        out["facts"].append(("stage", out["stage"].definition.name))
    if party is not None:
        out["party"] = party_or_404(bound, party)
        out["facts"].append(("party", out["party"].name))
    return out


def _now_actor() -> tuple[Any, str]:
    return state().now(), the_user().actor


def _party_page(key: str, party: str) -> str:
    return url_for("dashboard.party", key=key, party=party)


def _stage_anchor(key: str, stage: str) -> str:
    return url_for("dashboard.process", key=key) + f"#stage-{stage}"


# ---------------------------------------------------------------------- stages


@bp.route("/proces/<key>/fase/<stage>/resultat", methods=["GET", "POST"])
@admin_only
def record_outcome(key: str, stage: str) -> Page:
    ctx = action_context(key, stage)
    form = agreement.outcome_form(key, stage)

    def run() -> str:
        at, actor = _now_actor()
        service().record_outcome(
            key,
            stage,
            outcome=form.outcome.data,
            text=form.text.data or "",
            minutes=form.minutes.data or "",
            at=at,
            actor=actor,
            reason=form.reason.data,
            document_version=agreement.chosen_version(form),
            values=agreement.chosen_values(form),
        )
        return dt(
            "done_outcome", stage=ctx["stage"].definition.name, outcome=label(form.outcome.data)
        )

    return handle(
        form,
        Action(
            dt("act_outcome"),
            ctx["facts"],
            _stage_anchor(key, stage),
            dt("act_outcome"),
            intro=dt("outcome_intro"),
            warning=dt("outcome_warning"),
        ),
        run,
    )


def _stage_action(key: str, stage: str, verb: str, method: str) -> Page:
    ctx = action_context(key, stage)
    form = forms.ReasonForm()

    def run() -> str:
        at, actor = _now_actor()
        getattr(service(), method)(key, stage, at=at, actor=actor, reason=form.reason.data)
        return dt(f"done_{verb}", stage=ctx["stage"].definition.name)

    return handle(
        form,
        Action(
            dt(f"act_{verb}"),
            ctx["facts"],
            _stage_anchor(key, stage),
            dt(f"act_{verb}"),
            intro=dt(f"{verb}_intro"),
        ),
        run,
    )


@bp.route("/proces/<key>/fase/<stage>/aabn", methods=["GET", "POST"])
@admin_only
def open_stage(key: str, stage: str) -> Page:
    return _stage_action(key, stage, "open", "open_stage")


@bp.route("/proces/<key>/fase/<stage>/luk", methods=["GET", "POST"])
@admin_only
def close_stage(key: str, stage: str) -> Page:
    return _stage_action(key, stage, "close", "close_stage")


@bp.route("/proces/<key>/fase/<stage>/genaabn", methods=["GET", "POST"])
@admin_only
def reopen_stage(key: str, stage: str) -> Page:
    return _stage_action(key, stage, "reopen", "reopen_stage")


# ---------------------------------------------------------------------- one party


@bp.route("/proces/<key>/fase/<stage>/part/<party>/godkendelse/<step>", methods=["GET", "POST"])
@admin_only
def record_approval(key: str, stage: str, party: str, step: str) -> Page:
    ctx = action_context(key, stage, party)
    ctx["facts"].append(("body", label(step)))
    form = forms.ApprovalForm()

    def run() -> str:
        at, actor = _now_actor()
        service().record_approval(
            key,
            stage,
            party,
            step,
            decision=form.decision.data,
            meeting_date=forms.as_date(form.meeting_date.data),
            agenda_item=form.agenda_item.data or "",
            decision_text=form.decision_text.data or "",
            minutes=form.minutes.data or "",
            at=at,
            actor=actor,
            reason=form.reason.data,
        )
        return dt(
            "done_approval",
            party=ctx["party"].name,
            body=label(step),
            decision=label(form.decision.data),
        )

    return handle(
        form,
        Action(
            dt("act_approval"),
            ctx["facts"],
            _party_page(key, party),
            dt("act_approval"),
            intro=dt("approval_intro"),
            warning=dt("approval_warning"),
        ),
        run,
    )


@bp.route("/proces/<key>/fase/<stage>/part/<party>/frist", methods=["GET", "POST"])
@admin_only
def extend(key: str, stage: str, party: str) -> Page:
    ctx = action_context(key, stage, party)
    with state().db.sessions() as s:
        found = task(s, ctx["row"], stage, party, "")
    current = found.deadline_or(ctx["stage"].deadline) if found else ctx["stage"].deadline
    if current is not None:
        ctx["facts"].append(("deadline", format_date(current, lang())))
    form = forms.ExtendForm()

    def run() -> str:
        at, actor = _now_actor()
        new = forms.as_date(form.deadline.data)
        service().extend(key, stage, party, new, at=at, actor=actor, reason=form.reason.data)
        return dt("done_extend", party=ctx["party"].name, date=format_date(new, lang()))

    return handle(
        form,
        Action(
            dt("act_extend"),
            ctx["facts"],
            _party_page(key, party),
            dt("act_extend"),
            intro=dt("extend_intro"),
        ),
        run,
    )


@bp.route("/proces/<key>/fase/<stage>/part/<party>/fritag", methods=["GET", "POST"])
@admin_only
def exempt(key: str, stage: str, party: str) -> Page:
    ctx = action_context(key, stage, party)
    form = forms.ReasonForm()

    def run() -> str:
        at, actor = _now_actor()
        service().exempt(key, stage, party, at=at, actor=actor, reason=form.reason.data)
        return dt("done_exempt", party=ctx["party"].name, stage=ctx["stage"].definition.name)

    return handle(
        form,
        Action(
            dt("act_exempt"),
            ctx["facts"],
            _party_page(key, party),
            dt("act_exempt"),
            intro=dt("exempt_intro"),
        ),
        run,
    )


@bp.route(
    "/proces/<key>/fase/<stage>/part/<party>/nyt-link",
    methods=["GET", "POST"],
    defaults={"step": ""},
)
@bp.route("/proces/<key>/fase/<stage>/part/<party>/nyt-link/<step>", methods=["GET", "POST"])
@admin_only
def reissue_link(key: str, stage: str, party: str, step: str) -> Page:
    ctx = action_context(key, stage, party)
    if step:
        ctx["facts"].append(("body", label(step)))
    form = forms.ReissueForm()

    def run() -> str:
        at, actor = _now_actor()
        change = service().revoke_link(
            key,
            stage,
            party,
            step,
            at=at,
            actor=actor,
            reason=form.reason.data,
            reissue=True,
            now=bool(form.now.data),
        )
        name, generation = ctx["party"].name, change.generation
        if change.sends_at is None:
            return dt("done_reissue_unsent", party=name, generation=generation)
        when = format_sending(change.sends_at, at, lang())
        return dt("done_reissue", party=name, generation=generation, when=when)

    return handle(
        form,
        Action(
            dt("act_reissue"),
            ctx["facts"],
            _party_page(key, party),
            dt("act_reissue"),
            intro=dt("reissue_intro"),
        ),
        run,
    )


# ---------------------------------------------------------------------- the process


@bp.route("/proces/<key>/annuller", methods=["GET", "POST"])
@admin_only
def cancel_process(key: str) -> Page:
    ctx = action_context(key)
    form = forms.CancelForm()

    def run() -> str:
        at, actor = _now_actor()
        service().cancel(key, at=at, actor=actor, reason=form.reason.data)
        return dt("done_cancel", title=ctx["row"].title)

    return handle(
        form,
        Action(
            dt("act_cancel"),
            ctx["facts"],
            url_for("dashboard.process", key=key),
            dt("act_cancel"),
            intro=dt("cancel_intro"),
            warning=dt("cancel_warning"),
        ),
        run,
    )


@bp.route("/proces/<key>/dokument/<int:version>/til-godkendelse", methods=["GET", "POST"])
@admin_only
def put_up_for_approval(key: str, version: int) -> Page:
    ctx = action_context(key)
    ctx["facts"].append(("version", str(version)))
    form = forms.ReasonForm()
    warning = agreement.put_up_warning(key, version)

    def run() -> str:
        at, actor = _now_actor()
        digest = service().put_up_for_approval(
            key, version, at=at, actor=actor, reason=form.reason.data
        )
        return " ".join(
            filter(None, [dt("done_put_up", version=version, sha=digest[:12]), warning])
        )

    return handle(
        form,
        Action(
            dt("act_put_up"),
            ctx["facts"],
            url_for("dashboard.document", key=key),
            dt("act_put_up"),
            intro=dt("put_up_intro"),
            warning=warning,
        ),
        run,
    )


@bp.route("/udbakke/<int:mail_id>/send-igen", methods=["GET", "POST"])
@admin_only
def retry_mail(mail_id: int) -> Page:
    form = forms.ReasonForm()
    back = request.args.get("tilbage", "")
    back = back if back.startswith("/sekretariat/") and "//" not in back else ""

    def run() -> str:
        at, actor = _now_actor()
        service().retry_mail(mail_id, at=at, actor=actor, reason=form.reason.data)
        return dt("done_retry", id=mail_id)

    return handle(
        form,
        Action(
            dt("act_retry"),
            [("mail", f"#{mail_id}")],
            back or url_for("dashboard.outbox") + f"#mail-{mail_id}",
            dt("act_retry"),
            intro=dt("retry_intro"),
        ),
        run,
    )
