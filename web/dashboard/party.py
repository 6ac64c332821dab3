"""One party in one process: its contacts (failing addresses flagged), its tasks with the
next automatic mail and the actions on them, every mail sent to it with the SMTP server's
reply, its answers in every version, and its approval steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template
from sqlalchemy.orm import Session

from web.dashboard import reads
from web.dashboard.attachments import (
    Attachment,
    answer_files,
    minutes_of,
    minutes_reference,
    web_link,
)
from web.dashboard.blueprint import bp
from web.dashboard.mail_answers import received_mails
from web.state import state
from workflow import queries
from workflow.contact_book import read_book
from workflow.definition import QuestionnaireStage
from workflow.exports import answer_text
from workflow.storage.models import AnswerRow, DocumentRow, ProcessRow, TaskRow
from workflow.timeline import BoundProcess, BoundStage

ROLES = ("committee_secretary", "director", "council_secretariat")


@dataclass(frozen=True)
class ContactLine:
    role: str
    name: str
    email: str
    failing: str  # why the address is failing, or ""


@dataclass(frozen=True)
class TaskLine:
    stage: BoundStage
    task: TaskRow
    deadline: date | None
    next_mail: queries.UpcomingMail | None
    approved_version: int | None  # the agreement version an approval step approved
    minutes: list[Attachment]  # the minutes file and web address of an approval step
    minutes_text: str  # what the minutes were called when that is not a web address


@dataclass(frozen=True)
class AnswerVersion:
    stage_name: str
    row: AnswerRow
    answers: list[tuple[str, str, Attachment | None]]  # question label, answer text, file


@bp.get("/proces/<key>/part/<party>")
def party(key: str, party: str) -> str:
    st = state()
    now = st.now()
    with st.db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        who = reads.party_or_404(bound, party)
        failing = reads.failing_addresses(s)
        book = read_book(s.connection(), bound.bundle.parties)  # the live contacts
        contacts = [
            ContactLine(role, c.name, c.email, failing.get(c.email.lower(), ""))
            for role in ROLES
            for c in book.addresses(party, role)
        ]
        tasks = _task_lines(s, row, bound, party, who.name)
        mails = reads.outbox(s, reads.OutboxFilter(process=key), party=party).rows
        answers = _answers(reads.answers_of(s, row, party), bound, who.name)
        stage_status = {x.id: x.status for x in queries.process_status(s, key, bound).stages}
        received = received_mails(s, row, party)
    return render_template(
        "dashboard/party.html",
        row=row,
        party=who,
        contacts=contacts,
        tasks=tasks,
        mails=mails,
        answers=answers,
        stage_status=stage_status,
        received=received,
        stage_names={b.id: b.definition.name for b in bound.stages},
        now=now,
    )


def _task_lines(
    s: Session, row: ProcessRow, bound: BoundProcess, party: str, party_name: str
) -> list[TaskLine]:
    upcoming = {
        (m.stage_id, m.step): m for m in queries.upcoming_mails(s, row, bound) if m.party == party
    }
    versions = _versions_by_hash(reads.documents(s, row))
    out = []
    for t in reads.tasks_of(s, row, party):
        bst = bound.stage(t.stage_id)
        got = (t.decision or {}).get("document_hash", "")
        reference = minutes_reference(t.decision or {})
        out.append(
            TaskLine(
                bst,
                t,
                t.deadline_or(bst.deadline),
                upcoming.get((t.stage_id, t.step)),
                versions.get(got) if got else None,
                minutes_of(t, party_name, bst.definition.name),
                "" if web_link(reference) else reference,
            )
        )
    out.sort(key=lambda line: (line.stage.index, line.task.seq))
    return out


def _versions_by_hash(docs: list[DocumentRow]) -> dict[str, int]:
    """SHA-256 → the newest version number with that content."""
    out: dict[str, int] = {}
    for d in sorted(docs, key=lambda d: d.version):
        out[d.sha256] = d.version
    return out


def _answers(rows: list[AnswerRow], bound: BoundProcess, party_name: str) -> list[AnswerVersion]:
    out = []
    for a in rows:
        definition = bound.stage(a.stage_id).definition
        if not isinstance(definition, QuestionnaireStage):
            continue
        questionnaire = bound.bundle.questionnaires[definition.questionnaire]
        files = answer_files(a, bound, party_name)
        lines = [
            (q.label, answer_text(q, a.data.get(q.id)), files.get(q.id))
            for q in questionnaire.questions
            if answer_text(q, a.data.get(q.id))
        ]
        out.append(AnswerVersion(definition.name, a, lines))
    return out
