"""The dashboard's forms (Flask-WTF: every POST carries the CSRF token).

Labels and error messages are text keys, translated when the page is drawn (``dt``), so a
form class serves Danish and English alike. Every action asks why it is done: the reason
goes to the audit log with who did it.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

REASON_MAX = 2000
TEXT_MAX = 4000
SHORT_MAX = 200


def required(form: FlaskForm, field: Field) -> None:
    if not (field.data or "").strip():
        raise ValidationError("err_required")


def max_length(limit: int) -> Any:
    def check(form: FlaskForm, field: Field) -> None:
        if len(field.data or "") > limit:
            raise ValidationError("err_too_long")

    return check


def is_date(form: FlaskForm, field: Field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValidationError("err_date") from None


def one_of(*values: str) -> Any:
    def check(form: FlaskForm, field: Field) -> None:
        if field.data not in values:
            raise ValidationError("err_choose")

    return check


def in_options(form: FlaskForm, field: Field) -> None:
    """One of a ``ChoiceField``'s options as the page set them."""
    if field.data not in [value for value, _ in getattr(field, "options", [])]:
        raise ValidationError("err_choose")


def is_clock(form: FlaskForm, field: Field) -> None:
    value = (field.data or "").strip()
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValidationError("err_clock") from None


def checked(form: FlaskForm, field: Field) -> None:
    if not field.data:
        raise ValidationError("err_confirm")


class ChoiceField(StringField):
    """One of a few values, drawn as radio buttons by the template (``options``: value and
    text key); validated with ``one_of``."""

    def __init__(self, label: str, options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.options = options


class ChecksField(Field):
    """Some of a few values, drawn as checkboxes by the template (``options``: value and
    text); its data is the list of the values ticked."""

    def __init__(self, label: str, options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.options = options

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [str(v) for v in valuelist if v]

    def _value(self) -> str:
        return ",".join(self.data or [])


def strip_value(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def reason_field() -> Any:
    """Why: asked by every action (declared last, so it comes last on the page)."""
    return TextAreaField(
        "f_reason", validators=[required, max_length(REASON_MAX)], filters=[strip_value]
    )


class ReasonForm(FlaskForm):
    reason = reason_field()


OUTCOMES = ("held", "approved", "rejected", "postponed")
DECISIONS = ("approved", "rejected", "postponed")


class OutcomeForm(FlaskForm):
    outcome = ChoiceField(
        "f_outcome", [(o, f"outcome_{o}") for o in OUTCOMES], validators=[one_of(*OUTCOMES)]
    )
    text = TextAreaField("f_outcome_text", validators=[max_length(TEXT_MAX)], filters=[strip_value])
    minutes = StringField(
        "f_minutes", validators=[max_length(SHORT_MAX * 2)], filters=[strip_value]
    )
    reason = reason_field()


class ApprovalForm(FlaskForm):
    decision = ChoiceField(
        "f_decision", [(d, f"decision_{d}") for d in DECISIONS], validators=[one_of(*DECISIONS)]
    )
    meeting_date = StringField(
        "f_meeting_date", validators=[required, is_date], filters=[strip_value]
    )
    agenda_item = StringField(
        "f_agenda_item", validators=[max_length(SHORT_MAX)], filters=[strip_value]
    )
    decision_text = TextAreaField(
        "f_decision_text", validators=[max_length(TEXT_MAX)], filters=[strip_value]
    )
    minutes = StringField(
        "f_minutes", validators=[max_length(SHORT_MAX * 2)], filters=[strip_value]
    )
    reason = reason_field()


class ExtendForm(FlaskForm):
    deadline = StringField("f_new_deadline", validators=[required, is_date], filters=[strip_value])
    reason = reason_field()


class MoveMeetingForm(FlaskForm):
    """A meeting's or workshop's new day, time and place (the options: the stage's meetings)."""

    event = ChoiceField("f_meeting", [], validators=[in_options])
    day = StringField("f_new_day", validators=[required, is_date], filters=[strip_value])
    clock = StringField("f_new_clock", validators=[required, is_clock], filters=[strip_value])
    location = StringField(
        "f_location", validators=[required, max_length(SHORT_MAX)], filters=[strip_value]
    )
    reason = reason_field()


class CancelMeetingForm(FlaskForm):
    event = ChoiceField("f_meeting", [], validators=[in_options])
    reason = reason_field()
    confirm = BooleanField("f_confirm_cancel_meeting", validators=[checked])


class ReissueForm(FlaskForm):
    now = BooleanField("f_send_now")
    reason = reason_field()


class ContactAddForm(FlaskForm):
    contact_name = StringField(
        "f_contact_name", validators=[required, max_length(SHORT_MAX)], filters=[strip_value]
    )
    contact_email = StringField(
        "f_contact_email", validators=[required, max_length(SHORT_MAX)], filters=[strip_value]
    )
    now = BooleanField("f_contact_send_now")
    reason = reason_field()


class ContactReplaceForm(FlaskForm):
    contact_name = StringField(
        "f_contact_name", validators=[required, max_length(SHORT_MAX)], filters=[strip_value]
    )
    contact_email = StringField(
        "f_contact_email", validators=[required, max_length(SHORT_MAX)], filters=[strip_value]
    )
    revoke_old = BooleanField("f_revoke_old")
    now = BooleanField("f_contact_send_now")
    reason = reason_field()


class CancelForm(FlaskForm):
    reason = reason_field()
    confirm = BooleanField("f_confirm_cancel", validators=[checked])


class UploadForm(FlaskForm):
    file = FileField("f_file")
    note = TextAreaField(
        "f_note", validators=[required, max_length(REASON_MAX)], filters=[strip_value]
    )


def as_date(value: str) -> date:
    return date.fromisoformat(value.strip())


class DefinitionUploadForm(FlaskForm):
    """The edited definition (a process definition or a questionnaire), for a preview."""

    file = FileField("f_definition_file")


class MigrationForm(FlaskForm):
    """Apply the previewed migration: the previewed file's text travels with the form, and
    the hash of the definition the preview was made against."""

    content = HiddenField()
    filename = HiddenField()
    expect = HiddenField()
    reason = reason_field()
