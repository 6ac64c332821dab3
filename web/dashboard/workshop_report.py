"""The "Workshops" section of the compiled report (the material for KKR): each workshop that
took sign-ups, how many came, and its conclusions (``workflow.workshop_exports``)."""

from __future__ import annotations

from typing import Any

from web.state import state
from workflow.workshop_exports import report_sections
from workflow.workshop_service import Workshops


def workshop_report(key: str) -> dict[str, Any]:
    """The template variables of the section (``dashboard/_workshops_report.html``)."""
    _, infos = Workshops(state().responses.service).overview(key)
    return {"workshop_sections": report_sections(infos)}
