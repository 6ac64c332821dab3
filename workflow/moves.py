"""Moving a meeting or a workshop (time, place) and cancelling it. Each is a function of the ``ProcessTx`` it changes; ``workflow.service`` opens
the transaction, calls one, lets the tick catch up and commits.

The change is kept on the process row (``workflow.live_plan``) and read from then on by
everything timed from it; the mails of the old plan still queued are cancelled, and the
invitees get the calendar update (the same UID, a higher SEQUENCE, or METHOD:CANCEL) with a
short text saying what changed. A stage's deadline moved for everyone is in
``workflow.deadline_moves``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import update

from workflow import live_plan
from workflow.calendar import local_to_utc, to_local
from workflow.changes import state_da, state_en
from workflow.dates import format_datetime, format_day, format_short
from workflow.definition_parties import Contact
from workflow.errors import GuardRefused
from workflow.mail import Mail
from workflow.storage.models import OutboxRow
from workflow.timeline import BoundEvent, BoundStage
from workflow.tx import ProcessTx
from workflow.workshops import CONFIRMED, signups


def parse_start(text: str, old: BoundEvent) -> datetime:
    """The new start from ``2022-06-22T14:00`` or ``2022-06-22 14:00`` (Danish time), or a
    day alone (``2022-06-22``: the meeting keeps its time of day); UTC."""
    raw = text.strip().replace(" ", "T")
    try:
        if "T" in raw:
            local = datetime.fromisoformat(raw)
            if local.tzinfo is not None:
                return local.astimezone(UTC)
            return local_to_utc(local.date(), local.time())
        day = date.fromisoformat(raw)
    except ValueError:
        raise GuardRefused(
            f"»{text}« er ikke et tidspunkt; skriv f.eks. 2022-06-22T14:00 eller 2022-06-22.",
            en=f"»{text}« is not a time; write e.g. 2022-06-22T14:00 or 2022-06-22.",
        ) from None
    return local_to_utc(day, to_local(old.start).time())


def find_event(bst: BoundStage, event_id: str | None) -> BoundEvent:
    """The stage's meeting or workshop ``event_id`` (a stage with one needs none named)."""
    every = [*bst.events, *bst.cancelled]
    if not every:
        raise GuardRefused(
            f"Fasen »{bst.definition.name}« har intet møde eller nogen workshop.",
            en=f"The stage »{bst.definition.name}« has no meeting or workshop.",
        )
    if event_id is None and len(every) == 1:
        return every[0]
    for ev in every:
        if ev.id == event_id:
            return ev
    ids = ", ".join(ev.id for ev in every)
    if event_id is None:
        raise GuardRefused(
            f"Fasen »{bst.definition.name}« har flere møder; vælg et af dem: {ids}.",
            en=f"The stage »{bst.definition.name}« has several meetings; choose one: {ids}.",
        )
    raise GuardRefused(
        f"Fasen »{bst.definition.name}« har intet møde {event_id!r}; vælg et af dem: {ids}.",
        en=f"The stage »{bst.definition.name}« has no meeting {event_id!r}; choose one: {ids}.",
    )


def move_event(
    tx: ProcessTx,
    stage_id: str,
    event_id: str | None,
    *,
    start: datetime,
    location: str | None,
    at: datetime,
    actor: str,
    reason: str,
) -> BoundEvent:
    """Move a meeting or a workshop to ``start`` (its length kept), and/or to ``location``.
    Later than now: postponed; earlier, or only the place: moved. Returns it as it is now."""
    tx.stage(stage_id)  # an unknown stage: NotFound, with the nearest name
    bst = tx.bound.stage(stage_id)
    old = _movable(tx, bst, event_id, at, reason, "flyttes", "moved")
    new_location = old.location if location is None else location.strip()
    if start == old.start and new_location == old.location:
        raise GuardRefused(
            f"»{old.title}« ligger allerede {format_datetime(start)} ({old.location}); "
            "der er intet at flytte.",
            en=f"»{old.title}« is already at {format_datetime(start, 'en')} ({old.location}); "
            "there is nothing to move.",
        )
    if start <= at:
        raise GuardRefused(
            f"Det nye tidspunkt {format_short(start)} ligger i fortiden "
            f"(nu er det {format_short(at)}).",
            en=f"The new time {format_short(start, 'en')} is in the past "
            f"(it is {format_short(at, 'en')} now).",
        )
    _within_stage(bst, old, start)
    status = live_plan.POSTPONED if start > old.start else live_plan.MOVED
    end = start + (old.end - old.start)
    new, cancelled = _change(tx, bst, old, (status, start, end, new_location), at)
    _log(tx, bst, old, new, cancelled, at, actor, reason)
    return new


def cancel_event(
    tx: ProcessTx, stage_id: str, event_id: str | None, *, at: datetime, actor: str, reason: str
) -> BoundEvent:
    """Cancel a meeting or a workshop: its invitees get METHOD:CANCEL, its queued mails are
    cancelled, and nothing more is planned from it (report, sign-up reminders)."""
    tx.stage(stage_id)  # an unknown stage: NotFound, with the nearest name
    bst = tx.bound.stage(stage_id)
    old = _movable(tx, bst, event_id, at, reason, "aflyses", "cancelled")
    change = (live_plan.CANCELLED, old.start, old.end, old.location)
    new, cancelled = _change(tx, bst, old, change, at)
    _log(tx, bst, old, new, cancelled, at, actor, reason)
    return new


def _movable(
    tx: ProcessTx,
    bst: BoundStage,
    event_id: str | None,
    at: datetime,
    reason: str,
    verb: str,
    verb_en: str,
) -> BoundEvent:
    """The meeting to change, refused with the reason why it cannot be."""
    if not reason.strip():
        raise GuardRefused(
            f"Skriv hvorfor mødet {verb} (begrundelsen kommer i loggen).",
            en=f"Write why the meeting is {verb_en} (the reason goes to the log).",
        )
    p = tx.process
    if p.status not in ("running", "blocked"):
        raise GuardRefused(
            f"Processen {p.key} er {state_da(p.status)}; dens møder kan ikke længere {verb}.",
            en=f"The process {p.key} is {state_en(p.status)}; its meetings can no longer be "
            f"{verb_en}.",
        )
    ev = find_event(bst, event_id)
    stage = tx.stage(bst.id)
    if ev in bst.cancelled:
        raise GuardRefused(
            f"»{ev.title}« er aflyst; et aflyst møde kan ikke {verb}.",
            en=f"»{ev.title}« is cancelled; a cancelled meeting cannot be {verb_en}.",
        )
    if stage.status in ("completed", "cancelled"):
        raise GuardRefused(
            f"Fasen »{bst.definition.name}« er {state_da(stage.status)}, så »{ev.title}« er "
            f"holdt; et holdt møde kan ikke {verb}.",
            en=f"The stage »{bst.definition.name}« is {state_en(stage.status)}, so "
            f"»{ev.title}« was held; a meeting already held cannot be {verb_en}.",
        )
    if ev.start <= at:
        raise GuardRefused(
            f"»{ev.title}« begyndte {format_short(ev.start)} og er holdt; et holdt møde kan "
            f"ikke {verb}.",
            en=f"»{ev.title}« began at {format_short(ev.start, 'en')} and was held; a meeting "
            f"already held cannot be {verb_en}.",
        )
    return ev


def _within_stage(bst: BoundStage, ev: BoundEvent, start: datetime) -> None:
    day = to_local(start).date()
    opens = to_local(bst.opens_at).date()
    closes = to_local(bst.closes_at).date() if bst.closes_at else None
    if day < opens or (closes is not None and day > closes):
        last = format_day(closes) if closes else "åben slutning"
        raise GuardRefused(
            f"»{ev.title}« kan ikke flyttes til {format_day(day)}: det ligger uden for fasen "
            f"»{bst.definition.name}« ({format_day(opens)} til {last}).",
            en=f"»{ev.title}« cannot move to {day}: that is outside the stage "
            f"»{bst.definition.name}« ({opens} to {closes or 'open end'}).",
        )


def _change(
    tx: ProcessTx,
    bst: BoundStage,
    old: BoundEvent,
    change: tuple[str, datetime, datetime, str],
    at: datetime,
) -> tuple[BoundEvent, int]:
    """Keep the change (status, start, end, location), cancel the old plan's queued mails
    (how many: the second value), queue the calendar updates."""
    status, start, end, location = change
    record = {
        "status": status,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "location": location,
        "sequence": old.sequence + 1,
    }
    tx.change_plan(live_plan.with_event(tx.process.plan_changes, bst.id, old.id, record))
    now = tx.bound.stage(bst.id)
    new = next(ev for ev in (*now.events, *now.cancelled) if ev.id == old.id)
    cancelled = _cancel_old_plan(tx, bst, old, status)
    if tx.stage(bst.id).status in ("open", "blocked"):
        _queue_updates(tx, now, old, new, at)
    return new, cancelled


def _cancel_old_plan(tx: ProcessTx, bst: BoundStage, old: BoundEvent, status: str) -> int:
    """Cancel now the queued mails about the meeting as it was (its invitation, an earlier
    update; all of them for a cancelled one); a report mailed on the old date but not sent yet
    is cancelled and planned again for the new one."""
    o = OutboxRow
    mine = (o.process_id == tx.process.id) & (o.stage_id == bst.id) & (o.status == "queued")
    kinds = ("meeting_invitation", "meeting_update")
    about = (o.step == old.id) & (
        o.kind.in_(kinds) if status != live_plan.CANCELLED else o.kind.isnot(None)
    )
    n = _cancel(tx, mine & about)
    if bst.events and bst.events[0].id == old.id:
        report = _cancel(tx, mine & (o.kind == "forum_report"))
        stage = tx.stage(bst.id)
        if report and status != live_plan.CANCELLED:
            stage.report_sent_at = None
        n += report
    return n


def _cancel(tx: ProcessTx, where: Any) -> int:
    result = tx.conn.execute(
        update(OutboxRow)
        .where(where)
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _queue_updates(
    tx: ProcessTx, bst: BoundStage, old: BoundEvent, new: BoundEvent, at: datetime
) -> None:
    """One mail per party to the stage's invitees with the calendar update."""
    roles = list(getattr(bst.definition, "invite", []) or [])
    cancelled = new.status == live_plan.CANCELLED
    event = {
        "id": new.id,
        "title": new.title,
        "start": new.start.isoformat(),
        "end": new.end.isoformat(),
        "location": new.location,
        "sequence": new.sequence,
        "method": "CANCEL" if cancelled else "REQUEST",
    }
    was = {"start": old.start.isoformat(), "end": old.end.isoformat(), "location": old.location}
    seated = _seated(tx, bst, new)
    for slug in tx.bound.bundle.participants:
        invitees = [c for r in roles for c in tx.addresses(slug, r)]
        known = {c.email.lower() for c in invitees}
        extra = [c for c in seated.get(slug, []) if c.email.lower() not in known]
        recipients = tuple(invitees + extra)
        if not recipients:
            continue
        details = {"event": event, "was": was, "change": new.status}
        tx.mail(
            Mail(
                kind="meeting_update",
                stage=bst.id,
                party=slug,
                step=new.id,
                seq=new.sequence,
                recipients=recipients,
                details=details,
                thread_under="meeting_invitation",
            ),
            at,
        )


def _seated(tx: ProcessTx, bst: BoundStage, ev: BoundEvent) -> dict[str, list[Contact]]:
    """A workshop's participants with a seat, per party: they have it in their calendar (the
    confirmation's file) and get the update with their party's invitees."""
    if bst.kind != "workshops":
        return {}
    out: dict[str, list[Contact]] = {}
    for row in signups(tx, bst.id, ev.id):
        if row.status == CONFIRMED:
            out.setdefault(row.party, []).append(Contact(name=row.name, email=row.email))
    return out


def _log(
    tx: ProcessTx,
    bst: BoundStage,
    old: BoundEvent,
    new: BoundEvent,
    cancelled: int,
    at: datetime,
    actor: str,
    reason: str,
) -> None:
    kind = "meeting_cancelled" if new.status == live_plan.CANCELLED else "meeting_moved"
    data: dict[str, Any] = {
        "event": new.id,
        "title": new.title,
        "status": new.status,
        "sequence": new.sequence,
        "from": {"start": old.start.isoformat(), "location": old.location},
        "to": {"start": new.start.isoformat(), "location": new.location},
        "mails_cancelled": cancelled,
    }
    tx.event(at, actor, kind, stage=bst.id, reason=reason, data=data)
