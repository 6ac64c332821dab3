"""The secretariat's dashboard (``/sekretariat/``) and the JSON API (``/api/v1/``).

``register(app)`` adds both to the app made by ``web.create_app``: log-in for the users made
with ``aftaleflow user add`` (roles admin and viewer), the overview of every process, the
actions (each asks why, and the audit log records who and why), the agreement document,
the party pages, the files the parties sent (minutes and uploads), the outbox, the audit
log, the exports and the process diagrams.
"""

from __future__ import annotations

from flask import Flask

from web.dashboard.context import EXTENSION, DashboardState
from web.security import MissLimiter
from web.state import state

#: Failed log-ins one client address may make per minute before it gets 429 for a while.
LOGIN_MISSES_PER_MINUTE = 20


def register(app: Flask, *, base_url: str) -> None:
    """Install the dashboard and the API on ``app`` (after ``web.create_app`` set it up).

    ``base_url`` is the public address of the respondent pages (personal links)."""
    from web import api
    from web.dashboard import (  # noqa: F401  (the modules add their routes to the blueprint)
        actions,
        attachments,
        audit,
        auth,
        calendar,
        calendar_edit,
        compose,
        contacts,
        diagram,
        documents,
        downloads,
        forum_send,
        inbox,
        mail_answers,
        mail_view,
        meeting_plan,
        migration,
        moves,
        outbox,
        overview,
        party,
        report,
        templating,
        workshops,
    )
    from web.dashboard.blueprint import bp

    with app.app_context():
        wall_clock = state().wall_clock
    app.extensions[EXTENSION] = DashboardState(
        login_limiter=MissLimiter(wall_clock, limit=LOGIN_MISSES_PER_MINUTE),
        base_url=base_url.rstrip("/"),
    )
    app.register_blueprint(bp)
    app.register_blueprint(api.bp)
