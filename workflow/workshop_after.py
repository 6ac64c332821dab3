"""After a workshop: the secretariat records who came and the workshop's conclusions
(challenges, actions, recommendations; every version kept). Functions of a ``ProcessTx``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, insert, select, update

from workflow.errors import GuardRefused, NotFound
from workflow.signup_rules import signup_window
from workflow.storage.models import WorkshopConclusionRow, WorkshopSignupRow
from workflow.tx import ProcessTx
from workflow.workshops import CONFIRMED, TEXT_MAX, signups


def record_attendance(
    tx: ProcessTx,
    stage_id: str,
    workshop_id: str,
    attended: Mapping[int, bool],
    *,
    at: datetime,
    actor: str,
) -> None:
    """Who came (by seq), once the workshop has begun; only confirmed participants."""
    window = signup_window(tx.bound, stage_id, workshop_id)
    if at < window.event.start:
        raise GuardRefused(
            "Fremmødet kan registreres, når workshoppen er begyndt.",
            en="Attendance can be recorded once the workshop has begun.",
        )
    rows = {r.seq: r for r in signups(tx, stage_id, workshop_id) if r.status == CONFIRMED}
    unknown = sorted(set(attended) - set(rows))
    if unknown:
        title = window.event.title
        raise NotFound(
            f"»{title}« har ingen bekræftet deltager nr. {unknown[0]}.",
            en=f"»{title}« has no confirmed participant no. {unknown[0]}.",
        )
    for seq, came in attended.items():
        row = rows[seq]
        tx.write(
            update(WorkshopSignupRow)
            .where(WorkshopSignupRow.id == row.id)
            .values(attended=bool(came))
        )
    present = sum(1 for s in rows if attended.get(s, bool(rows[s].attended)))
    data = {"workshop": workshop_id, "present": present, "confirmed": len(rows)}
    tx.event(at, actor, "workshop_attendance_recorded", stage=stage_id, step=workshop_id, data=data)


def save_conclusions(
    tx: ProcessTx,
    stage_id: str,
    workshop_id: str,
    texts: Mapping[str, str],
    *,
    at: datetime,
    actor: str,
) -> int:
    """A new version of the workshop's conclusions (challenges, actions, recommendations)."""
    signup_window(tx.bound, stage_id, workshop_id)
    fields = ("challenges", "actions", "recommendations")
    if any(len(texts.get(f, "")) > TEXT_MAX for f in fields):
        raise GuardRefused(
            f"En konklusion må højst være {TEXT_MAX} tegn.",
            en=f"A conclusion may hold at most {TEXT_MAX} characters.",
        )
    last = tx.session.scalar(
        select(func.max(WorkshopConclusionRow.version)).where(
            WorkshopConclusionRow.process_id == tx.process.id,
            WorkshopConclusionRow.stage_id == stage_id,
            WorkshopConclusionRow.workshop_id == workshop_id,
        )
    )
    version = (last or 0) + 1
    values = {f: texts.get(f, "").strip() for f in fields}
    tx.write(
        insert(WorkshopConclusionRow),
        {
            "process_id": tx.process.id,
            "stage_id": stage_id,
            "workshop_id": workshop_id,
            "version": version,
            **values,
            "author": actor,
            "saved_at": at,
        },
    )
    data = {"workshop": workshop_id, "version": version}
    tx.event(at, actor, "workshop_conclusions_saved", stage=stage_id, step=workshop_id, data=data)
    return version
