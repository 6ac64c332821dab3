"""What every request needs, built once per app: the database, the respondent operations,
the business clock and the wall clock, the token rate limiter, where uploads go, and the signer for kept files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from itsdangerous import URLSafeSerializer

from web.security import MissLimiter
from workflow.responses import Responses
from workflow.storage.db import Database

EXTENSION = "aftaleflow"


@dataclass
class WebState:
    db: Database
    responses: Responses
    clock: Callable[[], datetime]
    #: Real time for the rate limits and the lock-out (``clock`` may be a fast demo clock).
    wall_clock: Callable[[], datetime]
    limiter: MissLimiter
    upload_dir: Path
    #: Signs the reference to a file that was already uploaded, so a re-shown form can carry
    #: it without the browser sending the file again (and nobody can point at another file).
    kept_files: URLSafeSerializer

    def now(self) -> datetime:
        return self.clock()


def state() -> WebState:
    found = current_app.extensions[EXTENSION]
    assert isinstance(found, WebState)
    return found
