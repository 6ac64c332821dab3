"""Respondent-side operations: what a personal link may see and do.

The link is resolved to its task by ``workflow.link_target`` (a ``Target``, or
``LinkNotFound`` with no detail); everything here is scoped to that target's
``(process, stage, party, step)``: no function here takes a party from anywhere but the
resolved ``Target``, so party A's link can never show party B's answers.

What a party typed is checked by ``workflow.validation`` before anything is written, so the
web and any other caller enforce the same rules. The writes go through ``Service`` so state,
audit events and outbox rows change in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from workflow.answering import LinkChange
from workflow.definition_questions import Questionnaire
from workflow.errors import GuardRefused
from workflow.link_target import CLOSED, LinkNotFound, Target, resolve_target
from workflow.service import Service
from workflow.storage.models import AnswerRow, DocumentRow, EventRow, OutboxRow
from workflow.validation import AnswerInvalid, Decision, answer_texts, validate_answers


@dataclass(frozen=True)
class Version:
    version: int
    late: bool
    submitted_at: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class AnswerState:
    """A party's answers: the submitted versions (oldest first) and its draft, if any."""

    versions: list[Version]
    draft: Mapping[str, Any] | None
    draft_saved_at: datetime | None

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def current(self) -> Mapping[str, Any]:
        """What the form shows: the draft if there is one, else the newest version."""
        if self.draft is not None:
            return self.draft
        return self.latest.data if self.latest else {}


class Responses:
    """What a respondent does through a personal link, on top of the ``Service``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.db = service.db

    def resolve(self, token: str, at: datetime, *, via: str = "") -> Target:
        """The task a token belongs to, or ``LinkNotFound`` (forged, revoked, re-issued,
        expired) with no detail. ``via``: the logged-in user acting through the link."""
        with self.db.sessions() as s:
            return resolve_target(s, self.service.link_secret, token, at, via=via)

    def open(self, token: str, at: datetime, *, via: str = "") -> Target:
        """Resolve and, the first time, record that the link was opened."""
        target = self.resolve(token, at, via=via)
        if target.opened_at is None and target.phase != CLOSED:
            self.service.open_link(
                target.process_key,
                target.stage_id,
                target.party,
                target.step,
                at=at,
                actor=target.actor,
            )
            target = self.resolve(token, at, via=via)
        return target

    def answers(self, target: Target) -> AnswerState:
        """The link's own party's answers (never another party's)."""
        with self.db.sessions() as s:
            rows = list(
                s.scalars(
                    select(AnswerRow)
                    .where(
                        AnswerRow.process_id == target.process_id,
                        AnswerRow.stage_id == target.stage_id,
                        AnswerRow.party == target.party,
                    )
                    .order_by(AnswerRow.version)
                )
            )
        draft = next((r for r in rows if r.state == "draft"), None)
        versions = [
            Version(r.version, r.late, r.submitted_at or r.created_at, dict(r.data))
            for r in rows
            if r.state == "submitted"
        ]
        return AnswerState(
            versions, dict(draft.data) if draft else None, draft.created_at if draft else None
        )

    def save_draft(self, target: Target, raw: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        """Keep what was typed so far; ``AnswerInvalid`` for values a submission would refuse
        too (a required question may be empty). Returns the stored answers."""
        questionnaire = _questionnaire(target)
        data, issues = validate_answers(questionnaire, raw, complete=False)
        if issues:
            raise AnswerInvalid(issues)
        self.service.save_draft(
            target.process_key, target.stage_id, target.party, data, at=at, actor=target.actor
        )
        return data

    def submit(self, target: Target, raw: Mapping[str, Any], at: datetime) -> Version:
        """Validate and submit a new version; a receipt mail is queued with it.

        ``AnswerInvalid`` names each problem; ``GuardRefused`` if the stage closed (or late
        answers are not taken) meanwhile.
        """
        questionnaire = _questionnaire(target)
        data, issues = validate_answers(questionnaire, raw, complete=True)
        if issues:
            raise AnswerInvalid(issues)
        version = self.service.submit_answer(
            target.process_key,
            target.stage_id,
            target.party,
            data,
            at=at,
            actor=target.actor,
            receipt={
                "answers": answer_texts(questionnaire, data),
                "questionnaire_title": questionnaire.title,
            },
        )
        state = self.answers(target)
        latest = state.latest
        assert latest is not None and latest.version == version
        return latest

    def agreement_document(self, target: Target, version: int) -> DocumentRow:
        """A version of the agreement an approval link may download: one that has been put up
        for approval (the mail names it), never a draft the secretariat has not sent."""
        if target.kind != "approval":
            raise LinkNotFound()
        with self.db.sessions() as s:
            doc = s.scalar(
                select(DocumentRow).where(
                    DocumentRow.process_id == target.process_id, DocumentRow.version == version
                )
            )
            put_up = [
                e.data.get("version")
                for e in s.scalars(
                    select(EventRow).where(
                        EventRow.process_id == target.process_id,
                        EventRow.kind == "document_put_up_for_approval",
                    )
                )
            ]
            if doc is None or version not in put_up:
                raise LinkNotFound()
            s.expunge(doc)
            return doc

    def decide(self, target: Target, decision: Decision, at: datetime) -> None:
        """Record a council's decision through its link (``Service.record_approval``: a
        rejection blocks the process and tells the secretariat)."""
        if target.kind != "approval":
            raise GuardRefused(
                "Linket er ikke til en godkendelse.", en="This link is not for an approval."
            )
        minutes = decision.minutes_url
        if decision.minutes_file:
            self.service.record_upload(
                target.process_key,
                target.stage_id,
                target.party,
                target.step,
                decision.minutes_file,
                at=at,
                actor=target.actor,
            )
            name = str(decision.minutes_file["filename"])
            minutes = f"{name} · {minutes}" if minutes else name
        self.service.record_approval(
            target.process_key,
            target.stage_id,
            target.party,
            target.step,
            decision=decision.decision,
            meeting_date=decision.meeting_date,
            agenda_item=decision.agenda_item,
            decision_text=decision.decision_text,
            minutes=minutes,
            minutes_file=decision.minutes_file,
            at=at,
            actor=target.actor,
        )

    def revoke(
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
        now: bool = False,
    ) -> LinkChange:
        """Stop a party's link (and by default mail a new one, ``now`` or at office hours)."""
        return self.service.revoke_link(
            key, stage_id, party, step, at=at, actor=actor, reason=reason, reissue=reissue, now=now
        )

    def receipt_due(self, target: Target, version: int) -> datetime | None:
        """When the receipt for answer ``version`` is due, if it is still waiting to be sent
        (it waits for office hours); None once it is sent or when none was queued."""
        with self.db.sessions() as s:
            row = s.scalar(
                select(OutboxRow).where(
                    OutboxRow.process_id == target.process_id,
                    OutboxRow.kind == "receipt",
                    OutboxRow.stage_id == target.stage_id,
                    OutboxRow.party == target.party,
                    OutboxRow.seq == version,
                )
            )
            return row.next_attempt_at if row is not None and row.status == "queued" else None


def _questionnaire(target: Target) -> Questionnaire:
    if target.questionnaire is None:
        raise GuardRefused(
            "Linket er ikke til et spørgeskema.", en="This link is not for a questionnaire."
        )
    return target.questionnaire
