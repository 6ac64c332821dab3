"""Answers and personal links: where an answer is stored (``submit_answer``), drafts, a link
opened, a link revoked or re-issued, a file received. Functions of a ``ProcessTx``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from workflow import machines
from workflow.changes import ask
from workflow.definition import QuestionnaireStage
from workflow.errors import GuardRefused
from workflow.mail import Mail, iso_day
from workflow.planner import ACTIVE_QUESTIONNAIRE, past_deadline
from workflow.storage.fast import STATEMENTS
from workflow.storage.models import TABLES, AnswerRow, LinkRow
from workflow.storage.records import StageRecord
from workflow.timeline import BoundProcess
from workflow.tx import ProcessTx


def _open_questionnaire(tx: ProcessTx, stage_id: str, at: datetime, what: str) -> StageRecord:
    stage = tx.stage(stage_id)
    closes_at = tx.bound.stage(stage_id).closes_at
    if stage.status != "open" or (closes_at is not None and at > closes_at):
        da, en = _CLOSED[what]
        raise GuardRefused(
            f"Spørgeskemaet er lukket; {da}.", en=f"The questionnaire is closed; {en}."
        )
    return stage


_CLOSED = {
    "submit": ("svar kan ikke længere indsendes", "answers can no longer be submitted"),
    "draft": ("kladder kan ikke længere gemmes", "drafts can no longer be saved"),
}


def submit_answer(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    data: dict[str, Any],
    *,
    at: datetime,
    actor: str,
    receipt: Mapping[str, Any] | None,
) -> int:
    """Store a submitted answer (a new version each time); returns the version.

    A submission after the (possibly extended) deadline is a late version: it is taken only
    when the stage accepts late answers, and the task becomes ``late`` unless the party had
    already answered on time. Whether the deadline has passed is the planner's decision
    (``workflow.planner.past_deadline``), taken here too, so an answer that arrives before the tick
    noticed the deadline is still late. The party's draft is dropped (the new version holds
    it). With ``receipt`` (extra mail context) a ``receipt`` mail to the party is queued.
    """
    _open_questionnaire(tx, stage_id, at, "submit")
    task = tx.task(stage_id, party, "")
    definition = tx.bound.stage(stage_id).definition
    assert isinstance(definition, QuestionnaireStage)
    after_deadline = past_deadline(tx.bound, task.deadline, at)
    if after_deadline and task.status in ACTIVE_QUESTIONNAIRE:
        # the tick has not marked it yet: do what it would have done, in order
        task.status = machines.fire("questionnaire_task", task.status, "mark_overdue")
        tx.event(at, actor, "overdue", stage=stage_id, party=party)
    if (after_deadline or task.status in ("overdue", "late")) and not definition.accept_late:
        raise GuardRefused(
            "Fristen er overskredet, og dette spørgeskema tager ikke imod svar for sent.",
            en="The deadline has passed and this questionnaire takes no late answers.",
        )
    before = task.status
    task.status = machines.fire("questionnaire_task", task.status, "submit")
    task.submitted_at = at
    late = task.status == "late" or after_deadline
    version = store_version(tx, stage_id, party, data, at=at, late=late)
    resubmitted = before == "submitted"
    event = {"version": version, "late": late, "resubmitted": resubmitted}
    tx.event(at, actor, "answer_submitted", stage=stage_id, party=party, data=event)
    if receipt is not None:
        details = {
            **receipt,
            "version": version,
            "late": late,
            "deadline": iso_day(task.deadline),
            "submitted_at": at.isoformat(),
            "questionnaire": definition.questionnaire,
            "accept_late": definition.accept_late,
            "link": {"generation": task.link_generation},
        }
        contacts = tx.addresses(party, definition.recipients)
        receipt_mail = Mail(
            kind="receipt",
            stage=stage_id,
            party=party,
            seq=version,
            recipients=tuple(contacts),
            details=details,
        )
        tx.mail(receipt_mail, at)
    return version


_ANSWERS = TABLES["answers"]
_PARTY_ANSWERS = (
    _ANSWERS.c.process_id == bindparam("pid"),
    _ANSWERS.c.stage_id == bindparam("stage"),
    _ANSWERS.c.party == bindparam("party"),
)
_LATEST_VERSION = select(func.max(_ANSWERS.c.version)).where(*_PARTY_ANSWERS)
_DELETE_DRAFT = delete(_ANSWERS).where(*_PARTY_ANSWERS, _ANSWERS.c.state == "draft")
_INSERT_ANSWER = insert(_ANSWERS)


def questionnaire_version(bound: BoundProcess, stage_id: str) -> int | None:
    """The version of the questionnaire a stage asks now (None: not a questionnaire stage)."""
    ident = getattr(bound.stage(stage_id).definition, "questionnaire", None)
    q = bound.bundle.questionnaires.get(ident) if ident else None
    return q.version if q is not None else None


def store_version(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    data: dict[str, Any],
    *,
    at: datetime,
    late: bool,
    submitted_at: datetime | None = None,
    mail: dict[str, Any] | None = None,
) -> int:
    """The answer as its next version; the party's draft is dropped. Returns the version.
    With ``mail`` (the received mail's id, sender and files) it is an answer by mail."""
    mine = {"pid": tx.process.id, "stage": stage_id, "party": party}
    latest = STATEMENTS.get("latest answer", tx.conn, lambda: _LATEST_VERSION).first(tx.conn, mine)
    version = ((latest or [None])[0] or 0) + 1
    tx.write(_DELETE_DRAFT, mine, name="delete draft")
    answer = {
        "process_id": tx.process.id,
        "stage_id": stage_id,
        "party": party,
        "version": version,
        "state": "submitted",
        "late": late,
        "data": data,
        "created_at": at,
        "submitted_at": submitted_at or at,
        "by_mail": mail is not None,
        "mail": mail,
        "questionnaire_version": questionnaire_version(tx.bound, stage_id),
    }
    tx.write(_INSERT_ANSWER, answer, name="insert answer")
    return version


def save_draft(
    tx: ProcessTx, stage_id: str, party: str, data: dict[str, Any], *, at: datetime, actor: str
) -> None:
    """Keep a party's unfinished answer: ONE draft per party and stage, overwritten.

    The draft is an answer row in state ``draft`` with version 0, so submitted versions
    keep counting from 1. A party that already submitted may keep a draft of its edits;
    its task stays ``submitted`` (or ``overdue``) meanwhile.
    """
    _open_questionnaire(tx, stage_id, at, "draft")
    task = tx.task(stage_id, party, "")
    if task.status == "exempt":
        raise GuardRefused(
            f"{party} er fritaget i {stage_id}; der er intet at gemme.",
            en=f"{party} is exempt from {stage_id}; nothing to save.",
        )
    if machines.can("questionnaire_task", task.status, "save_draft"):
        task.status = machines.fire("questionnaire_task", task.status, "save_draft")
    mine = (
        AnswerRow.process_id == tx.process.id,
        AnswerRow.stage_id == stage_id,
        AnswerRow.party == party,
        AnswerRow.state == "draft",
    )
    if tx.session.scalar(select(AnswerRow.id).where(*mine)) is None:
        tx.write(
            insert(AnswerRow).values(
                process_id=tx.process.id,
                stage_id=stage_id,
                party=party,
                version=0,
                state="draft",
                late=False,
                data=data,
                created_at=at,
                submitted_at=None,
                questionnaire_version=questionnaire_version(tx.bound, stage_id),
            )
        )
    else:
        tx.write(update(AnswerRow).where(*mine).values(data=data, created_at=at))
    answered = {"answered": sorted(data)}
    tx.event(at, actor, "draft_saved", stage=stage_id, party=party, data=answered)


def open_link(
    tx: ProcessTx, stage_id: str, party: str, step: str, *, at: datetime, actor: str
) -> bool:
    """A personal link was opened. The first time only: the questionnaire task becomes
    ``opened`` (if it was ``invited``) and a ``link_opened`` event is written, so the
    secretariat sees who has looked; True if this was that first time."""
    task = tx.task(stage_id, party, step)
    if task.opened_at is not None:
        return False
    task.opened_at = at
    if task.kind == "questionnaire" and machines.can(
        "questionnaire_task", task.status, "open_link"
    ):
        task.status = machines.fire("questionnaire_task", task.status, "open_link")
    tx.event(
        at,
        actor,
        "link_opened",
        stage=stage_id,
        party=party,
        step=step,
        data={"generation": task.link_generation},
    )
    return True


@dataclass(frozen=True)
class LinkChange:
    """A revoked or re-issued link: the task's new generation, and when the mail with the new
    link is due (None when no mail was queued: revoked only, or the party not yet asked)."""

    generation: int
    sends_at: datetime | None


def revoke_link(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    step: str,
    *,
    at: datetime,
    actor: str,
    reason: str,
    reissue: bool,
    now: bool = False,
) -> LinkChange:
    """Stop a task's personal link (e.g. it was forwarded to the wrong person).

    The task's link generation goes up. Without ``reissue`` every older token stops working at
    once, and nobody has a working link until the next re-issue. With ``reissue`` a link for
    the new generation is made and mailed to the party again (an ``invitation`` or
    ``approval_request`` with the old generation as its sequence), due at the next office
    moment or, with ``now``, at once; the link it replaces keeps working until that mail is
    sent (``workflow.responses`` reads the outbox), older ones stop at once.
    """
    tx.stage(stage_id)
    task = tx.task(stage_id, party, step)
    old = task.link_generation
    mailed = reissue and task.status != "pending"
    mine = (
        LinkRow.process_id == tx.process.id,
        LinkRow.stage_id == stage_id,
        LinkRow.party == party,
        LinkRow.step == step,
        LinkRow.revoked_at.is_(None),
    )
    kept = (LinkRow.generation < old,) if mailed else ()
    tx.write(update(LinkRow).where(*mine, *kept).values(revoked_at=at))
    task.link_generation = old + 1
    tx.event(
        at,
        actor,
        "link_reissued" if reissue else "link_revoked",
        stage=stage_id,
        party=party,
        step=step,
        reason=reason,
        data={"from": old, "to": task.link_generation, **({"now": True} if now else {})},
    )
    sends_at = ask(tx, task, at, seq=old, reissued=True, now=now) if mailed else None
    return LinkChange(task.link_generation, sends_at)


def record_upload(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    step: str,
    file: Mapping[str, Any],
    *,
    at: datetime,
    actor: str,
) -> None:
    """Audit a file received through a personal link ({filename, stored_as, sha256, size}):
    an approval's minutes are recorded by name and hash only, so this event is where the
    stored copy is found again."""
    tx.event(at, actor, "file_uploaded", stage=stage_id, party=party, step=step, data=dict(file))
