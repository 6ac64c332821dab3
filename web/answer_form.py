"""Between the questionnaire's HTML form and the answers: field names, posted values, files
that were already uploaded, and the error messages.

Field names are the question ids. A file question also has ``<id>-kept`` (a signed reference
to the file already stored, so a re-shown form keeps it without a new upload) and
``<id>-remove`` (a checkbox to drop it). Anchors are ``q-<id>``: the error summary links to
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

from web.formatting import format_types
from web.i18n import lang, t
from web.uploads import store_upload
from workflow.definition_questions import Questionnaire
from workflow.link_target import Target
from workflow.validation import Issue


@dataclass(frozen=True)
class SummaryItem:
    anchor: str
    label: str
    message: str


def anchor(field: str) -> str:
    return f"q-{field}"


def posted_values(questionnaire: Questionnaire, form: MultiDict[str, str]) -> dict[str, Any]:
    """What the form holds for every question but the files, as typed."""
    raw: dict[str, Any] = {}
    for q in questionnaire.questions:
        if q.type == "multiple_choice":
            raw[q.id] = form.getlist(q.id)
        elif q.type != "file":
            raw[q.id] = form.get(q.id, "")
    return raw


def _purpose(target: Target, field: str) -> list[Any]:
    return [target.process_id, target.stage_id, target.party, target.step, field]


def sign_kept(
    signer: URLSafeSerializer, target: Target, field: str, file: Mapping[str, Any]
) -> str:
    """A reference to an already stored file that only this link's form, for this field, can
    hand back."""
    return signer.dumps({"for": _purpose(target, field), "file": dict(file)})


def read_kept(
    signer: URLSafeSerializer, target: Target, field: str, value: str | None
) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = signer.loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("for") != _purpose(target, field):
        return None
    file = data.get("file")
    return dict(file) if isinstance(file, dict) else None


def take_file(
    target: Target,
    field: str,
    form: MultiDict[str, str],
    files: ImmutableMultiDict[str, FileStorage],
    *,
    accept: list[str],
    max_mb: int,
    signer: URLSafeSerializer,
    upload_dir: Any,
    store: bool = True,
) -> tuple[dict[str, Any] | None, Issue | None]:
    """The file a field holds after this post: a new upload (stored now), else the kept
    one unless "remove" was ticked. A refused upload leaves the kept file in place."""
    kept = read_kept(signer, target, field, form.get(f"{field}-kept"))
    upload = files.get(field)
    if store and upload is not None and upload.filename:
        stored, issue = store_upload(upload, accept=accept, max_mb=max_mb, upload_dir=upload_dir)
        if issue is not None:
            return kept, issue
        return stored, None
    if form.get(f"{field}-remove"):
        return None, None
    return kept, None


def gather(
    target: Target,
    form: MultiDict[str, str],
    files: ImmutableMultiDict[str, FileStorage],
    *,
    signer: URLSafeSerializer,
    upload_dir: Any,
    store: bool = True,
) -> tuple[dict[str, Any], dict[str, Issue]]:
    """Every answer as posted (files stored), and the problems with new uploads."""
    assert target.questionnaire is not None
    raw = posted_values(target.questionnaire, form)
    upload_issues: dict[str, Issue] = {}
    for q in target.questionnaire.questions:
        if q.type != "file":
            continue
        raw[q.id], issue = take_file(
            target,
            q.id,
            form,
            files,
            accept=list(q.accept),
            max_mb=q.max_mb,
            signer=signer,
            upload_dir=upload_dir,
            store=store,
        )
        if issue is not None:
            upload_issues[q.id] = issue
    return raw, upload_issues


def issue_message(issue: Issue) -> str:
    params = dict(issue.params)
    if "accept" in params:
        params["types"] = format_types(params.pop("accept"), lang())
    return t(f"err_{issue.code}", **params)


def summary(
    labels: Mapping[str, str], issues: Mapping[str, Issue], order: list[str]
) -> list[SummaryItem]:
    """The error summary, in the order of the form."""
    return [
        SummaryItem(anchor(field), labels.get(field, field), issue_message(issues[field]))
        for field in order
        if field in issues
    ]
