"""Moving a running process to a new version of its definition: upload the edited YAML, see
the differences and the mail plan before and after, then apply it (administrators, with a
reason; the audit event records both definition hashes)."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.forms import DefinitionUploadForm, MigrationForm
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from web.uploads import overflowed
from workflow.definition_upload import load_new_version
from workflow.errors import AftaleflowError, DefinitionError
from workflow.loader import Bundle
from workflow.process_migration import Preview, apply_migration, current, preview
from workflow.validation import clean_filename

#: Largest definition file accepted.
MAX_KB = 512
AREAS = ("stage", "date", "question", "party")


@bp.get("/proces/<key>/definition")
def migration(key: str) -> str:
    return _page(key, DefinitionUploadForm())


@bp.post("/proces/<key>/definition")
@admin_only
def migration_preview(key: str) -> Response | str | tuple[str, int]:
    form = DefinitionUploadForm()
    if not form.validate():
        return _page(key, form), 400
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = ["err_file_missing"]
        return _page(key, form), 400
    if overflowed(upload):
        form.file.errors = ["err_file_too_large"]
        return _page(key, form), 400
    content = upload.stream.read(MAX_KB * 1024 + 1)
    if not content or len(content) > MAX_KB * 1024:
        form.file.errors = ["err_file_empty" if not content else "err_file_too_large"]
        return _page(key, form), 400
    return _preview(key, form, content, clean_filename(upload.filename) or "definition.yaml")


def _read(key: str, content: bytes, filename: str) -> Bundle:
    old, year, _ = current(state().db, key)
    with TemporaryDirectory(prefix="aftaleflow-definition-") as tmp:
        path = Path(tmp) / filename
        path.write_bytes(content)
        return load_new_version(old, path, year, shown=filename, beside=False)


def _preview(
    key: str, form: DefinitionUploadForm, content: bytes, filename: str
) -> str | tuple[str, int]:
    st = state()
    try:
        new = _read(key, content, filename)
        service = st.responses.service
        pv = preview(
            st.db,
            key,
            new,
            now=st.now(),
            link_secret=service.link_secret,
            calendars=service.calendars,
        )
    except DefinitionError as e:
        return _page(key, form, problems=[str(p) for p in e.problems]), 400
    except AftaleflowError as e:
        return _page(key, form, refused=e.text(lang())), 409
    apply = MigrationForm(
        formdata=None,
        content=content.decode("utf-8", "replace"),
        filename=filename,
        expect=pv.plan.old.hash,
    )
    return _page(key, form, pv=pv, apply=apply), (200 if pv.plan.allowed else 409)


@bp.post("/proces/<key>/definition/anvend")
@admin_only
def migration_apply(key: str) -> Response | str | tuple[str, int]:
    form = MigrationForm()
    st = state()
    content = (form.content.data or "").encode()
    filename = clean_filename(form.filename.data or "") or "definition.yaml"
    if not form.validate():
        return _preview(key, DefinitionUploadForm(formdata=None), content, filename)
    try:
        new = _read(key, content, filename)
        plan = apply_migration(
            st.responses.service,
            key,
            new,
            at=st.now(),
            actor=the_user().actor,
            reason=form.reason.data or "",
            expect_hash=form.expect.data or None,
        )
    except DefinitionError as e:
        upload = DefinitionUploadForm(formdata=None)
        return _page(key, upload, problems=[str(p) for p in e.problems]), 400
    except AftaleflowError as e:
        return _page(key, DefinitionUploadForm(formdata=None), refused=e.text(lang())), 409
    flash(dt("done_migrate", hash=plan.new.hash[:12], old=plan.old.hash[:12]), "success")
    return redirect(url_for("dashboard.process", key=key), code=303)


def _page(
    key: str,
    form: DefinitionUploadForm,
    *,
    pv: Preview | None = None,
    apply: MigrationForm | None = None,
    problems: list[str] | None = None,
    refused: str = "",
) -> str:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        names = reads.party_names(bound)
    stages = [*bound.bundle.process.stages, *(pv.plan.new.process.stages if pv else [])]
    return render_template(
        "dashboard/migration.html",
        row=row,
        form=form,
        pv=pv,
        apply=apply,
        problems=problems or [],
        refused=refused,
        names=names,
        stage_names={st.id: st.name for st in stages},
        areas=AREAS,
        max_kb=MAX_KB,
    )
