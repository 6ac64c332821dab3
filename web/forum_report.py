"""The compiled report through a meeting invitee's personal link: ``/rapport/<token>``
(read-only: the figures, the charts and the secretariat's summary) and ``…/<token>.pdf``.

No login: the link is the key, personal to a party, and stops working when the secretariat
revokes it (``workflow.forum_report``). Every way a token can fail is the same plain 404 and
counts as a miss for the client's address, as for the answer links (``web.links``).
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, render_template
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from web.dashboard.charts import report_charts
from web.dashboard.report_pdf import report_pdf
from web.dashboard.report_texts import decimal, percent
from web.dashboard.templating import day, label, moment
from web.dashboard.texts import dt
from web.security import client_address
from web.state import state
from workflow import summaries
from workflow.link_target import LinkNotFound
from workflow.report import CompiledReport, compiled_report
from workflow.report_links import ReportLink, resolve_report_link

bp = Blueprint("forum_report", __name__)


def _resolve(token: str) -> tuple[ReportLink, CompiledReport]:
    st = state()
    address = client_address()
    if st.limiter.blocked(address):
        raise TooManyRequests(retry_after=st.limiter.retry_after(address))
    with st.db.sessions() as s:
        try:
            link = resolve_report_link(s, st.responses.service.link_secret, token, st.now())
        except LinkNotFound:
            st.limiter.miss(address)
            abort(404)
        return link, compiled_report(s, link.row, link.bound, link.source)


@bp.get("/rapport/<token>")
def page(token: str) -> str:
    link, report = _resolve(token)
    return render_template(
        "forum_report.html",
        link=link,
        token=token,
        report=report,
        charts=report_charts(report),
        whole=summaries.WHOLE_REPORT,
        blocks=summaries.blocks,
        percent=percent,
        decimal=decimal,
        editing={},
        dt=dt,
        label=label,
        moment=moment,
        day=day,
        user=SimpleNamespace(is_admin=False),
    )


@bp.get("/rapport/<token>.pdf")
def pdf(token: str) -> Response:
    link, report = _resolve(token)
    content = report_pdf(report, state().now(), attachments=[])
    response = Response(content, mimetype="application/pdf")
    filename = f"{link.row.key}-rapport-{link.source}.pdf"
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
