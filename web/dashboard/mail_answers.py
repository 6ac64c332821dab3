"""Answers by mail on the party page: the replies received for a party's questionnaire (each
linked to its Indbakke view, with its files and what was read from a returned Word form), and
the secretariat's two actions on a task that is "svar modtaget pr. mail" (admin, a reason,
CSRF, audited by the service): "Godkend som svar" (the mail is the answer) and "Afskriv i
formularen" (the party's personal-link form, to type the answer in; submitting it answers as
usual)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import abort, redirect, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, defer
from werkzeug.wrappers import Response

from web.dashboard import forms, reads
from web.dashboard.actions import Action, Page, action_context, handle, service
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.context import dashboard_state
from web.dashboard.texts import dt
from web.state import state
from workflow.links import make_token
from workflow.storage.models import EventRow, InboundMailRow, ProcessRow

#: Received mail shown with a task: replies and auto-replies (bounces are shown as failing
#: addresses with the contacts).
SHOWN = ("reply", "auto_reply")


@dataclass(frozen=True)
class ReceivedFile:
    number: int  # 1-based, as the Indbakke's download addresses count
    filename: str
    kind: str
    size: int


@dataclass(frozen=True)
class Received:
    id: int
    classification: str
    from_address: str
    subject: str
    received_at: datetime
    files: list[ReceivedFile]
    read: list[str] = field(default_factory=list)
    """Question ids read from a returned Word form of ours."""
    notes: list[dict[str, Any]] = field(default_factory=list)
    """What the form held that was skipped (not guessed), and why."""


def received_mails(s: Session, row: ProcessRow, party: str) -> dict[str, list[Received]]:
    """Stage id → the replies and auto-replies received from ``party``, oldest first."""
    mails = s.scalars(
        select(InboundMailRow)
        .options(defer(InboundMailRow.raw))
        .where(
            InboundMailRow.process_id == row.id,
            InboundMailRow.party == party,
            InboundMailRow.classification.in_(SHOWN),
        )
        .order_by(InboundMailRow.received_at, InboundMailRow.id)
    )
    forms_read = {
        e.data.get("inbound_id"): e.data.get("form") or {}
        for e in s.scalars(
            select(EventRow).where(
                EventRow.process_id == row.id,
                EventRow.party == party,
                EventRow.kind == "answer_received_by_mail",
            )
        )
    }
    out: dict[str, list[Received]] = {}
    for m in mails:
        files = [
            ReceivedFile(i, str(a.get("filename", "")), str(a.get("kind", "")), int(a["size"]))
            for i, a in enumerate(m.details.get("attachments") or [], 1)
            if a.get("stored_as")
        ]
        form = forms_read.get(m.id, {})
        out.setdefault(m.stage_id, []).append(
            Received(
                m.id,
                m.classification,
                m.from_address,
                m.subject,
                m.received_at,
                files,
                list(form.get("read", [])),
                list(form.get("notes", [])),
            )
        )
    return out


@bp.route(
    "/proces/<key>/fase/<stage>/part/<party>/mail/<int:mail_id>/godkend", methods=["GET", "POST"]
)
@admin_only
def confirm_mail_answer(key: str, stage: str, party: str, mail_id: int) -> Page:
    ctx = action_context(key, stage, party)
    with state().db.sessions() as s:
        mail = s.get(InboundMailRow, mail_id)
        if mail is None or (mail.process_id, mail.stage_id, mail.party) != (
            ctx["row"].id,
            stage,
            party,
        ):
            abort(404)
        ctx["facts"] += [("inbox_from", mail.from_address), ("inbox_subject", mail.subject)]
    form = forms.ReasonForm()

    def run() -> str:
        at, actor = state().now(), the_user().actor
        version = service().confirm_mail_answer(
            key, stage, party, mail_id, at=at, actor=actor, reason=form.reason.data
        )
        return dt("done_confirm_mail", party=ctx["party"].name, n=version)

    return handle(
        form,
        Action(
            dt("act_confirm_mail"),
            ctx["facts"],
            url_for("dashboard.party", key=key, party=party),
            dt("act_confirm_mail"),
            intro=dt("confirm_mail_intro"),
        ),
        run,
    )


@bp.get("/proces/<key>/fase/<stage>/part/<party>/afskriv")
@admin_only
def transcribe(key: str, stage: str, party: str) -> Response:
    """The party's questionnaire form through its personal link (the token is derived again,
    never stored): what the secretariat types and submits there is the party's answer, logged
    under the user's name with the link's."""
    ctx = action_context(key, stage, party)
    with state().db.sessions() as s:
        found = reads.task(s, ctx["row"], stage, party, "")
    if found is None or found.kind != "questionnaire":
        abort(404)
    secret = state().responses.service.link_secret
    token = make_token(secret, found)
    return redirect(f"{dashboard_state().base_url}/svar/{token}", code=303)
