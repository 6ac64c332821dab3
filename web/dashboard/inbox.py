"""The Indbakke: mail the inbox reader received, what it was taken for, and which task it
belongs to. Admins and viewers read it; an admin assigns an unmatched mail to a process,
stage and party, or ignores it (each asks why; audited).

A received mail's HTML is a stranger's HTML: it is shown only after ``nh3`` kept a few
formatting tags (no scripts, styles, images, forms or event attributes), and the page's CSP
allows no inline script anyway. Attachments are sent as downloads, never shown inline.
"""

from __future__ import annotations

import unicodedata
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast
from urllib.parse import quote

import nh3
from flask import abort, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.dashboard.actions import Action, Page, handle, service
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.forms import ChoiceField, one_of, reason_field
from web.dashboard.texts import dt
from web.state import state
from workflow import inbound_mail
from workflow.errors import NotFound
from workflow.mail_replies import take_in_one
from workflow.service import bound_for
from workflow.storage.models import InboundMailRow, ProcessRow

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
#: What a received HTML part keeps when it is shown (no images: nothing is fetched from the
#: sender's server; no styles, scripts, forms or attributes but a link's address).
SAFE_TAGS = {
    "a", "b", "blockquote", "br", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li", "ol",
    "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip


def sanitised_html(raw: bytes) -> Markup | None:
    """The mail's HTML part made safe to put in the page, or None if it has none."""
    msg = cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
    try:
        part = msg.get_body(preferencelist=("html",))
        content = part.get_content() if part is not None else None
    except (KeyError, LookupError, ValueError, AssertionError):
        return None
    if not isinstance(content, str) or not content.strip():
        return None
    clean = nh3.clean(
        content,
        tags=SAFE_TAGS,
        attributes={"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        # the page title is not part of what a reader sees (nor are scripts and styles)
        clean_content_tags={"script", "style", "title"},
    )
    return Markup(clean)  # sanitised by nh3 just above


def _mail_or_404(mail_id: int, *, with_raw: bool = False) -> tuple[InboundMailRow, bytes]:
    with state().db.sessions() as s:
        try:
            row = inbound_mail.get(s, mail_id)
        except NotFound:
            abort(404)
        raw = bytes(row.raw) if with_raw else b""
        s.expunge(row)
    return row, raw


@bp.get("/indbakke")
def inbox() -> str:
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    try:
        page_no = max(1, int(request.args.get("side", "1")))
    except ValueError:
        page_no = 1
    with state().db.sessions() as s:
        page = inbound_mail.listing(s, status=status, classification=kind, page=page_no)
    return render_template(
        "dashboard/inbox.html",
        page=page,
        status=status if status in inbound_mail.STATUSES else "",
        kind=kind if kind in inbound_mail.CLASSIFICATIONS else "",
        statuses=inbound_mail.STATUSES,
        kinds=inbound_mail.CLASSIFICATIONS,
    )


@bp.get("/indbakke/<int:mail_id>")
def inbox_mail(mail_id: int) -> str:
    row, raw = _mail_or_404(mail_id, with_raw=True)
    key = ""
    if row.process_id is not None:
        with state().db.sessions() as s:
            process = s.get(ProcessRow, row.process_id)
            key = process.key if process is not None else ""
    return render_template(
        "dashboard/inbox_mail.html",
        m=row,
        key=key,
        html=sanitised_html(raw),
        attachments=list(row.details.get("attachments") or []),
        failures=list(row.details.get("failures") or []),
    )


@bp.get("/indbakke/<int:mail_id>/bilag/<int:number>")
def inbox_attachment(mail_id: int, number: int) -> Response:
    row, _ = _mail_or_404(mail_id)
    try:
        found = inbound_mail.attachment(row, number - 1)
    except NotFound:
        abort(404)
    path = (state().upload_dir / str(found["stored_as"])).resolve()
    if not path.is_relative_to(state().upload_dir.resolve()) or not path.is_file():
        abort(404)
    response = Response(
        path.read_bytes(), mimetype=MEDIA_TYPES.get(str(found["kind"]), "application/octet-stream")
    )
    return as_download(response, str(found["filename"]))


def as_download(response: Response, filename: str) -> Response:
    """An attachment with its name as given (RFC 6266 ``filename*``) and an ASCII fallback."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    names = {"filename": ascii_name.strip() or "bilag", "filename*": f"UTF-8''{quote(filename)}"}
    response.headers.set("Content-Disposition", "attachment", **names)
    return response


@bp.get("/indbakke/<int:mail_id>/original.eml")
def inbox_original(mail_id: int) -> Response:
    """The message exactly as it was received (for forwarding or a closer look)."""
    row, raw = _mail_or_404(mail_id, with_raw=True)
    response = Response(raw, mimetype="message/rfc822")
    response.headers.set("Content-Disposition", "attachment", filename=f"indbakke-{row.id}.eml")
    return response


class AssignForm(FlaskForm):
    process_key = ChoiceField("f_process", [])  # not "process": a method of the form
    stage = ChoiceField("stage", [])
    party = ChoiceField("party", [])
    reason = reason_field()


def _choices() -> dict[str, list[tuple[str, str]]]:
    """Every running process, its stages and its parties (value, shown text)."""
    out: dict[str, list[tuple[str, str]]] = {"process_key": [], "stage": [], "party": []}
    seen: set[tuple[str, str]] = set()
    with state().db.sessions() as s:
        rows = list(s.scalars(select(ProcessRow).order_by(ProcessRow.id)))
        for row in rows:
            out["process_key"].append((row.key, row.title))
            bound = bound_for(row)
            for st in bound.stages:
                if ("stage", st.definition.id) not in seen:
                    seen.add(("stage", st.definition.id))
                    out["stage"].append((st.definition.id, st.definition.name))
            for slug in bound.bundle.participants:
                if ("party", slug) not in seen:
                    seen.add(("party", slug))
                    out["party"].append((slug, bound.bundle.parties.get(slug).name))
    return out


def _facts(row: InboundMailRow) -> list[tuple[str, str]]:
    sender = f"{row.from_name} <{row.from_address}>" if row.from_name else row.from_address
    return [("inbox_from", sender), ("inbox_subject", row.subject or "–")]


@bp.route("/indbakke/<int:mail_id>/tildel", methods=["GET", "POST"])
@admin_only
def inbox_assign(mail_id: int) -> Page:
    row, _ = _mail_or_404(mail_id)
    form = AssignForm()
    for name, options in _choices().items():
        field: Any = form[name]
        field.options = options
        field.validators = [one_of(*(value for value, _ in options))]
    if request.method == "GET" and len(form.process_key.options) == 1:
        form.process_key.data = form.process_key.options[0][0]

    def run() -> str:
        user = the_user()
        inbound_mail.assign(
            state().db,
            mail_id,
            process_key=form.process_key.data,
            stage=form.stage.data,
            party=form.party.data,
            at=state().now(),
            actor=user.actor,
            reason=form.reason.data,
        )
        take_in_one(service(), state().upload_dir, mail_id, state().now())  # a reply: received
        return dt("inbox_assigned", id=mail_id)

    back = url_for("dashboard.inbox_mail", mail_id=mail_id)
    return handle(
        form,
        Action(
            dt("inbox_assign"),
            _facts(row),
            back,
            dt("inbox_assign"),
            intro=dt("inbox_assign_intro"),
        ),
        run,
    )


@bp.route("/indbakke/<int:mail_id>/ignorer", methods=["GET", "POST"])
@admin_only
def inbox_ignore(mail_id: int) -> Page:
    row, _ = _mail_or_404(mail_id)
    form = IgnoreForm()

    def run() -> str:
        inbound_mail.ignore(
            state().db, mail_id, at=state().now(), actor=the_user().actor, reason=form.reason.data
        )
        return dt("inbox_ignored", id=mail_id)

    back = url_for("dashboard.inbox_mail", mail_id=mail_id)
    return handle(
        form,
        Action(
            dt("inbox_ignore"),
            _facts(row),
            back,
            dt("inbox_ignore"),
            intro=dt("inbox_ignore_intro"),
        ),
        run,
    )


class IgnoreForm(FlaskForm):
    reason = reason_field()
