"""The "Workshops" section of the compiled report (the material for KKR): each workshop that
took sign-ups, how many came, and its conclusions (``workflow.workshop_exports``), on the
report page and appended to the Word file."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from web.dashboard.templating import moment
from web.dashboard.workshop_texts import wt
from web.state import state
from workflow.workshop_exports import WorkshopSection, report_sections
from workflow.workshop_service import Workshops


def sections(key: str) -> list[WorkshopSection]:
    _, infos = Workshops(state().responses.service).overview(key)
    return report_sections(infos)


def workshop_report(key: str) -> dict[str, Any]:
    """The template variables of the section (``dashboard/_workshops_report.html``)."""
    return {"workshop_sections": sections(key)}


def _facts(w: WorkshopSection) -> str:
    parts = [moment(w.start), wt("ws_report_numbers", confirmed=w.confirmed, waiting=w.waiting)]
    if w.attended is not None:
        parts.append(wt("ws_report_attended", attended=w.attended))
    return " · ".join(parts)


def with_workshops_docx(content: bytes, found: Sequence[WorkshopSection]) -> bytes:
    """The report's Word file with the "Workshops" section appended (Word's own headings)."""
    if not found:
        return content
    from docx import Document

    doc = Document(io.BytesIO(content))
    doc.add_heading(wt("ws_report_title"), level=1)
    for w in found:
        doc.add_heading(w.title, level=2)
        doc.add_paragraph(_facts(w))
        if not w.conclusions:
            doc.add_paragraph(wt("ws_report_no_conclusions"))
        for label, text in w.conclusions:
            doc.add_heading(label, level=3)
            for line in text.splitlines() or [""]:
                doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
