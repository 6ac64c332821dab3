"""The councils' meeting calendar of a process's year, edited from the meeting plan
(``/sekretariat/proces/KEY/moedeplan/kalender``): one body at a time (a party's socialudvalg,
byråd or regionsråd; KKR and DAS Social of the cycle), its meetings and agenda deadline.

Everyone logged in sees it; admins add, move and delete a meeting, set the body's agenda
deadline or import an ``.ics`` file, each with a reason. The change is written to the year's
calendar file itself (``workflow.calendar_files``: checked, atomic, audited with the file's
SHA-256 before and after), so ``aftaleflow check``, the command line and git see one source.
A file changed since the page was shown, a folder that cannot be written, a meeting on a
holiday: each is refused with the reason, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.calendar_forms import FORMS, as_time
from web.dashboard.forms import as_date
from web.dashboard.meeting_plan import meeting_time
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow.approval_risk import calendar_file
from workflow.calendar_files import change_calendar, check_writable, text_digest
from workflow.councils import BODIES_OF_KIND, CYCLE, CYCLE_BODIES, Meeting, agenda_deadline
from workflow.councils_edit import CalendarChange, agenda_days_of, ics_meetings
from workflow.dates import format_day
from workflow.errors import AftaleflowError
from workflow.labels import label
from workflow.risk_reads import calendars_for
from workflow.storage.models import ProcessRow
from workflow.timeline import BoundProcess

#: The most an uploaded ``.ics`` may weigh (a council's year is some kilobytes).
ICS_LIMIT = 5 * 1024 * 1024

Page = Response | tuple[str, int]


@dataclass(frozen=True)
class Body:
    """A body whose calendar the page edits: a party's (owner: its slug) or the cycle's."""

    owner: str
    body: str
    name: str

    @property
    def ident(self) -> str:
        return f"{self.owner}:{self.body}"


def body_name(body: str) -> str:
    return dt(f"cal_body_{body}") if body in CYCLE_BODIES else label(body, lang())


def bodies(bound: BoundProcess) -> list[Body]:
    """The cycle's bodies, then every party's bodies in the registry's order."""
    out = [Body(CYCLE, b, body_name(b)) for b in CYCLE_BODIES]
    for p in bound.bundle.parties.parties:
        out += [Body(p.slug, b, f"{p.name} – {body_name(b)}") for b in BODIES_OF_KIND[p.kind]]
    return out


def _process(key: str) -> tuple[ProcessRow, BoundProcess]:
    with state().db.sessions() as s:
        return reads.process_or_404(s, key)


def _chosen(found: list[Body], ident: str) -> Body | None:
    return next((b for b in found if b.ident == ident), None)


def _page(
    key: str,
    *,
    chosen: Body | None = None,
    failed: tuple[str, FlaskForm] | None = None,
    refused: str = "",
    status: int = 200,
) -> tuple[str, int]:
    row, bound = _process(key)
    found = bodies(bound)
    chosen = chosen or _chosen(found, request.args.get("organ", "")) or found[0]
    target = calendar_file(row.definition_path, bound.year)
    try:
        text: str | None = target.read_text(encoding="utf-8")
    except OSError:
        text = None
    calendars, source = calendars_for(row, bound) if text is not None else (None, str(target))
    meetings: tuple[Meeting, ...] = ()
    days, days_from = 0, "default"
    read_only = ""
    if calendars is not None and text is not None:
        meetings = calendars.of(chosen.owner, chosen.body)
        days, days_from = agenda_days_of(text, chosen.owner, chosen.body)
        try:
            check_writable(target)
        except AftaleflowError as e:
            read_only = e.text(lang())
    forms = {name: cls(prefix=name, formdata=None) for name, cls in FORMS.items()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    for form in forms.values():
        form.version.data = text_digest(text) if text is not None else ""
    page = render_template(
        "dashboard/calendar_edit.html",
        row=row,
        year=bound.year,
        bodies=found,
        chosen=chosen,
        calendars=calendars,
        source=source,
        meetings=meetings,
        agenda_deadline=agenda_deadline,
        meeting_time=meeting_time,
        days=days,
        days_from=days_from,
        kind_name=label(chosen.body, lang()) if chosen.body not in CYCLE_BODIES else chosen.name,
        forms=forms,
        failed=failed[0] if failed else "",
        refused=refused,
        read_only=read_only,
    )
    return page, status


@bp.get("/proces/<key>/moedeplan/kalender")
def calendar_edit(key: str) -> tuple[str, int]:
    return _page(key)


@bp.post("/proces/<key>/moedeplan/kalender/<owner>/<body>/<what>")
@admin_only
def calendar_change(key: str, owner: str, body: str, what: str) -> Page:
    if what not in FORMS:
        abort(404)
    row, bound = _process(key)
    chosen = _chosen(bodies(bound), f"{owner}:{body}")
    if chosen is None:
        abort(404)
    form = FORMS[what](prefix=what)
    if not form.validate():
        return _page(key, chosen=chosen, failed=(what, form), status=400)
    target = calendar_file(row.definition_path, bound.year)
    try:
        change = _change(what, form, chosen, bound.year)
        if not target.exists():
            raise AftaleflowError(
                dt("plan_no_calendar", source=str(target)), en=f"There is no file {target}."
            )
        change_calendar(
            state().db,
            target,
            change,
            seen=form.version.data,
            at=state().now(),
            actor=the_user().actor,
            reason=form.reason.data,
            process_id=row.id,
        )
    except AftaleflowError as e:
        return _page(key, chosen=chosen, failed=(what, form), refused=e.text(lang()), status=409)
    flash(_done(change, chosen), "success")
    return redirect(url_for("dashboard.calendar_edit", key=key, organ=chosen.ident), code=303)


def _change(what: str, form: FlaskForm, chosen: Body, year: int) -> CalendarChange:
    o, b = chosen.owner, chosen.body
    if what == "tilfoej":
        return CalendarChange("add", o, b, day=as_date(form.day.data), time=as_time(form.time.data))
    if what == "flyt":
        return CalendarChange(
            "move",
            o,
            b,
            day=as_date(form.meeting.data),
            to=as_date(form.to.data),
            time=as_time(form.time.data),
        )
    if what == "slet":
        return CalendarChange("delete", o, b, day=as_date(form.meeting.data))
    if what == "dagsordensfrist":
        days = int(form.days.data) if form.days.data else None
        return CalendarChange("agenda_days", o, b, days=days)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        raise AftaleflowError(dt("cal_no_file"), en="Choose an .ics file to import.")
    data = upload.stream.read(ICS_LIMIT + 1)
    name = Path(upload.filename).name
    if len(data) > ICS_LIMIT:
        raise AftaleflowError(dt("cal_file_too_big", name=name), en=f"{name} is larger than 5 MB.")
    return CalendarChange("import", o, b, meetings=ics_meetings(data, year, name))


def _done(change: CalendarChange, chosen: Body) -> str:
    day = format_day(change.day, lang()) if change.day else ""
    if change.kind == "add":
        return dt("done_cal_add", day=day, body=chosen.name)
    if change.kind == "move":
        to = format_day(change.to, lang()) if change.to else ""
        return dt("done_cal_move", day=day, to=to, body=chosen.name)
    if change.kind == "delete":
        return dt("done_cal_delete", day=day, body=chosen.name)
    if change.kind == "agenda_days":
        return dt("done_cal_days", body=chosen.name)
    return dt("done_cal_import", n=len(change.meetings), body=chosen.name)
