"""Moving a meeting or a workshop (time, place), cancelling it, and moving a stage's deadline
for every party. Each is a function of the ``ProcessTx`` it changes; ``workflow.service`` opens
the transaction, calls one, lets the tick catch up and commits.

The change is kept on the process row (``workflow.live_plan``) and read from then on by
everything timed from it; the mails of the old plan still queued are cancelled, and the
invitees get the calendar update (the same UID, a higher SEQUENCE, or METHOD:CANCEL) with a
short text saying what changed. A moved deadline re-plans the reminders and escalations of the
parties that have not answered and tells them ("ny frist"); those that have answered get
nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import update

from workflow import live_plan
from workflow.acts import cancel_party_reminders, check_new_deadline, replan_from_deadline
from workflow.calendar import local_to_utc, to_local
from workflow.changes import first_mail_kind, issue_link, stage_name, state_da, state_en
from workflow.dates import format_datetime, format_day, format_short
from workflow.definition import QuestionnaireStage
from workflow.definition_parties import Contact
from workflow.errors import GuardRefused
from workflow.mail import Mail, iso_day
from workflow.storage.models import OutboxRow
from workflow.storage.records import TaskRecord
from workflow.timeline import BoundEvent, BoundStage
from workflow.tx import ProcessTx
from workflow.workshops import CONFIRMED, signups

#: A task that has answered (or need not): a moved deadline does not concern it.
ANSWERED = ("submitted", "approved", "rejected", "exempt")
#: A task that was asked and has not answered: it is told of a moved deadline.
WAITING = ("invited", "opened", "draft", "overdue", "requested", "postponed")


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
    raise GuardRefused(
        f"Fasen »{bst.definition.name}« har {'ingen workshop ' + repr(event_id) if event_id else 'flere'}"
        f"; vælg en af: {ids}.",
        en=f"The stage »{bst.definition.name}« has "
        f"{'no workshop ' + repr(event_id) if event_id else 'several'}; choose one of: {ids}.",
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
        party = tx.bound.bundle.parties.get(slug)
        invitees = [c for r in roles for c in party.addresses(r)]
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


# ---------------------------------------------------------------------- a stage's deadline


def move_deadline(
    tx: ProcessTx, stage_id: str, deadline: date, *, at: datetime, actor: str, reason: str
) -> dict[str, list[str]]:
    """A new deadline for every party of the stage. Returns the parties told ("told"), those
    that had answered ("answered") and those whose own extension stands ("extended")."""
    if not reason.strip():
        raise GuardRefused(
            "Skriv hvorfor fristen flyttes (begrundelsen kommer i loggen).",
            en="Write why the deadline is moved (the reason goes to the log).",
        )
    bst = tx.bound.stage(stage_id)
    stage = tx.stage(stage_id)
    name = stage_name(tx, stage_id)
    if bst.deadline is None:
        raise GuardRefused(
            f"Fasen »{name}« har ingen frist, der kan flyttes.",
            en=f"The stage »{name}« has no deadline to move.",
        )
    if stage.status in ("completed", "cancelled"):
        raise GuardRefused(
            f"Fasen »{name}« er {state_da(stage.status)}; dens frist kan ikke flyttes.",
            en=f"The stage »{name}« is {state_en(stage.status)}; its deadline cannot be moved.",
        )
    if deadline == bst.deadline:
        raise GuardRefused(
            f"Fasens frist er allerede {format_day(deadline)}; der er intet at flytte.",
            en=f"The stage's deadline is {deadline} already; there is nothing to move.",
        )
    check_new_deadline(bst, deadline, at, reason)
    if isinstance(bst.definition, QuestionnaireStage) and bst.send_at is not None:
        sent = to_local(bst.send_at).date()
        if deadline < sent:
            raise GuardRefused(
                f"Den nye frist {format_day(deadline)} ligger før spørgsmålene sendes "
                f"({format_day(sent)}).",
                en=f"The new deadline {deadline} is before the questions are sent ({sent}).",
            )
    old = bst.deadline
    seq = live_plan.deadline_moves(tx.process.plan_changes, stage_id) + 1
    record = {"deadline": deadline.isoformat(), "sequence": seq}
    tx.change_plan(live_plan.with_deadline(tx.process.plan_changes, stage_id, record))
    now = tx.bound.stage(stage_id)
    out: dict[str, list[str]] = {"told": [], "answered": [], "extended": []}
    cancelled = 0
    for party in tx.bound.bundle.participants:
        chain = tx.state.chain(stage_id, party)
        if not chain:
            continue
        if chain[0].deadline_override is not None:
            out["extended"].append(party)
            continue
        waiting = [t for t in chain if t.status in WAITING]
        if not waiting:
            if all(t.status in ANSWERED for t in chain):
                out["answered"].append(party)
            continue
        for t in chain:
            if t.status not in ANSWERED:
                replan_from_deadline(tx, now, t, deadline, at)
        cancelled += cancel_party_reminders(tx, stage_id, party)
        _tell(tx, now, waiting[0], old, seq, at)
        out["told"].append(party)
    data: dict[str, Any] = {
        "from": old.isoformat(),
        "to": deadline.isoformat(),
        "sequence": seq,
        "mails_cancelled": cancelled,
        **out,
    }
    tx.event(at, actor, "stage_deadline_moved", stage=stage_id, reason=reason, data=data)
    return out


def _tell(tx: ProcessTx, bst: BoundStage, t: TaskRecord, old: date, seq: int, at: datetime) -> None:
    """The "ny frist" mail to a party that has not answered, with its personal link."""
    definition = bst.definition
    details: dict[str, Any] = {
        "deadline": iso_day(t.deadline),
        "previous_deadline": iso_day(old),
        "link": issue_link(tx, t, at),
    }
    if t.kind == "approval":
        details["body"] = t.step
    role = getattr(definition, "recipients", "committee_secretary")
    tx.mail(
        Mail(
            kind="new_deadline",
            stage=t.stage_id,
            party=t.party,
            step=t.step,
            seq=seq,
            recipients=tuple(tx.bound.bundle.parties.get(t.party).addresses(role)),
            details=details,
            thread_under=first_mail_kind(t),
        ),
        at,
    )
