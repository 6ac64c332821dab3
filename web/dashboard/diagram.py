"""Process diagrams with Mermaid: the stages of a process as a flow (each stage coloured by
its state), and the four state machines from ``workflow.machines.mermaid``.

The vendored ``mermaid.min.js`` and the small ``diagram.js`` that starts it are static files
of this blueprint; the page's CSP allows scripts from our own origin and nothing else (no
inline script, no CDN). Without JavaScript the Mermaid text stays visible in a ``<pre>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, render_template, request

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow import machines, queries
from workflow.labels import label
from workflow.service import bound_for

#: The diagram page's Content-Security-Policy: like the app's, but scripts from our own
#: origin may run, and Mermaid may set the styles of the SVG it draws.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

MACHINES = ("process", "stage", "questionnaire_task", "approval_step")


@dataclass(frozen=True)
class Diagram:
    id: str
    title: str
    text: str


def _mermaid_text(value: str) -> str:
    """Text inside a quoted Mermaid label: quotes and angle brackets as entity codes."""
    return (
        value.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def process_flow(key: str) -> Diagram | None:
    """The stages of a process as a left-to-right flow, coloured by their state."""
    with state().db.sessions() as s:
        row = s.scalar(reads.select_process(key))
        if row is None:
            return None
        bound = bound_for(row)
        status = queries.process_status(s, key, bound)
    by_id = {x.id: x for x in status.stages}
    lines = ["flowchart LR"]
    ids = {b.id: f"s{i}" for i, b in enumerate(bound.stages)}
    for b in bound.stages:
        st = by_id[b.id]
        text = f"{b.definition.name}<br/>{label(b.kind, lang())}: {label(st.status, lang())}"
        lines.append(f'    {ids[b.id]}["{_mermaid_text(text).replace("#lt;br/#gt;", "<br/>")}"]')
    for b in bound.stages:
        for r in bound.bundle.process.requirements(b.id):
            lines.append(f"    {ids[r]} --> {ids[b.id]}")
    for state_name, fill, stroke in (
        ("pending", "#f3f2f1", "#505a5f"),
        ("open", "#d2e2f1", "#1a4f8b"),
        ("completed", "#cce2d8", "#00703c"),
        ("blocked", "#f6d7d2", "#b3261e"),
        ("cancelled", "#e0e0e0", "#484949"),
    ):
        members = [ids[x.id] for x in status.stages if x.status == state_name]
        lines.append(f"    classDef {state_name} fill:{fill},stroke:{stroke},color:#0b0c0c")
        if members:
            lines.append(f"    class {','.join(members)} {state_name}")
    return Diagram("flow", row.title, "\n".join(lines))


def machine_chart(name: str) -> Diagram:
    """A state machine with the states and arrows in the page's language."""
    text = machines.mermaid(
        name,
        state_label=lambda s: _mermaid_text(label(s, lang())),
        trigger_label=lambda t: _mermaid_text(dt(f"trigger_{t}")),
    )
    return Diagram(name, name, text)


@bp.get("/diagram")
def diagram() -> Response:
    key = request.args.get("process", "")
    with state().db.sessions() as s:
        keys = list(reads.process_keys(s).values())
    if not key and len(keys) == 1:
        key = keys[0]
    flow = process_flow(key) if key else None
    charts = [machine_chart(name) for name in MACHINES]
    response = Response(
        render_template("dashboard/diagram.html", flow=flow, charts=charts, keys=keys, chosen=key)
    )
    response.headers["Content-Security-Policy"] = CSP
    return response
