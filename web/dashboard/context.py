"""What the dashboard keeps per app, next to the respondent pages' ``WebState``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from web.security import MissLimiter

EXTENSION = "aftaleflow.dashboard"


@dataclass
class DashboardState:
    #: Failed log-ins per client address (a second line of defence behind the per-user
    #: lock-out: it slows one address trying many names).
    login_limiter: MissLimiter
    #: The public address of the respondent pages, for the personal links of the outbox.
    base_url: str


def dashboard_state() -> DashboardState:
    found = current_app.extensions[EXTENSION]
    assert isinstance(found, DashboardState)
    return found
