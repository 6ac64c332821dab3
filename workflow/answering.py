"""Answers and personal links: drafts, submissions, opening, re-issuing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from workflow import machines
from workflow.definition import QuestionnaireStage
from workflow.engine import (
    Engine,
    _document_info,
    _event,
    _iso,
    _key,
    _process,
    _stage,
    _task,
    bound_for,
)
from workflow.errors import GuardRefused
from workflow.planner import (
    ACTIVE_QUESTIONNAIRE,
)
from workflow.storage.models import (
    AnswerRow,
    LinkRow,
)


class Answering(Engine):
    # ------------------------------------------------------------------ answers

    def submit_answer(
        self,
        key: str,
        stage_id: str,
        party: str,
        data: dict[str, Any],
        *,
        at: datetime,
        actor: str,
        receipt: Mapping[str, Any] | None = None,
    ) -> int:
        """Record a submitted answer (a new version each time); returns the version.

        A submission after the (possibly extended) deadline is a late version: it is taken
        only when the stage accepts late answers, and the task becomes ``late`` unless the
        party had already answered on time. The deadline is checked here, not only by the
        tick, so an answer that arrives before the tick noticed the deadline is still late.
        After the stage closes nothing is taken. The party's draft is dropped (the new
        version holds it). With ``receipt`` (extra mail context, e.g. the answers as text) a
        ``receipt`` mail to the party is queued in the same transaction.
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            bst = bound.stage(stage_id)
            if stage.status != "open" or (bst.closes_at is not None and at > bst.closes_at):
                raise GuardRefused(
                    "the questionnaire is closed; answers can no longer be submitted"
                )
            task = _task(s, row, stage_id, party, "")
            definition = bst.definition
            assert isinstance(definition, QuestionnaireStage)
            deadline = task.deadline_override or bst.deadline
            after_deadline = deadline is not None and at > bound.overdue_at(deadline)
            if after_deadline and task.status in ACTIVE_QUESTIONNAIRE:
                # the tick has not marked it yet: do what it would have done, in order
                task.status = machines.fire("questionnaire_task", task.status, "mark_overdue")
                _event(s, row, at, actor, "overdue", stage=stage_id, party=party)
            if (
                after_deadline or task.status in ("overdue", "late")
            ) and not definition.accept_late:
                raise GuardRefused(
                    "the deadline has passed and this questionnaire takes no late answers"
                )
            before = task.status
            task.status = machines.fire("questionnaire_task", task.status, "submit")
            task.submitted_at = at
            late = task.status == "late" or after_deadline
            version = (
                s.scalar(
                    select(func.max(AnswerRow.version)).where(
                        AnswerRow.process_id == row.id,
                        AnswerRow.stage_id == stage_id,
                        AnswerRow.party == party,
                    )
                )
                or 0
            ) + 1
            s.execute(
                delete(AnswerRow).where(
                    AnswerRow.process_id == row.id,
                    AnswerRow.stage_id == stage_id,
                    AnswerRow.party == party,
                    AnswerRow.state == "draft",
                )
            )
            s.add(
                AnswerRow(
                    process_id=row.id,
                    stage_id=stage_id,
                    party=party,
                    version=version,
                    state="submitted",
                    late=late,
                    data=data,
                    created_at=at,
                    submitted_at=at,
                )
            )
            _event(
                s,
                row,
                at,
                actor,
                "answer_submitted",
                stage=stage_id,
                party=party,
                data={"version": version, "late": late, "resubmitted": before == "submitted"},
            )
            if receipt is not None:
                contact = bound.bundle.parties.get(party)
                self._enqueue(
                    s,
                    row,
                    bound,
                    at,
                    "receipt",
                    stage_id,
                    party,
                    "",
                    version,
                    contact.addresses(definition.recipients),
                    {
                        **receipt,
                        "version": version,
                        "late": late,
                        "deadline": _iso(deadline),
                        "submitted_at": at.isoformat(),
                        "questionnaire": definition.questionnaire,
                        "accept_late": definition.accept_late,
                        "link": {"generation": task.link_generation},
                    },
                )
            self._advance(s, row, at, actor, [])
            return version

    def save_draft(
        self, key: str, stage_id: str, party: str, data: dict[str, Any], *, at: datetime, actor: str
    ) -> None:
        """Keep a party's unfinished answer: ONE draft per party and stage, overwritten.

        The draft is an answer row in state ``draft`` with version 0, so submitted versions
        keep counting from 1. A party that already submitted may keep a draft of its edits;
        its task stays ``submitted`` (or ``overdue``) meanwhile.
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            stage = _stage(s, row, bound, stage_id)
            bst = bound.stage(stage_id)
            if stage.status != "open" or (bst.closes_at is not None and at > bst.closes_at):
                raise GuardRefused("the questionnaire is closed; drafts can no longer be saved")
            task = _task(s, row, stage_id, party, "")
            if task.status == "exempt":
                raise GuardRefused(f"{party} is exempt from {stage_id}; nothing to save")
            if machines.can("questionnaire_task", task.status, "save_draft"):
                task.status = machines.fire("questionnaire_task", task.status, "save_draft")
            draft = s.scalar(
                select(AnswerRow).where(
                    AnswerRow.process_id == row.id,
                    AnswerRow.stage_id == stage_id,
                    AnswerRow.party == party,
                    AnswerRow.state == "draft",
                )
            )
            if draft is None:
                s.add(
                    AnswerRow(
                        process_id=row.id,
                        stage_id=stage_id,
                        party=party,
                        version=0,
                        state="draft",
                        late=False,
                        data=data,
                        created_at=at,
                        submitted_at=None,
                    )
                )
            else:
                draft.data = data
                draft.created_at = at
            _event(
                s,
                row,
                at,
                actor,
                "draft_saved",
                stage=stage_id,
                party=party,
                data={"answered": sorted(data)},
            )

    # ------------------------------------------------------------------ personal links

    def open_link(
        self, key: str, stage_id: str, party: str, step: str, *, at: datetime, actor: str
    ) -> bool:
        """A personal link was opened. The first time only: the questionnaire task becomes
        ``opened`` (if it was ``invited``) and a ``link_opened`` event is written, so the
        secretariat sees who has looked; True if this was that first time."""
        with self.db.transaction() as s:
            row = _process(s, key)
            task = _task(s, row, stage_id, party, step)
            if task.opened_at is not None:
                return False
            task.opened_at = at
            if task.kind == "questionnaire" and machines.can(
                "questionnaire_task", task.status, "open_link"
            ):
                task.status = machines.fire("questionnaire_task", task.status, "open_link")
            _event(
                s,
                row,
                at,
                actor,
                "link_opened",
                stage=stage_id,
                party=party,
                step=step,
                data={"generation": task.link_generation},
            )
            return True

    def revoke_link(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str = "",
        *,
        at: datetime,
        actor: str,
        reason: str,
        reissue: bool = True,
    ) -> int:
        """Stop a task's personal link (e.g. it was forwarded to the wrong person).

        The task's link generation goes up, so every older token stops working. With
        ``reissue`` a link for the new generation is made and mailed to the party again (an
        ``invitation`` or ``approval_request`` with the generation as its sequence); without
        it nobody has a working link until the next re-issue. Returns the new generation.
        """
        with self.db.transaction() as s:
            row = _process(s, key)
            bound = bound_for(row)
            _stage(s, row, bound, stage_id)
            task = _task(s, row, stage_id, party, step)
            old = task.link_generation
            for link in s.scalars(
                select(LinkRow).where(
                    LinkRow.process_id == row.id,
                    LinkRow.stage_id == stage_id,
                    LinkRow.party == party,
                    LinkRow.step == step,
                    LinkRow.revoked_at.is_(None),
                )
            ):
                link.revoked_at = at
            task.link_generation = old + 1
            _event(
                s,
                row,
                at,
                actor,
                "link_reissued" if reissue else "link_revoked",
                stage=stage_id,
                party=party,
                step=step,
                reason=reason,
                data={"from": old, "to": task.link_generation},
            )
            if reissue and task.status != "pending":
                link_ctx = self._issue_link(s, row, task, at)
                bst = bound.stage(stage_id)
                deadline = task.deadline_override or bst.deadline
                contact = bound.bundle.parties.get(party)
                definition = bst.definition
                first = "approval_request" if task.kind == "approval" else "invitation"
                extra: dict[str, Any] = {
                    "deadline": _iso(deadline),
                    "link": link_ctx,
                    "reissued": True,
                }
                if isinstance(definition, QuestionnaireStage):
                    extra |= {
                        "questionnaire": definition.questionnaire,
                        "accept_late": definition.accept_late,
                    }
                else:
                    extra |= {"body": step, "document": _document_info(s, row)}
                self._enqueue(
                    s,
                    row,
                    bound,
                    at,
                    first,
                    stage_id,
                    party,
                    step,
                    old,
                    contact.addresses(getattr(definition, "recipients", "committee_secretary")),
                    extra,
                    thread=_key(row, stage_id, party, step, first, 0),
                )
            return task.link_generation

    def record_upload(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str,
        file: Mapping[str, Any],
        *,
        at: datetime,
        actor: str,
    ) -> None:
        """Audit a file received through a personal link ({filename, stored_as, sha256,
        size}): an approval's minutes are recorded by name and hash only, so this event is
        where the stored copy is found again."""
        with self.db.transaction() as s:
            row = _process(s, key)
            _event(
                s,
                row,
                at,
                actor,
                "file_uploaded",
                stage=stage_id,
                party=party,
                step=step,
                data=dict(file),
            )
