"""Workshops people sign up for: the decisions, as functions of a ``ProcessTx``.

A party signs its participants up through the workshop invitation's personal link. Seats go
first come, first served across parties, in the order of sign-up (``seq``); past the
workshop's capacity a participant is on the waiting list. Cancelling a confirmed participant
moves the first one waiting up. Every participant gets a mail: a confirmation with the
workshop's calendar file, or a "venteliste" mail; one moved up gets a confirmation, one
cancelled a cancellation (with a calendar cancellation if they had a seat). The
tick reminds parties without sign-ups and tells the secretariat about a workshop below its
minimum (``workflow.signup_rules`` says when). Afterwards the secretariat records attendance
and the workshop's conclusions (``workflow.workshop_after``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update

from workflow.dates import format_datetime
from workflow.definition_parties import Contact
from workflow.errors import GuardRefused, NotFound
from workflow.links import LinkKey, make_token, token_hash
from workflow.mail import Mail
from workflow.signup_rules import SignupWindow, signup_window
from workflow.storage.models import WorkshopSignupRow
from workflow.storage.reads import Signup, workshop_signups
from workflow.tx import ProcessTx

CONFIRMED, WAITING, CANCELLED = "confirmed", "waiting", "cancelled"
ACTIVE = (CONFIRMED, WAITING)
#: The path of a workshop's personal link (``/tilmeld/<token>``); the renderer reads it.
LINK_PATH = "tilmeld"
NAME_MAX, ROLE_MAX, EMAIL_MAX, TEXT_MAX = 200, 200, 320, 20_000
_EMAIL = re.compile(r"^[^@\s<>\"',;()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Participant:
    name: str
    role: str
    email: str


def participant_issues(p: Participant) -> dict[str, str]:
    """What is wrong with one participant, by field, as message keys (the web words them)."""
    issues: dict[str, str] = {}
    if not p.name:
        issues["name"] = "name_missing"
    elif len(p.name) > NAME_MAX:
        issues["name"] = "name_too_long"
    if len(p.role) > ROLE_MAX:
        issues["role"] = "role_too_long"
    if not p.email:
        issues["email"] = "email_missing"
    elif len(p.email) > EMAIL_MAX or not _EMAIL.match(p.email):
        issues["email"] = "email_invalid"
    return issues


def signups(tx: ProcessTx, stage_id: str, workshop_id: str) -> list[Signup]:
    """Every sign-up of a workshop in the order they came (read in the transaction)."""
    return workshop_signups(tx.conn, tx.process.id, stage_id, workshop_id)


def _window(tx: ProcessTx, stage_id: str, workshop_id: str) -> SignupWindow:
    window = signup_window(tx.bound, stage_id, workshop_id)
    if tx.process.status != "running" or tx.stage(stage_id).status != "open":
        name = tx.bound.stage(stage_id).definition.name
        raise GuardRefused(
            f"Fasen »{name}« er ikke åben; tilmeldingen er lukket.",
            en=f"The stage »{name}« is not open; the sign-up is closed.",
        )
    return window


def _party_name(tx: ProcessTx, party: str) -> str:
    found = tx.bound.bundle.parties.by_slug.get(party)
    return found.name if found else party


def _refuse_sign_up(
    window: SignupWindow,
    rows: Sequence[Signup],
    people: Sequence[Participant],
    at: datetime,
) -> None:
    """Refused after the deadline, for a participant with a problem, or an address already on
    the workshop's list (``rows``) or given twice."""
    if not window.open_for_signup(at):
        title, closed = window.event.title, window.deadline
        raise GuardRefused(
            f"Tilmeldingen til »{title}« lukkede {format_datetime(closed)}.",
            en=f"The sign-up for »{title}« closed {format_datetime(closed, 'en')}.",
        )
    if not people or any(participant_issues(p) for p in people):
        raise GuardRefused(
            "Hver deltager skal have et navn og en gyldig e-mailadresse.",
            en="Every participant needs a name and a valid e-mail address.",
        )
    taken = {r.email.lower() for r in rows if r.status in ACTIVE}
    emails = [p.email.lower() for p in people]
    twice = sorted({e for e in emails if e in taken or emails.count(e) > 1})
    if twice:
        raise GuardRefused(
            f"Allerede tilmeldt workshoppen: {', '.join(twice)}.",
            en=f"Already signed up for this workshop: {', '.join(twice)}.",
        )


def sign_up(
    tx: ProcessTx,
    stage_id: str,
    workshop_id: str,
    party: str,
    people: Sequence[Participant],
    *,
    at: datetime,
    actor: str,
) -> list[str]:
    """Sign ``people`` of ``party`` up; the status each got, in order. Refused whole (nothing
    written) after the deadline, for a participant with a problem, or an address already on
    the workshop's list."""
    window = _window(tx, stage_id, workshop_id)
    rows = signups(tx, stage_id, workshop_id)
    _refuse_sign_up(window, rows, people, at)
    confirmed = sum(1 for r in rows if r.status == CONFIRMED)
    waiting = any(r.status == WAITING for r in rows)
    seq = max((r.seq for r in rows), default=0)
    statuses = []
    for p in people:
        seq += 1
        status = CONFIRMED if confirmed < window.rules.capacity and not waiting else WAITING
        confirmed += status == CONFIRMED
        waiting = waiting or status == WAITING
        values = {
            "process_id": tx.process.id,
            "stage_id": stage_id,
            "workshop_id": workshop_id,
            "party": party,
            "seq": seq,
            "name": p.name,
            "role": p.role,
            "email": p.email,
            "status": status,
            "signed_up_at": at,
        }
        tx.write(insert(WorkshopSignupRow), values)
        data = {"seq": seq, "status": status, "workshop": workshop_id}
        kind = "workshop_signed_up" if status == CONFIRMED else "workshop_waitlisted"
        tx.event(at, actor, kind, stage=stage_id, party=party, step=workshop_id, data=data)
        _participant_mail(tx, window, party, seq, p, status, at)
        statuses.append(status)
    return statuses


def _cancellable(
    tx: ProcessTx,
    window: SignupWindow,
    rows: Sequence[Signup],
    party: str,
    seq: int,
    at: datetime,
) -> Signup:
    """``party``'s participant ``seq`` still signed up, before the workshop begins."""
    title = window.event.title
    if not window.open_for_cancelling(at):
        raise GuardRefused(
            f"Workshoppen »{title}« er begyndt; der kan ikke længere afmeldes.",
            en=f"The workshop »{title}« has begun; nothing can be cancelled.",
        )
    row = next((r for r in rows if r.seq == seq and r.party == party), None)
    if row is None or row.status not in ACTIVE:
        name = _party_name(tx, party)
        raise NotFound(
            f"{name} har ingen deltager nr. {seq} tilmeldt »{title}«.",
            en=f"{name} has no participant no. {seq} signed up for »{title}«.",
        )
    return row


def cancel(
    tx: ProcessTx,
    stage_id: str,
    workshop_id: str,
    party: str,
    seq: int,
    *,
    at: datetime,
    actor: str,
    reason: str = "",
) -> int | None:
    """Cancel ``party``'s participant number ``seq``; a confirmed seat goes to the first one
    waiting, who is mailed. The seq of the one moved up, if any."""
    window = _window(tx, stage_id, workshop_id)
    rows = signups(tx, stage_id, workshop_id)
    row = _cancellable(tx, window, rows, party, seq, at)
    _set(tx, row, {"status": CANCELLED, "cancelled_at": at})
    data = {"seq": seq, "was": row.status, "workshop": workshop_id}
    tx.event(
        at,
        actor,
        "workshop_cancelled",
        stage=stage_id,
        party=party,
        step=workshop_id,
        reason=reason,
        data=data,
    )
    _cancellation_mail(tx, window, row, at)
    if row.status != CONFIRMED:
        return None
    first = next((r for r in rows if r.status == WAITING), None)
    if first is None:
        return None
    _set(tx, first, {"status": CONFIRMED, "promoted_at": at})
    data = {"seq": first.seq, "freed_by": seq, "workshop": workshop_id}
    tx.event(
        at,
        actor,
        "workshop_promoted",
        stage=stage_id,
        party=first.party,
        step=workshop_id,
        data=data,
    )
    who = Participant(first.name, first.role, first.email)
    _participant_mail(tx, window, first.party, first.seq, who, CONFIRMED, at, promoted=True)
    return first.seq


def _set(tx: ProcessTx, row: Signup, values: Mapping[str, Any]) -> None:
    tx.write(update(WorkshopSignupRow).where(WorkshopSignupRow.id == row.id).values(**values))


def event_context(window: SignupWindow) -> dict[str, Any]:
    """The workshop as a mail's ``event`` (what the calendar file is built from)."""
    ev = window.event
    return {
        "id": ev.id,
        "title": ev.title,
        "start": ev.start.isoformat(),
        "end": ev.end.isoformat(),
        "location": ev.location,
        "sequence": ev.sequence,
        "method": "REQUEST",
    }


def _participant_mail(
    tx: ProcessTx,
    window: SignupWindow,
    party: str,
    seq: int,
    p: Participant,
    status: str,
    at: datetime,
    *,
    promoted: bool = False,
) -> None:
    details = {
        "event": event_context(window),
        "participant": {"name": p.name, "role": p.role},
        "promoted": promoted,
    }
    tx.mail(
        Mail(
            kind="workshop_confirmation" if status == CONFIRMED else "workshop_waiting",
            stage=window.stage_id,
            party=party,
            step=window.id,
            seq=seq,
            recipients=(Contact(name=p.name, email=p.email),),
            details=details,
        ),
        at,
    )


def _cancellation_mail(tx: ProcessTx, window: SignupWindow, row: Signup, at: datetime) -> None:
    """The cancelled participant is told; one who had a seat gets a calendar cancellation."""
    event = {**event_context(window), "method": "CANCEL", "sequence": window.event.sequence + 1}
    tx.mail(
        Mail(
            kind="workshop_cancellation",
            stage=window.stage_id,
            party=row.party,
            step=window.id,
            seq=row.seq,
            recipients=(Contact(name=row.name, email=row.email),),
            details={
                "event": event,
                "participant": {"name": row.name, "role": row.role},
                "was": row.status,
            },
        ),
        at,
    )


def issue_signup_link(
    tx: ProcessTx, stage_id: str, party: str, workshop_id: str, at: datetime
) -> dict[str, Any]:
    """The party's personal link to a workshop's sign-up (generation 1, stored as a hash);
    the mail's ``link`` context."""
    token = make_token(tx.link_secret, LinkKey(tx.process.id, stage_id, party, workshop_id, 1))
    # written at commit with the other links; one that exists already stays as it is
    tx.link_to(stage_id, party, workshop_id, 1, token_hash(token), at)
    return {"generation": 1, "page": LINK_PATH}


def signup_details(
    tx: ProcessTx, stage_id: str, party: str, workshop_id: str, at: datetime
) -> dict[str, Any]:
    """What a workshop invitation adds when the workshop takes sign-ups: the link and the
    sign-up's terms; ``{}`` when it does not."""
    try:
        window = signup_window(tx.bound, stage_id, workshop_id)
    except NotFound:
        return {}
    return {
        "link": issue_signup_link(tx, stage_id, party, workshop_id, at),
        "signup": {
            "capacity": window.rules.capacity,
            "deadline": window.deadline.isoformat(),
        },
    }
