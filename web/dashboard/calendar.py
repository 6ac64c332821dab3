"""The secretariat's calendar: a month view of every running process's meetings, workshops,
deadlines and planned reminders, and a private ``.ics`` feed of the same to subscribe to.

The feed's address carries its own secret (``workflow.user_feeds``): a calendar program cannot
log in. It is the one dashboard address a visitor reaches without a log-in; a forged, replaced
or revoked secret is a plain 404. The month view and the feed read the same entries
(``workflow.feed``), so Outlook and the dashboard never disagree.
"""

from __future__ import annotations

import calendar as monthcal
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from web.dashboard.auth import the_user
from web.dashboard.blueprint import bp
from web.dashboard.context import dashboard_state
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow import dates, queries, user_feeds
from workflow.calendar import to_local
from workflow.feed import FeedEntry, FeedTask, process_entries
from workflow.feed_ics import feed_ics
from workflow.service import bound_for
from workflow.storage.models import StageRow, TaskRow


def entries(s: Session) -> list[FeedEntry]:
    """The calendar of every running process, sorted by day and time."""
    out: list[FeedEntry] = []
    for row in queries.processes(s):
        if row.status != "running":
            continue
        bound = bound_for(row)
        stages = {
            r.stage_id: r.status
            for r in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
        }
        tasks = [
            FeedTask(
                t.stage_id,
                t.party,
                t.status,
                t.deadline_or(bound.stage(t.stage_id).deadline),
                t.reminders_done,
                extended=t.deadline_override is not None,
            )
            for t in s.scalars(select(TaskRow).where(TaskRow.process_id == row.id))
        ]
        names = {p.slug: p.name for p in bound.bundle.parties.parties}
        out += process_entries(row.key, bound, stages, tasks, names)
    out.sort(key=lambda e: e.sort_key)
    return out


def summary(e: FeedEntry) -> str:
    """What a calendar entry is called: the meeting's title, or what falls due."""
    if e.kind == "meeting":
        return e.title
    if e.kind == "meeting_cancelled":
        return dt("cal_meeting_cancelled", stage=e.title)
    if e.kind == "deadline_extended":
        return dt("cal_deadline_extended", stage=e.title, party=", ".join(e.parties))
    if e.kind == "reminder" and len(e.parties) == 1:
        return dt("cal_reminder_one", stage=e.title, party=e.parties[0])
    return dt(f"cal_{e.kind}", stage=e.title, n=len(e.parties))


def description(e: FeedEntry) -> str:
    return ", ".join(e.parties) if e.kind == "reminder" else ""


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    items: list[FeedEntry]


def _month() -> tuple[int, int, bool]:
    """The month asked for (``?maaned=2022-11``), else this month; False when unreadable."""
    asked = request.args.get("maaned", "")
    today = to_local(state().now()).date()
    if not asked:
        return today.year, today.month, True
    try:
        year, month = (int(x) for x in asked.split("-", 1))
        date(year, month, 1)
    except ValueError:
        return today.year, today.month, False
    return year, month, True


def _weeks(year: int, month: int, found: list[FeedEntry]) -> list[list[Day]]:
    by_day: dict[date, list[FeedEntry]] = {}
    for e in found:
        by_day.setdefault(e.sort_key[0], []).append(e)
    return [
        [Day(d, d.month == month, by_day.get(d, [])) for d in week]
        for week in monthcal.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]


def _shift(year: int, month: int, by: int) -> str:
    n = year * 12 + month - 1 + by
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _page(new_address: str = "") -> str:
    year, month, readable = _month()
    if not readable:
        flash(dt("cal_bad_month"), "error")
    st = state()
    with st.db.sessions() as s:
        weeks = _weeks(year, month, entries(s))
    return render_template(
        "dashboard/calendar.html",
        title=dates.format_month(year, month, lang()),
        weekdays=dates.weekday_names(lang()),
        weeks=weeks,
        prev=_shift(year, month, -1),
        next=_shift(year, month, 1),
        summary=summary,
        time_of=lambda e: dates.format_time(e.start, lang()) if e.start else "",
        feed_since=user_feeds.has_feed(st.db, the_user().id),
        new_address=new_address,
    )


@bp.get("/kalender")
def calendar_month() -> str:
    return _page()


@bp.post("/kalender/adresse")
def calendar_address() -> str:
    """A new private feed address for the logged-in user (shown once; the old one stops)."""
    user = the_user()
    st = state()
    token = user_feeds.issue_feed_token(st.db, user.id, at=st.now(), actor=user.actor)
    if token is None:  # pragma: no cover - the guard found the user a moment ago
        abort(403)
    # the public address (as in the mails), so a calendar service outside can reach it
    return _page(dashboard_state().base_url + url_for("dashboard.calendar_feed", token=token))


@bp.post("/kalender/adresse/slet")
def calendar_address_revoke() -> WerkzeugResponse:
    user = the_user()
    st = state()
    if user_feeds.revoke_feed_token(st.db, user.id, at=st.now(), actor=user.actor):
        flash(dt("cal_feed_revoked"), "success")
    return redirect(url_for("dashboard.calendar_month"), code=303)


@bp.get("/kalender/feed/<token>.ics")
def calendar_feed(token: str) -> Response:
    st = state()
    if user_feeds.user_for_feed_token(st.db, token) is None:
        abort(404)
    with st.db.sessions() as s:
        found = entries(s)
    host = urlsplit(dashboard_state().base_url).hostname or "aftaleflow.example"
    body = feed_ics(
        found,
        name=dt("cal_feed_name"),
        domain=host,
        stamp=st.now(),
        summary=summary,
        description=description,
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="aftaleflow.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
