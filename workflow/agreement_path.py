"""The agreement's path: draft → the recommending decision (KKR) → the councils →
Socialstyrelsen, with the version of the agreement at each step.

``recommend`` is the write side: what the decision that recommends the agreement
(``recommends_agreement`` on a decision stage) records as the version it recommended — the
one chosen, by default the newest version when the decision is recorded. ``recommended`` and
``agreement_path`` read it back for the approval step (which version to put up) and the
process page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definition import DecisionStage
from workflow.errors import GuardRefused, NotFound
from workflow.storage.models import DocumentRow, OutboxRow, ProcessRow, StageRow, TaskRow
from workflow.timeline import BoundProcess, BoundStage
from workflow.tx import ProcessTx


def recommends(bst: BoundStage) -> bool:
    d = bst.definition
    return isinstance(d, DecisionStage) and d.recommends_agreement


def recommend(
    tx: ProcessTx, stage_id: str, outcome: str, document_version: int | None
) -> dict[str, Any]:
    """The version an ``approved`` outcome of a recommending decision recommends (``{}``
    when no version has been uploaded yet): ``document_version``, else the newest."""
    bst = tx.bound.stage(stage_id)
    if not recommends(bst) or outcome != "approved":
        if document_version is not None:
            name = bst.definition.name
            raise GuardRefused(
                "En version af aftalen registreres kun med resultatet approved (godkendt) i en "
                f"beslutning, der anbefaler aftalen; fasen »{name}« med {outcome} får ingen.",
                en="A version is recorded only with the outcome approved of a decision that "
                f"recommends the agreement; the stage »{name}« with {outcome} takes none.",
            )
        return {}
    docs = {
        d.version: d
        for d in tx.session.scalars(
            select(DocumentRow).where(DocumentRow.process_id == tx.process.id)
        )
    }
    if document_version is None:
        if not docs:
            return {}
        document_version = max(docs)
    doc = docs.get(document_version)
    if doc is None:
        known = ", ".join(str(v) for v in sorted(docs))
        key = tx.process.key
        raise NotFound(
            f"Processen {key} har ingen version {document_version} af aftalen "
            f"(versioner: {known or 'ingen endnu'}).",
            en=f"The process {key} has no agreement version {document_version} "
            f"(versions: {known or 'none yet'}).",
        )
    return {"version": doc.version, "sha256": doc.sha256, "filename": doc.filename}


@dataclass(frozen=True)
class Version:
    """One version of the agreement: its number (None if the hash matches no upload)."""

    version: int | None
    sha256: str


@dataclass(frozen=True)
class Recommendation:
    stage: str
    stage_name: str
    version: Version | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class CouncilStep:
    party: str
    party_name: str
    step: str
    status: str
    version: Version | None
    decided_at: datetime | None


@dataclass(frozen=True)
class AgreementPath:
    drafts: list[Version]
    recommendation: Recommendation | None
    up_for_approval: Version | None
    councils: list[CouncilStep]
    submitted: Version | None
    submitted_at: datetime | None

    @property
    def differs(self) -> bool:
        """The version up for approval is not the one recommended."""
        rec = self.recommendation.version if self.recommendation else None
        up = self.up_for_approval
        return rec is not None and up is not None and rec.sha256 != up.sha256


def _version(by_hash: dict[str, int], sha: str) -> Version | None:
    return Version(by_hash.get(sha), sha) if sha else None


def recommended(s: Session, row: ProcessRow, bound: BoundProcess) -> Recommendation | None:
    """The latest recommendation recorded (the recommending stage's outcome), if any."""
    stages = {
        r.stage_id: r for r in s.scalars(select(StageRow).where(StageRow.process_id == row.id))
    }
    found: Recommendation | None = None
    for bst in bound.stages:
        rec = stages.get(bst.id)
        outcome = (rec.outcome or {}) if rec else {}
        if not recommends(bst) or outcome.get("outcome") != "approved":
            continue
        doc = outcome.get("document") or {}
        at = outcome.get("recorded_at")
        found = Recommendation(
            bst.id,
            bst.definition.name,
            Version(doc.get("version"), str(doc.get("sha256", ""))) if doc else None,
            datetime.fromisoformat(at) if at else None,
        )
    return found


def agreement_path(s: Session, row: ProcessRow, bound: BoundProcess) -> AgreementPath:
    docs = list(
        s.scalars(
            select(DocumentRow)
            .where(DocumentRow.process_id == row.id)
            .order_by(DocumentRow.version)
        )
    )
    by_hash = {d.sha256: d.version for d in docs}
    names = {p.slug: p.name for p in bound.bundle.parties.parties}
    tasks = s.scalars(
        select(TaskRow)
        .where(TaskRow.process_id == row.id, TaskRow.kind == "approval")
        .order_by(TaskRow.stage_id, TaskRow.party, TaskRow.seq)
    )
    order = {slug: i for i, slug in enumerate(bound.bundle.participants)}
    councils = sorted(
        (
            CouncilStep(
                t.party,
                names.get(t.party, t.party),
                t.step,
                t.status,
                _version(by_hash, str((t.decision or {}).get("document_hash", ""))),
                t.decided_at,
            )
            for t in tasks
        ),
        key=lambda c: order.get(c.party, len(order)),
    )
    submission = s.scalar(
        select(OutboxRow)
        .where(OutboxRow.process_id == row.id, OutboxRow.kind == "submission")
        .order_by(OutboxRow.id.desc())
    )
    sent = (submission.context.get("document") or {}) if submission else {}
    return AgreementPath(
        drafts=[Version(d.version, d.sha256) for d in docs],
        recommendation=recommended(s, row, bound),
        up_for_approval=_version(by_hash, row.approval_document_hash or ""),
        councils=councils,
        submitted=_version(by_hash, str(sent.get("sha256", ""))),
        submitted_at=submission.created_at if submission else None,
    )
