"""The secretariat's summary ("Sekretariatets opsamling") of a questionnaire report.

One text per section of the questionnaire (a direction, a focus area, a theme: the
questionnaire's ``sections``), keyed by the section's id, and one for the whole report
(``WHOLE_REPORT``, the empty key, which no section id can be). Every save is a new version
with its author and time; nothing is overwritten. A save names the version its editor
started from, so two people editing the same text cannot silently overwrite each other:
the second save is refused with who saved in between. Each save is an audit event
(``report_summary_saved``) in the same transaction.

The text is plain: blank lines separate paragraphs, and lines that start with ``-``, ``*``
or ``•`` are list items (``blocks``), as the seeds' summaries are written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.dates import format_short
from workflow.definition import QuestionnaireStage
from workflow.errors import ConcurrentUpdate, GuardRefused, NotFound
from workflow.service import bound_for, system_clock
from workflow.storage.db import Database
from workflow.storage.models import EventRow, ProcessRow, ReportSummaryRow
from workflow.validation import clean_text

log = logging.getLogger(__name__)

#: The section key of the summary of the whole report (shown above every section).
WHOLE_REPORT = ""
#: Longest summary accepted (characters): several pages of text.
TEXT_MAX = 20_000
BULLETS = ("- ", "* ", "• ")


@dataclass(frozen=True)
class SummaryVersion:
    section: str
    version: int
    text: str
    author: str
    saved_at: datetime

    @classmethod
    def from_row(cls, row: ReportSummaryRow) -> SummaryVersion:
        return cls(row.section, row.version, row.text, row.author, row.saved_at)


@dataclass(frozen=True)
class Block:
    kind: Literal["paragraph", "item"]
    text: str


def blocks(text: str) -> list[Block]:
    """Paragraphs (split at blank lines; single line breaks kept) and list items."""
    out: list[Block] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:
            out.append(Block("paragraph", "\n".join(lines)))
            lines.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith(BULLETS):
            flush()
            out.append(Block("item", line[2:].strip()))
        else:
            lines.append(line)
    flush()
    return out


def history(s: Session, process_id: int, stage_id: str) -> dict[str, list[SummaryVersion]]:
    """Every version per section key, newest first."""
    out: dict[str, list[SummaryVersion]] = {}
    rows = s.scalars(
        select(ReportSummaryRow)
        .where(ReportSummaryRow.process_id == process_id, ReportSummaryRow.stage_id == stage_id)
        .order_by(ReportSummaryRow.section, ReportSummaryRow.version.desc())
    )
    for row in rows:
        out.setdefault(row.section, []).append(SummaryVersion.from_row(row))
    return out


def save_summary(
    db: Database,
    key: str,
    stage_id: str,
    section: str,
    text: str,
    *,
    based_on: int,
    at: datetime,
    actor: str,
    author: str = "",
) -> int:
    """Save ``text`` as the newest version of a section's summary; returns its version.

    ``based_on`` is the version the editor saw (0 for none). ``actor`` names who acted in
    the audit log; ``author`` is the name shown with the version (by default ``actor``).
    Saving the text that is already the newest version changes nothing and returns it."""
    text = clean_text(text).strip()
    if len(text) > TEXT_MAX:
        raise GuardRefused(
            f"Opsummeringen er {len(text)} tegn lang; højst {TEXT_MAX} tegn gemmes.",
            en=f"The summary is {len(text)} characters long; at most {TEXT_MAX} are kept.",
        )
    with db.transaction() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        if row is None:
            raise NotFound(f"Processen {key!r} findes ikke.", en=f"No process {key!r}.")
        _check_section(row, stage_id, section)
        newest = s.scalar(
            select(ReportSummaryRow)
            .where(
                ReportSummaryRow.process_id == row.id,
                ReportSummaryRow.stage_id == stage_id,
                ReportSummaryRow.section == section,
            )
            .order_by(ReportSummaryRow.version.desc())
            .limit(1)
        )
        current = newest.version if newest else 0
        if newest is not None and current != based_on:
            raise ConcurrentUpdate(
                f"{newest.author} gemte version {current} af denne opsummering "
                f"{format_short(newest.saved_at)}, efter du åbnede den; genindlæs siden, flet "
                "din tekst ind i den nye, og gem igen",
                en=f"{newest.author} saved version {current} of this summary "
                f"{format_short(newest.saved_at, 'en')} after you opened it; "
                "reload the page, merge your text into theirs and save again",
            )
        if newest is not None and newest.text == text:
            return current
        version = current + 1
        s.add(
            ReportSummaryRow(
                process_id=row.id,
                stage_id=stage_id,
                section=section,
                version=version,
                text=text,
                author=author or actor,
                saved_at=at,
            )
        )
        s.add(
            EventRow(
                process_id=row.id,
                at=at,
                recorded_at=system_clock(),
                actor=actor,
                kind="report_summary_saved",
                stage_id=stage_id,
                data={"section": section, "version": version, "characters": len(text)},
            )
        )
    log.info(
        "report summary saved",
        extra={"action": "report_summary_saved", "process": key, "stage": stage_id},
    )
    return version


def _check_section(row: ProcessRow, stage_id: str, section: str) -> None:
    bound = bound_for(row)
    try:
        stage = bound.stage(stage_id).definition
    except KeyError:
        raise NotFound(
            f"Processen {row.key} har ingen fase {stage_id!r}.",
            en=f"The process {row.key} has no stage {stage_id!r}.",
        ) from None
    if not isinstance(stage, QuestionnaireStage):
        raise NotFound(
            f"Fasen {stage_id!r} er ikke et spørgeskema; den har ingen rapport.",
            en=f"The stage {stage_id!r} is not a questionnaire; it has no report.",
        )
    sections = [x.id for x in bound.bundle.questionnaires[stage.questionnaire].sections]
    if section != WHOLE_REPORT and section not in sections:
        raise NotFound(
            f"Spørgeskemaet i {stage_id!r} har intet afsnit {section!r}; "
            f"dets afsnit er {', '.join(sections)}.",
            en=f"The questionnaire of {stage_id!r} has no section {section!r}; "
            f"its sections are {', '.join(sections)}.",
        )
