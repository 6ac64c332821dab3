"""The compiled report of a questionnaire stage for the dialogue forum: the page (figures with
server-drawn SVG charts, the coverage, the secretariat's summary per section), the
summary form (admins; CSRF-protected, audited, versioned) and the downloads: PDF with the
charts drawn by ReportLab, DOCX with Word's own headings and tables, and the figures as XLSX.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField

from web.dashboard import reads
from web.dashboard.attachments import pdf_links, report_attachments
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.charts import report_charts
from web.dashboard.forms import max_length
from web.dashboard.forum_send import forum_sends
from web.dashboard.report_docx import report_docx as build_docx
from web.dashboard.report_pdf import report_pdf as build_pdf
from web.dashboard.report_texts import decimal, percent
from web.dashboard.texts import dt
from web.dashboard.workshop_report import sections, with_workshops_docx, workshop_report
from web.state import state
from workflow import exports, summaries
from workflow.errors import ConcurrentUpdate, NotFound
from workflow.report import CompiledReport, compiled_report, figure_tables

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SummaryForm(FlaskForm):
    """One section's summary: its key, the version the editor saw, and the text."""

    section = HiddenField()
    based_on = HiddenField()
    text = TextAreaField(
        "f_summary_text",
        validators=[max_length(summaries.TEXT_MAX)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )


def _report(key: str, stage: str) -> CompiledReport:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        reads.stage_or_404(bound, stage)
        try:
            return compiled_report(s, row, bound, stage)
        except NotFound:
            abort(404)


def _page(key: str, stage: str, **editing: Any) -> str:
    report = _report(key, stage)
    return render_template(
        "dashboard/report.html",
        report=report,
        charts=report_charts(report),
        key=key,
        stage=stage,
        whole=summaries.WHOLE_REPORT,
        blocks=summaries.blocks,
        percent=percent,
        decimal=decimal,
        editing=editing,
        attachments=report_attachments(key, stage),
        forums=forum_sends(key, stage),
        **workshop_report(key),
    )


@bp.get("/proces/<key>/rapport/<stage>")
def report(key: str, stage: str) -> str:
    return _page(key, stage)


@bp.post("/proces/<key>/rapport/<stage>/opsamling")
@admin_only
def report_summary(key: str, stage: str) -> Response | tuple[str, int]:
    form = SummaryForm()
    section = form.section.data or ""
    if not form.validate():
        return _page(key, stage, section=section, form=form), 400
    try:
        based_on = int(form.based_on.data or "0")
    except ValueError:
        based_on = -1  # a tampered field: refused as a stale edit below, nothing is lost
    st = state()
    try:
        version = summaries.save_summary(
            st.db,
            key,
            stage,
            section,
            form.text.data or "",
            based_on=based_on,
            at=st.now(),
            actor=the_user().actor,
            author=the_user().name,
        )
    except NotFound:
        abort(404)
    except ConcurrentUpdate:
        return _page(key, stage, section=section, form=form, conflict=True), 409
    if version == based_on:
        flash(dt("summary_unchanged"), "success")
    else:
        flash(dt("summary_saved", version=version), "success")
    anchor = f"#summary-{section or '_report'}"
    return redirect(url_for("dashboard.report", key=key, stage=stage) + anchor, code=303)


def _file(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get("/proces/<key>/rapport/<stage>.pdf")
def report_pdf(key: str, stage: str) -> Response:
    report = _report(key, stage)
    links = pdf_links(key, report_attachments(key, stage))
    content = build_pdf(report, state().now(), attachments=links)
    return _file(content, PDF, f"{key}-rapport-{stage}.pdf")


@bp.get("/proces/<key>/rapport/<stage>.docx")
def report_docx(key: str, stage: str) -> Response:
    content = with_workshops_docx(build_docx(_report(key, stage), state().now()), sections(key))
    return _file(content, DOCX, f"{key}-rapport-{stage}.docx")


@bp.get("/proces/<key>/rapport/<stage>.xlsx")
def report_xlsx(key: str, stage: str) -> Response:
    content = exports.to_xlsx(figure_tables(_report(key, stage)))
    return _file(content, XLSX, f"{key}-tal-{stage}.xlsx")
