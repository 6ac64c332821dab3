"""Files the parties sent, for the secretariat to open: the minutes a council attached to an
approval (``minutes_file`` in the approval step's decision, kept apart from the agreement)
and the files uploaded as answers to a ``file`` question. The party page, the process page
and the compiled report link to them; a minutes web address is shown as a link.

A file is found through what the process recorded for that party, never through the URL
alone: a stored name that none of the party's answers or decisions names is a 404, and so
is a file whose content is no longer what was recorded (its type by content, its SHA-256).
It is always sent as an attachment (``web.downloads.attachment``), never shown inline. The
dashboard's guard has already sent a visitor who is not logged in to the log-in page.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.dashboard.texts import dt
from web.downloads import attachment
from web.i18n import lang
from web.state import state
from workflow.definition import QuestionnaireStage
from workflow.exports import latest_answers
from workflow.file_types import STORED_NAME, file_kind
from workflow.labels import label
from workflow.storage.models import AnswerRow, ProcessRow, TaskRow
from workflow.timeline import BoundProcess

log = logging.getLogger(__name__)

#: A web address that may be a link: http or https, nothing that could be a script.
WEB_ADDRESS = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    """One file a party sent (``stored_as`` set), or a minutes web address (``url`` set)."""

    party: str
    party_name: str
    stage_name: str
    what: str  # the question's label, or "Referat (Socialudvalg)" for an approval step
    filename: str = ""
    stored_as: str = ""
    size: int = 0
    kind: str = ""
    url: str = ""


def web_link(value: str) -> str:
    """``value`` if it is an http(s) address that may be shown as a link, else ""."""
    text = (value or "").strip()
    return text if WEB_ADDRESS.fullmatch(text) else ""


def file_size(size: int) -> str:
    """A file size as a reader says it: ``820 B``, ``14 kB``, ``1,2 MB`` (``1.2 MB`` in English)."""
    if size < 1000:
        text = f"{size} B"
    elif size < 1_000_000:
        text = f"{round(size / 1000)} kB"
    else:
        text = f"{size / 1_000_000:.1f} MB"
    return text if lang() == "en" else text.replace(".", ",")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"file_size": file_size, "web_link": web_link}


def minutes_reference(decision: Mapping[str, Any]) -> str:
    """What the decision says about its minutes besides the attached file: the web address
    (or other text) the council gave. ``minutes`` names the file first when both were given
    (``"Referat.pdf · https://…"``)."""
    text = str(decision.get("minutes") or "")
    file = decision.get("minutes_file")
    name = str(file.get("filename", "")) if isinstance(file, Mapping) else ""
    if name and text == name:
        return ""
    if name and text.startswith(f"{name} · "):
        return text[len(name) + 3 :]
    return text


def _file(value: Any, party: str, party_name: str, stage_name: str, what: str) -> Attachment | None:
    """The stored-file mapping as an attachment, if it has the shape the upload store made."""
    if not isinstance(value, Mapping):
        return None
    stored_as = str(value.get("stored_as", ""))
    if not STORED_NAME.fullmatch(stored_as):
        return None
    try:
        size = int(value.get("size", 0))
    except (TypeError, ValueError):
        size = 0
    return Attachment(
        party,
        party_name,
        stage_name,
        what,
        filename=str(value.get("filename", "")) or stored_as,
        stored_as=stored_as,
        size=size,
        kind=str(value.get("kind", "")),
    )


def minutes_of(task: TaskRow, party_name: str, stage_name: str) -> list[Attachment]:
    """An approval step's minutes: the attached file, and the web address if one was given."""
    decision = task.decision or {}
    what = dt("minutes_of_step", step=label(task.step, lang())) if task.step else dt("minutes")
    out = []
    file = _file(decision.get("minutes_file"), task.party, party_name, stage_name, what)
    if file is not None:
        out.append(file)
    url = web_link(minutes_reference(decision))
    if url:
        out.append(Attachment(task.party, party_name, stage_name, what, url=url))
    return out


def answer_files(a: AnswerRow, bound: BoundProcess, party_name: str) -> dict[str, Attachment]:
    """Question id → the file uploaded as that answer (one answer version)."""
    definition = bound.stage(a.stage_id).definition
    if not isinstance(definition, QuestionnaireStage):
        return {}
    questionnaire = bound.bundle.questionnaires[definition.questionnaire]
    out = {}
    for q in questionnaire.questions:
        if q.type == "file":
            found = _file(a.data.get(q.id), a.party, party_name, definition.name, q.label)
            if found is not None:
                out[q.id] = found
    return out


def process_attachments(
    s: Session, row: ProcessRow, bound: BoundProcess
) -> list[tuple[str, list[Attachment]]]:
    """Per party (in the definition's order, only parties with something): the files of its
    newest submitted answers, then its approval minutes (files and web addresses)."""
    names = reads.party_names(bound)
    found: dict[str, list[Attachment]] = {p: [] for p in bound.bundle.participants}
    for bst in bound.stages:
        if bst.kind == "questionnaire":
            for party, a in latest_answers(s, row.id, bst.id).items():
                if party in found:
                    found[party].extend(answer_files(a, bound, names.get(party, party)).values())
    for t in reads.approval_tasks(s, row):
        if t.party in found:
            stage_name = bound.stage(t.stage_id).definition.name
            found[t.party].extend(minutes_of(t, names.get(t.party, t.party), stage_name))
    return [(names.get(p, p), items) for p, items in found.items() if items]


def stage_attachments(
    s: Session, row: ProcessRow, bound: BoundProcess, stage_id: str
) -> list[tuple[str, list[Attachment]]]:
    """Per party, the files of its newest submitted answer to one questionnaire stage (for
    the compiled report)."""
    names = reads.party_names(bound)
    answers = latest_answers(s, row.id, stage_id)
    out = []
    for party in bound.bundle.participants:
        a = answers.get(party)
        files = list(answer_files(a, bound, names.get(party, party)).values()) if a else []
        if files:
            out.append((names.get(party, party), files))
    return out


def report_attachments(key: str, stage_id: str) -> list[tuple[str, list[Attachment]]]:
    """``stage_attachments`` for the compiled report of one questionnaire stage."""
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        return stage_attachments(s, row, bound, stage_id)


def pdf_links(
    key: str, found: list[tuple[str, list[Attachment]]]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The report's attachments as the PDF prints them: per party, the text and full address
    of each download (the reader logs in to open it)."""
    return [
        (
            party_name,
            [
                (
                    f"{a.what}: {a.filename} ({a.kind.upper()}, {file_size(a.size)})",
                    url_for(
                        "dashboard.attachment_file",
                        key=key,
                        party=a.party,
                        stored_as=a.stored_as,
                        _external=True,
                    ),
                )
                for a in items
            ],
        )
        for party_name, items in found
    ]


def _recorded(s: Session, row: ProcessRow, bound: BoundProcess, party: str) -> Iterable[Any]:
    """Every stored-file mapping the party's answers (any version, drafts too) and approval
    decisions name."""
    for t in reads.tasks_of(s, row, party):
        yield (t.decision or {}).get("minutes_file")
    for a in reads.answers_of(s, row, party):
        definition = bound.stage(a.stage_id).definition
        if isinstance(definition, QuestionnaireStage):
            for q in bound.bundle.questionnaires[definition.questionnaire].questions:
                if q.type == "file":
                    yield a.data.get(q.id)


@bp.get("/proces/<key>/part/<party>/bilag/<stored_as>")
def attachment_file(key: str, party: str, stored_as: str) -> Response:
    """One file the party sent, as an attachment under its own (cleaned) name."""
    if not STORED_NAME.fullmatch(stored_as):
        abort(404)
    st = state()
    with st.db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        reads.party_or_404(bound, party)
        recorded = next(
            (
                v
                for v in _recorded(s, row, bound, party)
                if isinstance(v, Mapping) and v.get("stored_as") == stored_as
            ),
            None,
        )
    if recorded is None:
        abort(404)
    path = st.upload_dir / stored_as
    try:
        content = path.read_bytes()
    except OSError:
        log.warning(
            "attachment %s of %s/%s is missing from the upload folder",
            stored_as,
            key,
            party,
            extra={"action": "attachment_missing"},
        )
        abort(404)
    kind = file_kind(io.BytesIO(content))
    if kind != recorded.get("kind") or hashlib.sha256(content).hexdigest() != recorded.get(
        "sha256"
    ):
        log.warning(
            "attachment %s of %s/%s is not the file that was recorded (type %s)",
            stored_as,
            key,
            party,
            kind,
            extra={"action": "attachment_changed"},
        )
        abort(404)
    return attachment(content, str(recorded.get("filename") or ""), fallback="bilag")
