"""Exports: the answers (XLSX, one sheet per questionnaire; CSV per questionnaire), the
approval record (XLSX and CSV), and the compiled report for the dialogue forum (a printable
page and a PDF). Every file is built from ``workflow.exports``; CSV cells that would start a
formula are neutralised there, XLSX cells are always text."""

from __future__ import annotations

from flask import abort, render_template
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.attachments import pdf_links, report_attachments
from web.dashboard.blueprint import bp
from web.dashboard.report_pdf import report_pdf as build_pdf
from web.state import state
from workflow import exports
from workflow.definition import QuestionnaireStage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"


def _file(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get("/proces/<key>/eksport/svar.xlsx")
def export_answers_xlsx(key: str) -> Response:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        tables = exports.answer_tables(s, row, bound)
    return _file(exports.to_xlsx(tables), XLSX, f"{key}-svar.xlsx")


@bp.get("/proces/<key>/eksport/svar-<stage>.csv")
def export_answers_csv(key: str, stage: str) -> Response:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        bst = reads.stage_or_404(bound, stage)
        if not isinstance(bst.definition, QuestionnaireStage):
            abort(404)
        tables = exports.answer_tables(s, row, bound)
    names = [b.definition.name for b in bound.stages if b.kind == "questionnaire"]
    table = tables[names.index(bst.definition.name)]
    return _file(exports.to_csv(table), CSV, f"{key}-svar-{stage}.csv")


@bp.get("/proces/<key>/eksport/godkendelser.xlsx")
def export_approvals_xlsx(key: str) -> Response:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        table = exports.approval_table(s, row, bound)
    return _file(exports.to_xlsx([table]), XLSX, f"{key}-godkendelser.xlsx")


@bp.get("/proces/<key>/eksport/godkendelser.csv")
def export_approvals_csv(key: str) -> Response:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        table = exports.approval_table(s, row, bound)
    return _file(exports.to_csv(table), CSV, f"{key}-godkendelser.csv")


def _report(key: str, stage: str) -> exports.CompiledReport:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        bst = reads.stage_or_404(bound, stage)
        if not isinstance(bst.definition, QuestionnaireStage):
            abort(404)
        return exports.compiled_report(s, row, bound, stage)


@bp.get("/proces/<key>/rapport/<stage>")
def report(key: str, stage: str) -> str:
    return render_template(
        "dashboard/report.html",
        report=_report(key, stage),
        key=key,
        stage=stage,
        attachments=report_attachments(key, stage),
    )


@bp.get("/proces/<key>/rapport/<stage>.pdf")
def report_pdf(key: str, stage: str) -> Response:
    report = _report(key, stage)
    links = pdf_links(key, report_attachments(key, stage))
    content = build_pdf(report, state().now(), attachments=links)
    return _file(content, PDF, f"{key}-rapport-{stage}.pdf")
