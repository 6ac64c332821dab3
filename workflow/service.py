"""The application service: every change goes through here, in ONE transaction.

``Service`` is the engine (``workflow.engine``: start, tick, plan and apply) with the human acts
(``workflow.acts``), answers and links (``workflow.answering``) and the agreement document
(``workflow.documents``). Callers import everything they need from here.
"""

from __future__ import annotations

from workflow.acts import Acts
from workflow.answering import Answering
from workflow.documents import Documents
from workflow.engine import (
    LATE_LOG_THRESHOLD,
    Applied,
    Clock,
    TickReport,
    bound_for,
    document_conflict,
    system_clock,
)

__all__ = [
    "LATE_LOG_THRESHOLD",
    "Applied",
    "Clock",
    "Service",
    "TickReport",
    "bound_for",
    "document_conflict",
    "system_clock",
]


class Service(Acts, Answering, Documents):
    """Commands on processes. ``link_secret`` derives personal-link tokens."""
