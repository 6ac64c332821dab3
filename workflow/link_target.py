"""What a personal link points at: its token resolved to one task, at one moment.

A personal link's token is looked up by its SHA-256 only. A token that is malformed, unknown,
revoked, of an older generation than its task (the one just re-issued works until the mail with
its successor is sent), or used after the later of the stage's close
and the party's (extended) deadline plus ``link_grace_days``
(``BoundProcess.link_expires_at``) raises ``LinkNotFound``, which says nothing more: the web
answers every one of them with the same plain 404, so a guesser learns nothing.

Everything a link can read or change is scoped to the ``(process, stage, party, step)`` of
its own task (the ``Target`` resolved here): party A's link can never show party B's answers.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definition import QuestionnaireStage
from workflow.definition_parties import Contact
from workflow.definition_questions import Questionnaire
from workflow.errors import NotFound
from workflow.links import LinkKey, make_token, token_hash
from workflow.planner import past_deadline
from workflow.service import bound_for
from workflow.storage.models import DocumentRow, LinkRow, OutboxRow, ProcessRow, StageRow, TaskRow

#: A token is 32 bytes of HMAC in URL-safe base64 without padding: 43 characters.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

# What a link may do now (``Target.phase``).
OPEN = "open"  # answer or decide
LATE = "late"  # the deadline has passed; a late answer is taken and marked late
DEADLINE_PASSED = "deadline_passed"  # the deadline has passed and late answers are not taken
EXEMPT = "exempt"  # the secretariat exempted the party
DECIDED = "decided"  # the approval step is approved (final)
CLOSED = "closed"  # the stage is closed (or the process cancelled)


class LinkNotFound(NotFound):
    """This link does not work (any more)."""


@dataclass(frozen=True)
class Target:
    """What a personal link points at, resolved at one moment."""

    process_id: int
    process_key: str
    title: str
    stage_id: str
    stage_name: str
    party: str
    party_name: str
    step: str
    kind: str  # questionnaire | approval
    generation: int
    task_status: str
    opened_at: datetime | None
    decision: Mapping[str, Any] | None
    deadline: date | None
    overdue_at: datetime | None
    closes_at: datetime | None
    accept_late: bool
    questionnaire: Questionnaire | None
    secretariat: Contact
    phase: str
    #: The agreement version up for approval (an approval link): version, filename, sha256.
    agreement: Mapping[str, Any] | None = None
    #: A logged-in secretariat user acting through the party's link (the demo's "Åbn
    #: svarlinket"), named in the audit log with the link.
    via: str = ""

    @property
    def actor(self) -> str:
        """Who acted, as the audit log names it: the party through its link, or the
        logged-in user through it ("demo via link:hjorring/socialudvalg")."""
        link = f"link:{self.party}" + (f"/{self.step}" if self.step else "")
        return f"{self.via} via {link}" if self.via else link

    @property
    def can_answer(self) -> bool:
        return self.phase in (OPEN, LATE)


def resolve_target(s: Session, secret: str, token: str, at: datetime, *, via: str = "") -> Target:
    """The task a token belongs to, or ``LinkNotFound`` (forged, revoked, re-issued,
    expired) with no detail. ``via``: the logged-in user acting through the link."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise LinkNotFound()
    row, stage, task, generation = _linked_task(s, token)
    key = LinkKey(row.id, task.stage_id, task.party, task.step, generation)
    if not hmac.compare_digest(make_token(secret, key), token):
        raise LinkNotFound()  # a row that was re-pointed in the database
    bound = bound_for(row)
    bst = bound.stage(task.stage_id)
    deadline = task.deadline_or(bst.deadline)
    expires = bound.link_expires_at(bst, deadline)
    if expires is not None and at > expires:
        raise LinkNotFound()
    definition = bst.definition
    questionnaire = None
    accept_late = False
    if isinstance(definition, QuestionnaireStage):
        questionnaire = bound.bundle.questionnaires[definition.questionnaire]
        accept_late = definition.accept_late
    return Target(
        process_id=row.id,
        process_key=row.key,
        title=row.title,
        stage_id=task.stage_id,
        stage_name=definition.name,
        party=task.party,
        party_name=bound.bundle.parties.get(task.party).name,
        step=task.step,
        kind=task.kind,
        generation=generation,
        task_status=task.status,
        opened_at=task.opened_at,
        decision=dict(task.decision) if task.decision else None,
        deadline=deadline,
        overdue_at=bound.overdue_at(deadline) if deadline else None,
        closes_at=bst.closes_at,
        accept_late=accept_late,
        questionnaire=questionnaire,
        secretariat=bound.bundle.parties.secretariat,
        phase=_phase(
            row.status,
            stage.status,
            task,
            at,
            bst.closes_at,
            late=past_deadline(bound, deadline, at),
            accept_late=accept_late,
        ),
        agreement=_agreement_up(s, row) if task.kind == "approval" else None,
        via=via,
    )


def _linked_task(s: Session, token: str) -> tuple[ProcessRow, StageRow, TaskRow, int]:
    """The process, stage and task of a live link with this token, and the link's generation,
    or ``LinkNotFound``."""
    link = s.scalar(select(LinkRow).where(LinkRow.token_hash == token_hash(token)))
    if link is None or link.revoked_at is not None:
        raise LinkNotFound()
    task = s.scalar(
        select(TaskRow).where(
            TaskRow.process_id == link.process_id,
            TaskRow.stage_id == link.stage_id,
            TaskRow.party == link.party,
            TaskRow.step == link.step,
        )
    )
    if task is None or not _current(s, task, link):
        raise LinkNotFound()
    row = s.get(ProcessRow, link.process_id)
    stage = s.scalar(
        select(StageRow).where(
            StageRow.process_id == link.process_id, StageRow.stage_id == link.stage_id
        )
    )
    if row is None or stage is None:
        raise LinkNotFound()
    return row, stage, task, link.generation


def _current(s: Session, task: TaskRow, link: LinkRow) -> bool:
    """Whether ``link`` is the task's working link: of its generation, one kept when the link
    was re-issued to a new contact, or of the one before while the mail that carries the re-issued link has not been sent yet (a plain revoke marks
    that older link revoked, so it never gets here)."""
    if link.generation == task.link_generation or link.kept:
        return True  # kept: the link of a contact replaced, not revoked (``contact_changes``)
    if link.generation != task.link_generation - 1:
        return False
    status = s.scalar(
        select(OutboxRow.status).where(
            OutboxRow.process_id == task.process_id,
            OutboxRow.kind.in_(("invitation", "approval_request")),
            OutboxRow.stage_id == task.stage_id,
            OutboxRow.party == task.party,
            OutboxRow.step == task.step,
            OutboxRow.seq == link.generation,
        )
    )
    return status is not None and status != "sent"


def _agreement_up(s: Session, row: ProcessRow) -> dict[str, Any] | None:
    """The version up for approval, as an approval link shows and offers it."""
    if not row.approval_document_hash:
        return None
    doc = s.scalar(
        select(DocumentRow)
        .where(DocumentRow.process_id == row.id, DocumentRow.sha256 == row.approval_document_hash)
        .order_by(DocumentRow.version.desc())
    )
    if doc is None:
        return None
    return {"version": doc.version, "filename": doc.filename, "sha256": doc.sha256}


def _phase(
    process_status: str,
    stage_status: str,
    task: TaskRow,
    at: datetime,
    closes_at: datetime | None,
    *,
    late: bool,
    accept_late: bool,
) -> str:
    """What the link may do now; ``late``: the task is past its deadline
    (``workflow.planner.past_deadline``, the one decision of "overdue")."""
    if process_status == "cancelled" or (closes_at is not None and at > closes_at):
        return CLOSED
    if task.kind == "approval":
        if stage_status not in ("open", "blocked"):
            return CLOSED
        if task.status in ("approved", "exempt"):
            return DECIDED
        return OPEN
    if stage_status != "open":
        return CLOSED
    if task.status == "exempt":
        return EXEMPT
    if late:
        return LATE if accept_late else DEADLINE_PASSED
    return OPEN
