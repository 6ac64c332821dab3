"""The agreement document: its versions (upload, download), the version put up for
approval, which version each approval approved, and the submission to Socialstyrelsen."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.dashboard import agreement, reads
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.forms import UploadForm
from web.dashboard.texts import dt
from web.downloads import MEDIA_TYPES, attachment
from web.i18n import lang
from web.state import state
from web.uploads import overflowed
from workflow import queries
from workflow.errors import AftaleflowError
from workflow.file_types import file_kind
from workflow.storage.models import DocumentRow, TaskRow
from workflow.validation import clean_filename

#: Largest agreement version accepted (the whole request is capped by the app as well).
MAX_MB = 25


@dataclass(frozen=True)
class ApprovalLine:
    party_name: str
    task: TaskRow
    version: int | None
    matches: bool  # approved the version that is up for approval


@bp.route("/proces/<key>/dokument", methods=["GET", "POST"])
def document(key: str) -> Response | str | tuple[str, int]:
    form = UploadForm()
    if request.method == "POST":
        return _upload(key, form)
    return _page(key, form)


@admin_only
def _upload(key: str, form: UploadForm) -> Response | str | tuple[str, int]:
    problem = ""
    upload = request.files.get("file")
    if form.validate():
        content = b""
        if upload is None or not upload.filename:
            problem = "err_file_missing"
        elif overflowed(upload):
            problem = "err_file_too_large"
        else:
            content = upload.stream.read(MAX_MB * 1024 * 1024 + 1)
            kind = file_kind(io.BytesIO(content))
            if not content:
                problem = "err_file_empty"
            elif len(content) > MAX_MB * 1024 * 1024:
                problem = "err_file_too_large"
            elif kind is None:
                problem = "err_file_type"
        if not problem and upload is not None:
            st = state()
            try:
                version = st.responses.service.add_document(
                    key,
                    filename=clean_filename(upload.filename or ""),
                    media_type=MEDIA_TYPES[kind or "pdf"],
                    content=content,
                    at=st.now(),
                    actor=the_user().actor,
                    note=form.note.data,
                )
            except AftaleflowError as e:
                return _page(key, form, refused=e.text(lang())), 409
            flash(dt("done_upload", version=version), "success")
            return redirect(url_for("dashboard.document", key=key), code=303)
    if problem:
        form.file.errors = [problem]
    return _page(key, form), 400


def _page(key: str, form: UploadForm, refused: str = "") -> str:
    st = state()
    with st.db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        docs = reads.documents(s, row)
        names = reads.party_names(bound)
        by_hash: dict[str, int] = {}
        for d in sorted(docs, key=lambda d: d.version):
            by_hash[d.sha256] = d.version
        wanted = row.approval_document_hash
        approvals = [
            ApprovalLine(
                names.get(t.party, t.party),
                t,
                by_hash.get((t.decision or {}).get("document_hash", "")),
                (t.decision or {}).get("document_hash", "") == wanted,
            )
            for t in reads.approval_tasks(s, row)
        ]
        status = queries.process_status(s, key, bound)
        submission = reads.submission_mail(s, row)
        recommended = agreement.recommended_version(s, row, bound)
    submission_stage = next((x for x in status.stages if x.kind == "submission"), None)
    sent_doc = (submission.context.get("document") or {}) if submission else {}
    return render_template(
        "dashboard/document.html",
        row=row,
        docs=docs,
        up=_up(docs, wanted),
        approvals=approvals,
        status=status,
        submission=submission,
        submission_stage=submission_stage,
        sent_doc=sent_doc,
        recommended=recommended,
        form=form,
        refused=refused,
        max_mb=MAX_MB,
    )


def _up(docs: list[DocumentRow], wanted: str | None) -> DocumentRow | None:
    return next((d for d in docs if wanted and d.sha256 == wanted), None)


@bp.get("/proces/<key>/dokument/<int:version>")
def document_file(key: str, version: int) -> Response:
    """Download a version: always as an attachment with a sniffed media type, never shown
    inline (an upload must not become a page of ours)."""
    with state().db.sessions() as s:
        row, _ = reads.process_or_404(s, key)
        doc = reads.document(s, row, version)
        content, filename = doc.content, doc.filename
    return attachment(content, filename, fallback="aftale")
