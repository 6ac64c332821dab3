"""The compiled report of a questionnaire stage, for the dialogue forum.

Read in one session: the latest submitted answer per party, the parties exempted from the
stage and the secretariat's summaries; the figures come from the pure
``workflow.synthesis.synthesise``. ``figure_tables`` gives the same figures as tables for the
XLSX, numbers as numbers (a share as a percentage with one decimal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import summaries
from workflow.calendar import to_local
from workflow.definition import QuestionnaireStage
from workflow.errors import NotFound
from workflow.exports import Table, latest_answers
from workflow.storage.models import ProcessRow, TaskRow
from workflow.summaries import SummaryVersion
from workflow.synthesis import (
    Participant,
    QuestionFigures,
    SectionFigures,
    Submitted,
    Synthesis,
    synthesise,
)
from workflow.timeline import BoundProcess

TYPE_NAMES = {
    "single_choice": "Enkeltvalg",
    "multiple_choice": "Flervalg",
    "scale": "Skala",
    "text": "Fritekst",
    "file": "Fil",
}
STATUS_NAMES = {
    "answered": "Svaret",
    "late": "Svaret for sent",
    "exempt": "Fritaget",
    "missing": "Ikke svaret",
}


@dataclass(frozen=True)
class ReportSection:
    """A section's figures with the secretariat's summary of it (newest first)."""

    figures: SectionFigures
    versions: tuple[SummaryVersion, ...] = ()

    @property
    def id(self) -> str:
        return self.figures.id

    @property
    def title(self) -> str:
        return self.figures.title

    @property
    def focus_area(self) -> str:
        return self.figures.focus_area

    @property
    def questions(self) -> tuple[QuestionFigures, ...]:
        return self.figures.questions

    @property
    def summary(self) -> SummaryVersion | None:
        return self.versions[0] if self.versions else None


@dataclass(frozen=True)
class CompiledReport:
    """The figures of a questionnaire stage by section, with the secretariat's summaries."""

    title: str
    stage_id: str
    stage_name: str
    synthesis: Synthesis
    sections: tuple[ReportSection, ...]
    overall: tuple[SummaryVersion, ...] = ()
    """The versions of the summary of the whole report, newest first."""

    @property
    def answered(self) -> int:
        return self.synthesis.coverage.submitted

    @property
    def parties(self) -> int:
        return self.synthesis.coverage.total

    @property
    def summary(self) -> SummaryVersion | None:
        return self.overall[0] if self.overall else None


def compiled_report(
    s: Session, row: ProcessRow, bound: BoundProcess, stage_id: str
) -> CompiledReport:
    try:
        d = bound.stage(stage_id).definition
    except KeyError:
        raise NotFound(
            f"Processen {row.key} har ingen fase {stage_id!r}.",
            en=f"The process {row.key} has no stage {stage_id!r}.",
        ) from None
    if not isinstance(d, QuestionnaireStage):
        raise NotFound(
            f"Fasen {stage_id!r} er ikke et spørgeskema; den har ingen rapport.",
            en=f"The stage {stage_id!r} is not a questionnaire; it has no report.",
        )
    q = bound.bundle.questionnaires[d.questionnaire]
    names = {p.slug: p.name for p in bound.bundle.parties.parties}
    answers = {
        slug: Submitted(
            slug, a.data, a.late, a.version, a.submitted_at, a.by_mail, a.questionnaire_version
        )
        for slug, a in latest_answers(s, row.id, stage_id).items()
    }
    exempt = frozenset(
        s.scalars(
            select(TaskRow.party).where(
                TaskRow.process_id == row.id,
                TaskRow.stage_id == stage_id,
                TaskRow.status == "exempt",
            )
        )
    )
    synthesis = synthesise(
        q,
        [Participant(slug, names.get(slug, slug)) for slug in bound.bundle.participants],
        answers,
        exempt=exempt,
        first=d.report_questions,
        definition_hash=row.definition_hash,
    )
    saved = summaries.history(s, row.id, stage_id)
    return CompiledReport(
        row.title,
        stage_id,
        d.name,
        synthesis,
        tuple(ReportSection(sec, tuple(saved.get(sec.id, ()))) for sec in synthesis.sections),
        tuple(saved.get(summaries.WHOLE_REPORT, ())),
    )


# ---------------------------------------------------------------------- the figures as tables


def _local(dt: datetime | None) -> datetime | None:
    """Naive Danish local time: openpyxl refuses aware datetimes."""
    return to_local(dt).replace(tzinfo=None) if dt else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percent(share: float) -> float:
    return round(share * 100, 1)


def figure_tables(report: CompiledReport) -> list[Table]:
    """The report's figures as sheets: about, coverage, overview, choices, scales, free text
    and the summaries."""
    syn = report.synthesis
    cov = syn.coverage
    about = Table(
        "Om rapporten",
        ["Felt", "Værdi"],
        [
            ["Proces", report.title],
            ["Fase", report.stage_name],
            ["Spørgeskema", f"{syn.questionnaire_title} ({cov.questionnaire_id})"],
            ["Spørgeskemaets version", cov.questionnaire_version],
            ["Definitionens SHA-256", cov.definition_hash],
            ["Parter", cov.total],
            *[[STATUS_NAMES[x], cov.count(x)] for x in ("answered", "late", "exempt", "missing")],
        ],
    )
    coverage = Table(
        "Dækning",
        ["Part", "Status", "Svarets version", "Indsendt", "Spørgeskemaets version", "Besvaret"],
        [
            [
                x.name,
                STATUS_NAMES[x.status] + (" (pr. mail)" if x.by_mail else ""),
                x.version,
                _local(x.submitted_at),
                x.questionnaire_version,
                "; ".join(x.answered),
            ]
            for x in cov.lines
        ],
    )
    overview: list[list[object]] = []
    choices: list[list[object]] = []
    scales: list[list[object]] = []
    texts: list[list[object]] = []
    for sec in report.sections:
        for q in sec.questions:
            overview.append(
                [sec.title, q.label, TYPE_NAMES[q.type], q.answered, _round(q.mean), q.median]
            )
            for c in q.ranking:
                choices.append(
                    [
                        sec.title,
                        q.label,
                        c.label,
                        c.count,
                        _percent(c.share),
                        c.rank,
                        q.answered,
                        ", ".join(c.parties),
                    ]
                )
            if q.type == "scale":
                for c in q.counts:
                    scales.append(
                        [
                            sec.title,
                            q.label,
                            int(c.value),
                            c.label,
                            c.count,
                            _percent(c.share),
                            ", ".join(c.parties),
                        ]
                    )
            for t in q.texts:
                texts.append([sec.title, q.label, t.party_name, t.text, "ja" if t.late else "nej"])
    section_titles = {sec.id: sec.title for sec in report.sections}
    summaries_rows = [
        [
            section_titles.get(v.section, "Hele rapporten"),
            v.version,
            v.author,
            _local(v.saved_at),
            v.text,
        ]
        for v in (report.summary, *(sec.summary for sec in report.sections))
        if v is not None
    ]
    return [
        about,
        coverage,
        Table(
            "Oversigt",
            ["Afsnit", "Spørgsmål", "Type", "Besvaret", "Gennemsnit", "Median"],
            overview,
        ),
        Table(
            "Valg",
            [
                "Afsnit",
                "Spørgsmål",
                "Svarmulighed",
                "Antal",
                "Andel (%)",
                "Placering",
                "Besvaret",
                "Parter",
            ],
            choices,
        ),
        Table(
            "Skalaer",
            ["Afsnit", "Spørgsmål", "Værdi", "Betegnelse", "Antal", "Andel (%)", "Parter"],
            scales,
        ),
        Table("Fritekst", ["Afsnit", "Spørgsmål", "Part", "Svar", "For sent"], texts),
        Table(
            "Sekretariatets opsamling",
            ["Afsnit", "Version", "Forfatter", "Gemt", "Tekst"],
            summaries_rows,
        ),
    ]
