"""Log-in, log-out, and who may see and do what on the dashboard.

Every dashboard page but the log-in page (and its stylesheet) needs a logged-in user; a
visitor without one is sent to the log-in page. ``admin`` users act, ``viewer`` users read:
an action refused for a viewer answers 403 whether it is a GET of its form or the POST.

The session (Flask's signed cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS) holds the
user's id and the user's session epoch. Logging out raises the epoch in the database, so
every copy of the cookie stops working at once. A session also ends ``SESSION_MAX_AGE``
after the log-in, measured on the wall clock like the cookie's own signature. The lock-out
and the per-address limit on failed log-ins run on the app's wall clock too (never on the
business clock, which may run at two days a second in the demo). Every refused log-in gets
the same message, whether the name is unknown, the password wrong or the user locked: the
page never tells a guesser which names exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from web.dashboard.blueprint import PREFIX, bp
from web.dashboard.context import dashboard_state
from web.dashboard.texts import dt
from web.security import client_address
from web.state import state
from workflow import users
from workflow.users import LoginRefused, User

#: How long a log-in lasts at most (wall-clock time).
SESSION_MAX_AGE = timedelta(hours=12)
#: Endpoints a visitor reaches without logging in (the calendar feed carries its own secret).
PUBLIC = frozenset({"dashboard.login", "dashboard.static", "dashboard.calendar_feed"})

UID, EPOCH, SINCE = "dashboard_uid", "dashboard_epoch", "dashboard_since"

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    """The logged-in user of this request (looked up once per request)."""
    if "dashboard_user" in g:
        return cast(User | None, g.dashboard_user)
    user: User | None = None
    uid, epoch, since = session.get(UID), session.get(EPOCH), session.get(SINCE)
    fresh = (
        isinstance(since, int | float) and time.time() - since <= SESSION_MAX_AGE.total_seconds()
    )
    if isinstance(uid, int) and isinstance(epoch, int) and fresh:
        found = users.get_user(state().db, uid)
        if found is not None and found.session_epoch == epoch:
            user = found
    if user is None:
        for k in (UID, EPOCH, SINCE):
            session.pop(k, None)
    g.dashboard_user = user
    return user


def the_user() -> User:
    """The logged-in user (the guard has made sure there is one)."""
    user = current_user()
    if user is None:  # pragma: no cover - the guard redirects first
        abort(403)
    return user


def admin_only(view: F) -> F:
    """A view that acts: 403 for a viewer (the guard already sent visitors to log in)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not the_user().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


@bp.before_request
def _guard() -> Response | None:
    if request.endpoint in PUBLIC:
        return None
    if current_user() is None:
        target = request.full_path if request.method == "GET" else ""
        return redirect(url_for("dashboard.login", next=_safe_next(target) or None), code=303)
    return None


def _safe_next(target: str | None) -> str:
    """Only a path of the dashboard itself (no scheme, no host): no open redirect."""
    if not target:
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX + "/"):
        return ""
    if "\\" in target or target.startswith("//"):
        return ""
    return target.rstrip("?")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user() is not None:
        return redirect(url_for("dashboard.index"), code=303)
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("dashboard/login.html", name="", error="", next_url=next_url)
    limiter = dashboard_state().login_limiter
    address = client_address()
    if limiter.blocked(address):
        raise TooManyRequests(retry_after=limiter.retry_after(address))
    name = request.form.get("name", "")[:200]
    password = request.form.get("password", "")
    st = state()
    try:
        user = users.authenticate(st.db, name, password, at=st.now(), wall=st.wall_clock())
    except LoginRefused:
        limiter.miss(address)
        error = dt(
            "login_refused",
            max=users.MAX_FAILURES,
            minutes=int(users.LOCKOUT.total_seconds() // 60),
        )
        page = render_template("dashboard/login.html", name=name, error=error, next_url=next_url)
        return page, 401
    lang = session.get("lang")
    session.clear()  # a fresh session (and CSRF secret) for the logged-in user
    if lang:
        session["lang"] = lang
    session.permanent = True
    session[UID], session[EPOCH], session[SINCE] = user.id, user.session_epoch, int(time.time())
    flash(dt("logged_in", name=user.name), "success")
    return redirect(next_url or url_for("dashboard.index"), code=303)


@bp.post("/logout")
def logout() -> Response:
    user = the_user()
    st = state()
    users.end_sessions(st.db, user.id, at=st.now())
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(dt("logged_out"), "success")
    return redirect(url_for("dashboard.login"), code=303)


@bp.errorhandler(403)
def forbidden(_e: Exception) -> tuple[str, int]:
    return render_template("dashboard/forbidden.html"), 403
