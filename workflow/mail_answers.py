"""Answers that come by mail. Functions of a ``ProcessTx`` (``workflow.service`` composes them).

``receive_by_mail``: a reply matched to a party's questionnaire task (by the Message-ID it
answers, or assigned by the secretariat on the Indbakke) puts the task in
``answered_by_mail`` — "svar modtaget pr. mail": the planner plans no reminder, overdue mark or
escalation for that state, and the party's queued reminders and escalations are cancelled. A
returned Word form's answers become the party's draft. A reply to a task that is already
answered (or exempt, or not a questionnaire) is only recorded.

``confirm_by_mail``: the secretariat confirms the mail as the party's answer: a submitted
version (late if the mail came after the deadline) made from the draft, marked ``by_mail``
with the mail's files.

Both mark the received mail as taken in (``inbound_mail.applied_at``) in the same
transaction, so a reader that stops at any moment takes each reply in exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from workflow import machines
from workflow.acts import cancel_party_reminders
from workflow.answering import save_draft, store_version
from workflow.errors import GuardRefused, NotFound
from workflow.planner import past_deadline
from workflow.storage.models import AnswerRow, InboundMailRow
from workflow.storage.records import TaskRecord
from workflow.tx import ProcessTx

RECEIVED = "received"
RECORDED = "recorded"
ALREADY = "already"
STATE = "answered_by_mail"


def receive_by_mail(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    *,
    inbound_id: int,
    sender: str,
    files: Sequence[Mapping[str, Any]],
    draft: Mapping[str, Any] | None,
    notes: Sequence[Mapping[str, Any]],
    at: datetime,
    actor: str,
) -> str:
    """Take in a reply; ``received`` if the task is now "svar modtaget pr. mail", else
    ``recorded`` (the party had answered already, is exempt, or this is no questionnaire);
    ``already`` if it was taken in before (nothing is done again)."""
    mail = tx.session.get(InboundMailRow, inbound_id)
    if mail is None:
        raise NotFound(
            f"Der er ingen modtaget mail nr. {inbound_id}.",
            en=f"There is no received mail #{inbound_id}.",
        )
    if mail.applied_at is not None:
        return ALREADY
    data: dict[str, Any] = {
        "inbound_id": inbound_id,
        "from": sender,
        "files": [_file(f) for f in files],
    }
    task = tx.tasks.get((stage_id, party, ""))
    if task is None or task.kind != "questionnaire":
        _applied(tx, inbound_id, at)
        tx.event(at, actor, "mail_reply_recorded", stage=stage_id, party=party, data=data)
        return RECORDED
    data["status_before"] = task.status
    if not machines.can("questionnaire_task", task.status, "receive_by_mail"):
        _applied(tx, inbound_id, at)
        tx.event(at, actor, "mail_reply_recorded", stage=stage_id, party=party, data=data)
        return RECORDED
    task.status = machines.fire("questionnaire_task", task.status, "receive_by_mail")
    data["mails_cancelled"] = cancel_party_reminders(tx, stage_id, party)
    if draft is not None:
        data["form"] = {"read": sorted(draft), "notes": [dict(n) for n in notes]}
        if draft:
            _merge_draft(tx, stage_id, party, draft, at, actor)
    _applied(tx, inbound_id, at)
    tx.event(at, actor, "answer_received_by_mail", stage=stage_id, party=party, data=data)
    return RECEIVED


def _party_name(tx: ProcessTx, party: str) -> str:
    found = tx.bound.bundle.parties.by_slug.get(party)
    return found.name if found else party


def _confirmable(
    tx: ProcessTx, stage_id: str, party: str, inbound_id: int, at: datetime
) -> tuple[TaskRecord, InboundMailRow]:
    """The task and the reply, refused unless the questionnaire is open, the task is
    "svar modtaget pr. mail" and the mail is the party's reply in the stage."""
    stage = tx.stage(stage_id)
    closes_at = tx.bound.stage(stage_id).closes_at
    if stage.status != "open" or (closes_at is not None and at > closes_at):
        raise GuardRefused(
            "Spørgeskemaet er lukket; svaret kan ikke længere godkendes.",
            en="The questionnaire is closed; the answer can no longer be confirmed.",
        )
    task = tx.task(stage_id, party, "")
    if task.status != STATE:
        raise GuardRefused(
            "Kun en opgave med status «svar modtaget pr. mail» kan få et svar pr. mail godkendt.",
            en="Only a task with the status «answer received by mail» can have an answer by "
            "mail confirmed.",
        )
    mail = tx.session.get(InboundMailRow, inbound_id)
    if mail is None or (mail.process_id, mail.stage_id, mail.party) != (
        tx.process.id,
        stage_id,
        party,
    ):
        who, name = _party_name(tx, party), tx.bound.stage(stage_id).definition.name
        raise NotFound(
            f"Mail nr. {inbound_id} er ikke et svar fra {who} i fasen »{name}«.",
            en=f"Mail #{inbound_id} is not a reply from {who} in the stage »{name}«.",
        )
    return task, mail


def confirm_by_mail(
    tx: ProcessTx,
    stage_id: str,
    party: str,
    *,
    inbound_id: int,
    at: datetime,
    actor: str,
    reason: str,
) -> int:
    """The mail is the party's answer: a new submitted version (the draft's answers, the
    mail's files, ``by_mail``); late when the mail came after the deadline. Returns the
    version."""
    task, mail = _confirmable(tx, stage_id, party, inbound_id, at)
    late = past_deadline(tx.bound, task.deadline, mail.received_at)
    task.status = machines.fire(
        "questionnaire_task", task.status, "confirm_mail_late" if late else "confirm_mail"
    )
    task.submitted_at = mail.received_at
    files = [_file(f) for f in mail.details.get("attachments") or [] if f.get("stored_as")]
    by_mail = {"inbound_id": mail.id, "from": mail.from_address, "files": files}
    data = dict(_draft(tx, stage_id, party) or {})
    version = store_version(
        tx,
        stage_id,
        party,
        data,
        at=at,
        late=late,
        submitted_at=mail.received_at,
        mail=by_mail,
    )
    event = {"version": version, "late": late, "by_mail": True, "inbound_id": mail.id,
             "answered": sorted(data), "files": len(files)}  # fmt: skip
    tx.event(at, actor, "answer_submitted", stage=stage_id, party=party, reason=reason, data=event)
    return version


def _file(f: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("filename", "stored_as", "sha256", "size", "kind")
    return {k: f[k] for k in keep if k in f}


def _draft(tx: ProcessTx, stage_id: str, party: str) -> dict[str, Any] | None:
    found = tx.session.scalar(
        select(AnswerRow.data).where(
            AnswerRow.process_id == tx.process.id,
            AnswerRow.stage_id == stage_id,
            AnswerRow.party == party,
            AnswerRow.state == "draft",
        )
    )
    return dict(found) if found is not None else None


def _merge_draft(
    tx: ProcessTx, stage_id: str, party: str, read: Mapping[str, Any], at: datetime, actor: str
) -> None:
    """The returned form's answers over the party's own draft (what the form left empty
    keeps what the party had typed through its link)."""
    merged = {**(_draft(tx, stage_id, party) or {}), **read}
    with suppress(GuardRefused):  # the questionnaire closed: received, but nothing to draft
        save_draft(tx, stage_id, party, merged, at=at, actor=actor)


def _applied(tx: ProcessTx, inbound_id: int, at: datetime) -> None:
    tx.write(
        update(InboundMailRow)
        .where(InboundMailRow.id == inbound_id, InboundMailRow.applied_at.is_(None))
        .values(applied_at=at)
    )
