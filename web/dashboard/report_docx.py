"""The compiled report as a Word document (python-docx), to edit further in Word.

Everything is Word's own structure, not pictures: the title in the Title style, sections
and questions as Heading 1 and 2, the secretariat's summary as a Heading 2 with Normal
paragraphs and List Bullet items, and the figures as tables in the Table Grid style whose
first row is a header row (repeated on every page, read as headers by a screen reader). The
charts of the page and the PDF are tables of counts here. Texts follow the page's language.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from web.dashboard.report_texts import decimal, percent
from web.dashboard.templating import moment
from web.dashboard.texts import dt
from workflow.report import CompiledReport, ReportSection
from workflow.summaries import SummaryVersion, blocks
from workflow.synthesis import QuestionFigures

TABLE_STYLE = "Table Grid"


def report_docx(report: CompiledReport, made_at: datetime) -> bytes:
    from docx import Document

    doc = Document()
    props = doc.core_properties
    props.title = f"{dt('report_title')}: {report.stage_name}"
    props.author = "Aftaleflow"
    props.language = "da-DK"
    doc.add_heading(f"{dt('report_title')}: {report.stage_name}", level=0)
    doc.add_paragraph(report.title)
    doc.add_paragraph(
        f"{dt('report_answered', answered=report.answered, parties=report.parties)} "
        f"{dt('report_made', at=moment(made_at))}"
    )
    if report.summary is not None:
        doc.add_heading(dt("summary_overall"), level=1)
        _summary(doc, report.summary)
    _coverage(doc, report)
    for sec in report.sections:
        _section(doc, sec, report.answered)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _summary(doc: Any, version: SummaryVersion) -> None:
    for block in blocks(version.text):
        style = "List Bullet" if block.kind == "item" else None
        doc.add_paragraph(block.text, style=style)
    by = doc.add_paragraph()
    by.add_run(
        dt(
            "summary_by",
            version=version.version,
            author=version.author,
            at=moment(version.saved_at),
        )
    ).italic = True


def _coverage(doc: Any, report: CompiledReport) -> None:
    cov = report.synthesis.coverage
    add_heading = doc.add_heading
    add_paragraph = doc.add_paragraph
    add_heading(dt("report_coverage"), level=1)
    add_paragraph(
        dt(
            "report_coverage_line",
            answered=cov.count("answered"),
            late=cov.count("late"),
            exempt=cov.count("exempt"),
            missing=cov.count("missing"),
        )
    )
    add_paragraph(
        dt(
            "report_version",
            title=report.synthesis.questionnaire_title,
            id=cov.questionnaire_id,
            version=cov.questionnaire_version,
            hash=cov.definition_hash,
        )
    )
    _table(
        doc,
        ["report_col_party", "report_col_status", "report_col_version", "report_col_submitted"],
        [
            [
                x.name,
                dt(f"report_status_{x.status}") + (f" ({dt('by_mail')})" if x.by_mail else ""),
                "" if x.version is None else str(x.version),
                moment(x.submitted_at),
            ]
            for x in cov.lines
        ],
    )


def _section(doc: Any, sec: ReportSection, answered: int) -> None:
    add_heading = doc.add_heading
    heading = sec.title
    if sec.focus_area and sec.focus_area != sec.title:
        heading += f" ({sec.focus_area})"
    add_heading(heading, level=1)
    if sec.summary is not None:
        add_heading(dt("summary_heading"), level=2)
        _summary(doc, sec.summary)
    for q in sec.questions:
        add_heading(q.label, level=2)
        _question(doc, q, answered)


def _question(doc: Any, q: QuestionFigures, answered: int) -> None:
    add_paragraph = doc.add_paragraph
    if not q.answered:
        add_paragraph(dt("report_no_answers"))
        return
    add_paragraph(dt("report_n", n=q.answered, of=answered))
    if q.is_choice:
        _table(
            doc,
            [
                "report_col_rank",
                "report_col_option",
                "report_col_count",
                "report_col_share",
                "report_col_parties",
            ],
            [
                [str(c.rank), c.label, str(c.count), percent(c.share), ", ".join(c.parties)]
                for c in q.ranking
            ],
        )
        note = dt("report_ranking_note")
        if q.type == "multiple_choice":
            note += " " + dt("report_multiple_note")
        add_paragraph(note)
    elif q.type == "scale":
        _table(
            doc,
            ["report_col_point", "report_col_count", "report_col_share", "report_col_parties"],
            [
                [
                    f"{c.value} {c.label}".strip(),
                    str(c.count),
                    percent(c.share),
                    ", ".join(c.parties),
                ]
                for c in q.counts
            ],
        )
        add_paragraph(
            dt(
                "report_mean_median",
                mean=decimal(q.mean),
                median=decimal(q.median),
                min=q.counts[0].value,
                max=q.counts[-1].value,
            )
        )
    else:
        _table(
            doc,
            ["report_col_party", "report_col_answer"],
            [
                [t.party_name + (f" ({dt('report_status_late')})" if t.late else ""), t.text]
                for t in q.texts
            ],
        )
    if q.unanswered:
        add_paragraph(dt("report_unanswered", names=", ".join(q.unanswered)))


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = doc.add_table(rows=1, cols=len(header))
    table.style = TABLE_STYLE
    first = table.rows[0]
    flag = OxmlElement("w:tblHeader")  # a header row: repeated on each page, read as headers
    flag.set(qn("w:val"), "true")
    first._tr.get_or_add_trPr().append(flag)
    for cell, key in zip(first.cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(dt(key)).bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
