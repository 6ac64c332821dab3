"""The web app: respondent forms reached by personal links (``/svar/…``, ``/godkend/…``).

``create_app`` takes every setting as a parameter and reads no environment variable: the
entry points (``web.wsgi`` for a WSGI server, ``python -m web`` for a local run) read
``AFTALEFLOW_*`` and pass the values in. The web never imports ``notifications``: a mail is
an outbox row that the service writes in the same transaction as the change that causes it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, session
from itsdangerous import URLSafeSerializer
from jinja2 import StrictUndefined

from web import approve, dashboard, forum_report, pages, respond, routing, security, signup
from web.formatting import format_date, format_datetime, format_size, format_types
from web.i18n import LANGUAGES, choose_language, danish, lang, t
from web.state import EXTENSION, WebState, state
from web.uploads import CappedRequest
from workflow.responses import Responses
from workflow.risk_reads import calendars_of
from workflow.service import Service, system_clock
from workflow.storage.db import Database

__all__ = ["close_app", "create_app"]

#: All files of one form together, in MB. A file past it is read and dropped, and the form
#: comes back with what was typed and a message naming this limit (``web.uploads``).
MAX_FILES_MB = 32
#: The most of one request that is read at all, in MB; past it the answer is a 413 page that
#: names this limit. Well above ``MAX_FILES_MB``, so that a too-large file costs nothing typed.
MAX_BODY_MB = 256
#: How long the session cookie (language choice, CSRF secret) lives. CSRF tokens have no
#: time limit of their own (STACK.md pitfall 7): a questionnaire may stay open for weeks.
SESSION_LIFETIME = timedelta(days=60)


def _derive(secret: str, purpose: str) -> str:
    """A key for one purpose from the one configured secret (links use the secret itself)."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def create_app(
    *,
    database_url: str,
    secret_key: str,
    base_url: str,
    upload_dir: Path,
    language: str = "da",
    clock: Callable[[], datetime] | None = None,
    wall_clock: Callable[[], datetime] | None = None,
) -> Flask:
    """The Flask app. ``clock`` (aware UTC) is the only source of business time ("now" for
    deadlines, answers and the audit log): the demo runs it fast, tests move it.
    ``wall_clock`` is the real time that the rate limits and the log-in lock-out run on, so a
    fast demo clock never shortens them; it defaults to the system clock, tests move their own.
    """
    app = Flask(__name__)
    app.request_class = CappedRequest
    app.config.update(
        SECRET_KEY=_derive(secret_key, "aftaleflow.web.session"),
        WTF_CSRF_TIME_LIMIT=None,
        # Referrer-Policy: no-referrer means browsers send no Referer, which Flask-WTF's
        # strict HTTPS check would require; the token and SameSite=Lax cookie remain.
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=MAX_BODY_MB * 1024 * 1024,
        AFTALEFLOW_FILES_MB=MAX_FILES_MB,
        SESSION_COOKIE_NAME="aftaleflow_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        AFTALEFLOW_LANGUAGE=language if language in LANGUAGES else "da",
    )
    clock = clock or system_clock
    wall_clock = wall_clock or system_clock
    db = Database(database_url)
    app.extensions[EXTENSION] = WebState(
        db=db,
        responses=Responses(Service(db, link_secret=secret_key, calendars=calendars_of)),
        clock=clock,
        wall_clock=wall_clock,
        limiter=security.MissLimiter(wall_clock),
        upload_dir=Path(upload_dir),
        kept_files=URLSafeSerializer(_derive(secret_key, "aftaleflow.web.kept-file")),
    )
    security.csrf.init_app(app)
    security.register(app)

    @app.before_request
    def _per_request() -> None:
        if not session.permanent:
            session.permanent = True
        choose_language()

    routing.install(app)
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.globals.update(t=t, lang=lang, danish=danish)
    app.jinja_env.filters.update(
        date=lambda v, weekday=True: format_date(v, lang(), weekday=weekday),
        datetime=lambda v: format_datetime(v, lang()),
        size=lambda v: format_size(int(v), lang()),
        types=lambda v: format_types(list(v), lang()),
    )
    for blueprint in (pages.bp, respond.bp, approve.bp, forum_report.bp, signup.bp):
        app.register_blueprint(blueprint)
    dashboard.register(app, base_url=base_url)
    return app


def close_app(app: Flask) -> None:
    """Release the app's database connections (tests; a server's shutdown)."""
    with app.app_context():
        state().db.dispose()
