"""Moving a running process to a new version of its definition: the preview (the changes,
the refusals and the mail plan before and after) and the one transaction that applies it.

``preview`` changes nothing. ``apply_migration`` checks the rules again inside the process's
transaction (the state may have moved since the preview), then writes the new snapshot and
hash, adds the stages the new version adds, drops the (unstarted) stages and pending tasks
it removes, cancels their queued mails, makes the process due at once (the next tick plans
it under the new version) and writes one ``definition_migrated`` event with both hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from workflow import answering
from workflow.errors import GuardRefused
from workflow.loader import Bundle
from workflow.mail_plan import MailPlanDiff, mail_plan_diff
from workflow.migration import Plan, Progress, plan_migration
from workflow.service import Service
from workflow.step_plan import CalendarSource
from workflow.storage.db import Database
from workflow.storage.models import TABLES, ProcessRow, StageRow, TaskRow
from workflow.storage.records import StageRecord
from workflow.timeline import bind
from workflow.tx import ProcessTx

#: The event a migration writes.
MIGRATED = "definition_migrated"
#: Who moves the copy of the process the preview simulates.
PREVIEW = "forhåndsvisning"
#: The tasks that get the changed questionnaire as a new version: not submitted yet.
NOT_SUBMITTED = ("invited", "opened", "draft", "overdue")


@dataclass
class Preview:
    key: str
    plan: Plan
    mails: MailPlanDiff | None


def progress_of(stages: Iterable[Any], tasks: Iterable[Any], status: str) -> Progress:
    """What has happened, from stage and task rows (or the engine's records of them)."""
    out = Progress(status=status)
    for st in stages:
        out.stages[st.stage_id] = st.status
    for t in tasks:
        if t.invited_at is not None:
            out.invited.setdefault(t.stage_id, set()).add(t.party)
        if t.status in ("submitted", "late"):
            out.submitted.setdefault(t.stage_id, set()).add(t.party)
    return out


def current(db: Database, key: str) -> tuple[Bundle, int, Progress]:
    """The definition the process runs now, its year and its progress."""
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        if row is None:
            from workflow.fork import process_id

            process_id(db, key)  # raises NotFound with the known keys
        assert row is not None
        bundle = Bundle.from_snapshot(row.definition_snapshot, path=row.definition_path)
        stages = s.scalars(select(StageRow).where(StageRow.process_id == row.id)).all()
        tasks = s.scalars(select(TaskRow).where(TaskRow.process_id == row.id)).all()
        return bundle, row.year, progress_of(stages, tasks, row.status)


def preview(
    db: Database,
    key: str,
    new: Bundle,
    *,
    now: datetime,
    link_secret: str,
    mails: bool = True,
    calendars: CalendarSource | None = None,
) -> Preview:
    """What moving the process ``key`` to ``new`` changes; nothing is written. The mail plan
    is computed only when the move is allowed (and ``mails``)."""
    old, year, progress = current(db, key)
    plan = plan_migration(old, new, year, progress)
    diff = None
    if mails and plan.allowed and plan.new.hash != old.hash:

        def migrate(fork: Service) -> None:
            apply_migration(fork, key, new, at=now, actor=PREVIEW, reason=PREVIEW)

        diff = mail_plan_diff(db, key, migrate, now, link_secret, calendars)
    return Preview(key, plan, diff)


def refusal(plan: Plan) -> GuardRefused:
    return GuardRefused(
        "Flytningen afvises: " + "; ".join(r.da for r in plan.refusals),
        en="The migration is refused: " + "; ".join(r.en for r in plan.refusals),
    )


def apply_migration(
    service: Service,
    key: str,
    new: Bundle,
    *,
    at: datetime,
    actor: str,
    reason: str,
    expect_hash: str | None = None,
) -> Plan:
    """Move the process ``key`` to ``new`` in ONE transaction; ``GuardRefused`` (nothing
    written) when a rule refuses it, or when the process no longer runs the definition
    ``expect_hash`` names (what the preview showed)."""
    if not reason.strip():
        raise GuardRefused("angiv en begrundelse", en="give a reason")
    with service.transaction(key) as tx:
        p = tx.process
        if expect_hash is not None and p.definition_hash != expect_hash:
            raise GuardRefused(
                "processens definition er ændret siden forhåndsvisningen; se den igen",
                en="the process's definition changed since the preview; look at it again",
            )
        old = tx.bound.bundle
        progress = progress_of(tx.stages.values(), tx.tasks.values(), p.status)
        plan = plan_migration(old, new, p.year, progress)
        if not plan.allowed:
            raise refusal(plan)
        if plan.new.hash == old.hash:
            raise GuardRefused(
                "den nye definition er den samme som processens; der er intet at flytte",
                en="the new definition is the process's own; there is nothing to move",
            )
        _write(tx, plan, at)
        tx.event(at, actor, MIGRATED, reason=reason, data=plan.summary())
        _new_versions(tx, plan, at, actor)
        tx.commit()
    service.states.forget(key)  # the kept state holds the old definition
    return plan


def _new_versions(tx: ProcessTx, plan: Plan, at: datetime, actor: str) -> None:
    """A questionnaire changed after it was sent goes out again, as its new version, to
    every party that has not submitted (a new personal link; ``answering.revoke_link``)."""
    for st in plan.new.process.stages:
        ident = getattr(st, "questionnaire", None)
        if ident not in plan.bumped or st.id not in tx.stages:
            continue
        version = plan.bumped[ident][1]
        for t in list(tx.state.by_stage.get(st.id, [])):
            if t.status in NOT_SUBMITTED:
                answering.revoke_link(
                    tx,
                    st.id,
                    t.party,
                    "",
                    at=at,
                    actor=actor,
                    reason=f"spørgeskemaet {ident} er ændret: version {version}",
                    reissue=True,
                )


def _write(tx: ProcessTx, plan: Plan, at: datetime) -> None:
    p = tx.process
    new = plan.new
    p.definition_hash = new.hash
    p.definition_version = new.process.version
    p.title = bind(new, p.year).title
    if new.path:
        p.definition_path = new.path
    p.next_due_at = at  # the next tick plans the process under the new version
    p.updated_at = at
    procs, stages, tasks = TABLES["processes"], TABLES["stages"], TABLES["tasks"]
    tx.write(update(procs).where(procs.c.id == p.id).values(definition_snapshot=new.snapshot()))
    ids = [s.id for s in new.process.stages]
    for i, st in enumerate(new.process.stages):
        rec = tx.stages.get(st.id)
        if rec is None:
            tx.add_stage(
                StageRecord(process_id=p.id, stage_id=st.id, seq=i, kind=st.kind, status="pending")
            )
        elif rec.seq != i:
            rec.seq = i
    for sid in [s for s in tx.stages if s not in ids]:
        tx.cancel_mails(stage=sid)
        tx.write(delete(tasks).where(tasks.c.process_id == p.id, tasks.c.stage_id == sid))
        tx.write(delete(stages).where(stages.c.process_id == p.id, stages.c.stage_id == sid))
    gone = set(plan.old.participants) - set(new.participants)
    if gone:
        tx.write(
            delete(tasks).where(
                tasks.c.process_id == p.id,
                tasks.c.party.in_(sorted(gone)),
                tasks.c.status == "pending",
            )
        )
