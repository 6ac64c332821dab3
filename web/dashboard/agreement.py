"""The agreement's path on the dashboard: the version the recommending decision (KKR)
recommends, chosen when its outcome is recorded (by default the newest); putting up another
version for approval says so; and the path draft → KKR → councils → Socialstyrelsen
(``workflow.agreement_path``) for the process page."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import Field
from wtforms.validators import ValidationError

from web.dashboard import forms, reads
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow.agreement_path import AgreementPath, agreement_path, recommended, recommends
from workflow.definition import DecisionStage
from workflow.storage.models import ProcessRow
from workflow.timeline import BoundProcess


def _offered(form: FlaskForm, field: Field) -> None:
    if field.data not in [value for value, _ in field.options]:
        raise ValidationError("err_choose")


class RecommendForm(forms.OutcomeForm):
    """The outcome of a decision that recommends the agreement, with the version it
    recommends (used with the outcome ``approved``)."""

    document_version = forms.ChoiceField("f_document_version", [], validators=[_offered])
    reason = forms.reason_field()  # again, so that it stays the last field


#: The prefix of a decided value's field in the outcome form (``value_focus_areas``).
VALUE = "value_"


def outcome_form(key: str, stage_id: str) -> FlaskForm:
    """The outcome form of ``stage_id``: with the versions to recommend if it recommends the
    agreement and versions exist, the newest chosen by default; with a checkbox list per value
    the decision records (KKR's focus areas)."""
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        docs = reads.documents(s, row)
    bst = reads.stage_or_404(bound, stage_id)
    decides = bst.definition.decides if isinstance(bst.definition, DecisionStage) else {}
    if decides:
        fields: dict[str, Any] = {
            VALUE + k: forms.ChecksField(
                v.label_en if lang() == "en" and v.label_en else v.label,
                [(o.value, o.label) for o in v.options],
            )
            for k, v in decides.items()
        }
        fields["reason"] = forms.reason_field()  # again, so that it stays the last field
        return type("DecisionForm", (forms.OutcomeForm,), fields)()
    if not recommends(bst) or not docs:
        return forms.OutcomeForm()
    form = RecommendForm()
    form.document_version.options = [
        (str(d.version), dt("version_option", n=d.version, filename=d.filename)) for d in docs
    ]
    if not form.document_version.data:
        form.document_version.data = str(docs[0].version)
    return form


def chosen_values(form: FlaskForm) -> dict[str, list[str]]:
    """The values ticked in a decision's outcome form (``workflow.decided`` checks them)."""
    return {
        f.name.removeprefix(VALUE): list(f.data or [])
        for f in form
        if isinstance(f, forms.ChecksField) and f.data
    }


def chosen_version(form: FlaskForm) -> int | None:
    """The version to record: only with the outcome ``approved`` of a recommending decision."""
    if not isinstance(form, RecommendForm) or form.outcome.data != "approved":
        return None
    return int(form.document_version.data)


def put_up_warning(key: str, version: int) -> str:
    """What the secretariat is told when the version it puts up is not the one recommended."""
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        rec = recommended(s, row, bound)
    if rec is None or rec.version is None or rec.version.version in (None, version):
        return ""
    return dt(
        "put_up_not_recommended", stage=rec.stage_name, recommended=rec.version.version, n=version
    )


def recommended_version(s: Session, row: ProcessRow, bound: BoundProcess) -> int | None:
    rec = recommended(s, row, bound)
    return rec.version.version if rec and rec.version else None


def path_of(s: Session, row: ProcessRow, bound: BoundProcess) -> AgreementPath | None:
    """The path for the process page; None when the cycle has no approval stage."""
    if not any(st.kind == "approval" for st in bound.stages):
        return None
    return agreement_path(s, row, bound)
