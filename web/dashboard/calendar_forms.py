"""The forms of the meeting-calendar page (``calendar_edit``): add, move and delete a
meeting, set a body's agenda deadline, import an ``.ics`` file. Each form has its own prefix,
so the page's fields (every form asks why) keep distinct ids; each carries ``version``, the
SHA-256 of the calendar file the user saw."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, HiddenField, StringField
from wtforms.validators import ValidationError

from web.dashboard.forms import is_date, reason_field, required, strip_value

TIME = re.compile(r"^([01]\d|2[0-3])[:.][0-5]\d$")
MAX_DAYS = 60


def is_time(form: FlaskForm, field: Field) -> None:
    value = (field.data or "").strip()
    if value and not TIME.match(value):
        raise ValidationError("err_time")


def agenda_days(form: FlaskForm, field: Field) -> None:
    value = (field.data or "").strip()
    if value and (not value.isdigit() or int(value) > MAX_DAYS):
        raise ValidationError("err_agenda_days")


def as_time(value: str | None) -> str | None:
    """``"17.00"`` or ``"17:00"`` as the calendar file writes it (``17:00``); None if blank."""
    value = (value or "").strip()
    return value.replace(".", ":") if value else None


def _version() -> Any:
    return HiddenField(validators=[required])


class AddMeetingForm(FlaskForm):
    day = StringField("f_cal_day", validators=[required, is_date], filters=[strip_value])
    time = StringField("f_cal_time", validators=[is_time], filters=[strip_value])
    version = _version()
    reason = reason_field()


class MoveMeetingForm(FlaskForm):
    meeting = StringField("f_cal_meeting", validators=[required, is_date])
    to = StringField("f_cal_to", validators=[required, is_date], filters=[strip_value])
    time = StringField("f_cal_time", validators=[is_time], filters=[strip_value])
    version = _version()
    reason = reason_field()


class DeleteMeetingForm(FlaskForm):
    meeting = StringField("f_cal_meeting", validators=[required, is_date])
    version = _version()
    reason = reason_field()


class AgendaDaysForm(FlaskForm):
    days = StringField("f_cal_days", validators=[agenda_days], filters=[strip_value])
    version = _version()
    reason = reason_field()


class ImportForm(FlaskForm):
    file = FileField("f_cal_file")
    version = _version()
    reason = reason_field()


#: Each action's form and its prefix (also the action's name in the address).
FORMS: dict[str, type[FlaskForm]] = {
    "tilfoej": AddMeetingForm,
    "flyt": MoveMeetingForm,
    "slet": DeleteMeetingForm,
    "dagsordensfrist": AgendaDaysForm,
    "import": ImportForm,
}
