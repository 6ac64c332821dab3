"""Replies the inbox stored, taken in by the engine: each matched reply (or a mail the
secretariat assigned on the Indbakke) not yet taken in goes to ``Service.receive_mail_answer``
with the answers of any returned Word form of ours among its files.

The inbox reader calls ``take_in`` after storing what it read (``aftaleflow inbox fetch``, the
scheduler's job), and the Indbakke after an assignment. A reply is marked taken in by the
same transaction that changes its task, so a run stopped at any moment leaves it for the next
run, and no reply is taken in twice. Auto-replies, bounces and unmatched mail are never here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from workflow.definition import QuestionnaireStage
from workflow.errors import AftaleflowError
from workflow.returned_form import ReadBack, read_returned_form
from workflow.service import Service, bound_for
from workflow.storage.models import InboundMailRow, ProcessRow

log = logging.getLogger("aftaleflow.inbox")

#: A returned form larger than this is not read (it is still kept as the mail's file).
FORM_MAX = 20 * 1024 * 1024


@dataclass(frozen=True)
class TakenIn:
    inbound_id: int
    party: str
    outcome: str  # received | recorded | already | skipped | failed


def pending(service: Service, *, limit: int = 200) -> list[int]:
    """Matched or assigned replies the engine has not taken in yet, oldest first."""
    with service.db.sessions() as s:
        query = (
            select(InboundMailRow.id)
            .where(
                InboundMailRow.classification == "reply",
                InboundMailRow.status == "assigned",
                InboundMailRow.process_id.is_not(None),
                InboundMailRow.applied_at.is_(None),
            )
            .order_by(InboundMailRow.id)
            .limit(limit)
        )
        return list(s.scalars(query))


def take_in(service: Service, upload_dir: Path, at: datetime) -> list[TakenIn]:
    """Take in every pending reply (see the module's text)."""
    out: list[TakenIn] = []
    for inbound_id in pending(service):
        out.append(take_in_one(service, upload_dir, inbound_id, at))
    return out


def take_in_one(service: Service, upload_dir: Path, inbound_id: int, at: datetime) -> TakenIn:
    with service.db.sessions() as s:
        row = s.get(InboundMailRow, inbound_id)
        process = s.get(ProcessRow, row.process_id) if row and row.process_id else None
        if row is None or process is None:
            return TakenIn(inbound_id, "", "failed")
        if row.classification != "reply" or row.applied_at is not None:
            return TakenIn(inbound_id, row.party, "skipped")  # never an auto-reply or bounce
        key, stage, party = process.key, row.stage_id, row.party
        files = [dict(f) for f in row.details.get("attachments") or [] if f.get("stored_as")]
        sender = row.from_address
        actor = row.updated_by if row.matched_by == "manual" else f"mail:{sender}"
        form = _returned_form(process, stage, files, upload_dir)
    try:
        outcome = service.receive_mail_answer(
            key, stage, party, inbound_id=inbound_id, sender=sender, files=files,
            draft=form.answers if form.ours else None, notes=form.notes, at=at, actor=actor,
        )  # fmt: skip
    except AftaleflowError as e:  # ConcurrentUpdate and the like: the next run tries again
        log.warning(
            "reply #%d not taken in yet: %s",
            inbound_id,
            e,
            extra={"action": "reply_take_in_failed", "inbound_id": inbound_id},
        )
        return TakenIn(inbound_id, party, "failed")
    log.info(
        "reply #%d from %s: %s",
        inbound_id,
        party,
        outcome,
        extra={"action": "reply_taken_in", "inbound_id": inbound_id, "outcome": outcome},
    )
    return TakenIn(inbound_id, party, outcome)


def _returned_form(
    process: ProcessRow, stage_id: str, files: list[dict[str, Any]], upload_dir: Path
) -> ReadBack:
    """The answers of the returned Word forms of ours among ``files`` (later ones win)."""
    found = ReadBack()
    definition = next((b.definition for b in bound_for(process).stages if b.id == stage_id), None)
    if not isinstance(definition, QuestionnaireStage):
        return found
    questionnaire = bound_for(process).bundle.questionnaires[definition.questionnaire]
    for f in files:
        if f.get("kind") != "docx" or int(f.get("size") or 0) > FORM_MAX:
            continue
        path = (upload_dir / str(f["stored_as"])).resolve()
        if not path.is_relative_to(upload_dir.resolve()) or not path.is_file():
            continue
        read = read_returned_form(path.read_bytes(), questionnaire)
        if read.ours:
            found.ours = True
            found.answers.update(read.answers)
            found.notes += [{**n, "file": str(f.get("filename", ""))} for n in read.notes]
    return found
