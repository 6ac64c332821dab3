"""Exports: the answers (XLSX, one sheet per questionnaire; CSV per questionnaire), the
approval record (XLSX and CSV), and the compiled report for the dialogue forum (a printable
page and a PDF). Every file is built from ``workflow.exports``; CSV text cells that would start
a formula are neutralised there, XLSX text cells are always text, and numbers stay numbers."""

from __future__ import annotations

from flask import abort
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.state import state
from workflow import exports
from workflow.definition import QuestionnaireStage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Werkzeug adds ``; charset=utf-8`` to a ``text/`` type itself: naming it here gave two.
CSV = "text/csv"


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
