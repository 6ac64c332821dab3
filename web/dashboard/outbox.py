"""The outbox: queued, sent and failed mails with the SMTP server's reply, filters, and (for
an admin) sending a failed mail again and opening a mail's personal link as the party."""

from __future__ import annotations

from flask import abort, redirect, render_template, request
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.auth import admin_only
from web.dashboard.blueprint import bp
from web.dashboard.context import dashboard_state
from web.state import state
from workflow.links import token_of
from workflow.storage.models import OutboxRow

#: Mail kinds that carry a personal link (``context.link.generation``).
LINKED = (
    "invitation",
    "reminder",
    "approval_request",
    "receipt",
    "forum_report",
    # a workshop's invitation and reminder carry its sign-up link (``link.page``: tilmeld)
    "meeting_invitation",
    "workshop_signup_reminder",
)


@bp.get("/udbakke")
def outbox() -> str:
    f = reads.OutboxFilter(
        process=request.args.get("process", ""),
        status=_choice(request.args.get("status", ""), reads.OUTBOX_STATUSES),
        kind=request.args.get("kind", "")[:40],
        party=request.args.get("party", "")[:100],
        page=_page(),
    )
    st = state()
    with st.db.sessions() as s:
        page = reads.outbox(s, f)
        kinds = reads.outbox_kinds(s)
        keys = reads.process_keys(s)
        counts = reads.outbox_counts(s, f.process)
        generations = reads.link_generations(s, [m for m in page.rows if has_link(m)])
    return render_template(
        "dashboard/outbox.html",
        f=f,
        page=page,
        kinds=kinds,
        keys=keys,
        counts=counts,
        statuses=reads.OUTBOX_STATUSES,
        generations=generations,
        has_link=has_link,
        query=request.query_string.decode(),
    )


def has_link(mail: OutboxRow) -> bool:
    link = mail.context.get("link") if isinstance(mail.context, dict) else None
    return (
        mail.kind in LINKED
        and mail.process_id is not None
        and isinstance(link, dict)
        and isinstance(link.get("generation"), int)
    )


@bp.get("/udbakke/<int:mail_id>/svarlink")
@admin_only
def respondent_link(mail_id: int) -> Response:
    """The personal link of a mail, for the ``make run`` demo: the secretariat plays the
    party. The token is derived again from the secret (it is never stored); opening it
    counts as the party opening its link."""
    st = state()
    with st.db.sessions() as s:
        mail = s.get(OutboxRow, mail_id)
        if mail is None or not has_link(mail) or mail.process_id is None:
            abort(404)
        found = reads.task_by_id(s, mail.process_id, mail.stage_id, mail.party, mail.step)
        kind = found.kind if found is not None else "questionnaire"
        page = str(
            mail.context["link"].get("page") or ""
        )  # /rapport/ (a report), /tilmeld/ (a sign-up)
        token = token_of(st.responses.service.link_secret, mail.context)
    if token is None:
        abort(404)
    path = page or ("godkend" if kind == "approval" else "svar")
    return redirect(f"{dashboard_state().base_url}/{path}/{token}", code=303)


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _page() -> int:
    try:
        return max(1, int(request.args.get("side", "1")))
    except ValueError:
        return 1
