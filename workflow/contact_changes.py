"""The secretariat changes a party's contacts: add, replace, deactivate. Functions of a
``ProcessTx`` (the process the change is made from; the contacts are the registry's, shared by
every process on it, ``workflow.contact_book``).

One change is one transaction: the ``contacts`` rows (the registry's rows are seeded first if
they are not yet), an audit event with who and why, the mails queued and not yet sent
re-addressed, and what is pending for the role sent to the new contact:

- **queued mail** (not yet claimed by the sender) to the party that names the old address goes
  to the new one instead (replace) or no longer to it (deactivate); a mail paused for a
  failing address that now has a working one is due at once. A contact added beside the others
  is added to the queued invitations, requests and reminders of its role.
- **pending tasks** of the role (a questionnaire not answered, an approval step not decided,
  its stage open) whose invitation has been sent: the task's link is re-issued and the
  invitation (or request) mailed again, to the role's contacts now, with the new link. The old
  contact's link keeps working (``LinkRow.kept``) unless the secretariat chooses to revoke it;
  a later re-issue or revoke stops it.

Other running processes on the same registry get their pending invitations re-issued in
their own transactions (``Service.contacts``, ``workflow.contact_commands``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, update

from workflow.changes import ask, recipient_role
from workflow.contact_book import ContactBook, ContactEntry, new_row, seed_rows
from workflow.contact_mail import add_to_queued, queued_mail, readdress, relink_reminders
from workflow.definition_errors import suggest
from workflow.definition_parties import ROLES, Contact
from workflow.errors import GuardRefused, NotFound
from workflow.storage.models import TABLES, LinkRow
from workflow.storage.records import TaskRecord
from workflow.tx import ProcessTx

_CONTACTS = TABLES["contacts"]
_PROCESSES = TABLES["processes"]
#: A task still waiting for its party (the stage open): what a new contact is sent again.
PENDING = {
    "questionnaire": ("invited", "opened", "draft", "overdue"),
    "approval": ("requested", "postponed"),
}
#: Roles in Danish, for messages.
ROLE_NAMES = {
    "committee_secretary": ("udvalgssekretær", "committee secretary"),
    "director": ("direktør", "director"),
    "council_secretariat": ("byråds-/regionsrådssekretariat", "council secretariat"),
}


@dataclass(frozen=True)
class Reissued:
    """A pending task whose new link goes to the new contact, and when it is mailed."""

    stage: str
    step: str
    generation: int
    sends_at: datetime


@dataclass(frozen=True)
class ContactChange:
    """What a change did: the mails re-addressed, the tasks whose link was re-issued."""

    kind: str  # added | replaced | deactivated
    party: str
    role: str
    address: str
    old_address: str = ""
    readdressed: int = 0
    reissued: list[Reissued] = field(default_factory=list)


def seed_contacts(tx: ProcessTx, at: datetime) -> None:
    """The registry's contacts into the database for every (party, role) with no row yet
    (a process starts; a first change)."""
    book = tx.contact_book()
    rows = seed_rows(book, at)
    if not rows:
        return
    tx.write(insert(_CONTACTS), rows)
    for key in {(r["party"], r["role"]) for r in rows}:
        book.put(*key, [replace(e, created_at=at) for e in book.entries(*key)])
    forget_kept_contacts(tx)


def forget_kept_contacts(tx: ProcessTx) -> None:
    """Every other process's kept state (and its contacts) is stale: their versions move on
    with a new token (``workflow.state``), so each reads its contacts again. A transaction
    of theirs in flight meets ``ConcurrentUpdate`` and is retried."""
    p = _PROCESSES.c
    tx.write(
        update(_PROCESSES)
        .where(p.id != tx.process.id)
        .values(row_version=p.row_version + 1, row_token=secrets.token_hex(8))
    )


def add_contact(
    tx: ProcessTx,
    party: str,
    role: str,
    *,
    name: str,
    address: str,
    at: datetime,
    actor: str,
    reason: str,
    now: bool = False,
) -> ContactChange:
    """A new contact of the party's role, beside those it has."""
    contact = _checked(tx, party, role, name, address, reason)
    book = _seeded(tx, at)
    entries = book.entries(party, role)
    _refuse_duplicate(entries, contact.email, party, role)
    new = ContactEntry(party, role, contact.name, contact.email, created_at=at, created_by=actor)
    tx.write(insert(_CONTACTS), new_row(book.registry.id, replace(new, reason=reason)))
    book.put(party, role, [*entries, new])
    queued = queued_mail(tx, party)
    tasks = {(t.stage_id, t.step) for t in _pending_tasks(tx, party, role)}
    n = add_to_queued(tx, queued, tasks, contact, at)
    reissued = reissue_pending(
        tx, party, role, at=at, actor=actor, reason=reason, revoke_old=False, now=now
    )
    change = ContactChange("added", party, role, contact.email, "", n, reissued)
    _audit(tx, change, at, actor, reason, name=contact.name)
    return change


def replace_contact(
    tx: ProcessTx,
    party: str,
    role: str,
    old_address: str,
    *,
    name: str,
    address: str,
    at: datetime,
    actor: str,
    reason: str,
    revoke_old: bool = False,
    now: bool = False,
) -> ContactChange:
    """The old contact deactivated and the new one added, in one transaction; the queued
    mail to the old address goes to the new one, and the pending invitation of the role is
    sent to the new contact with a new link (the old link revoked only with ``revoke_old``)."""
    contact = _checked(tx, party, role, name, address, reason)
    book = _seeded(tx, at)
    entries = book.entries(party, role)
    old = _active_one(entries, old_address, party, role)
    _refuse_duplicate([e for e in entries if e is not old], contact.email, party, role)
    _deactivate_row(tx, book, old, at, actor, reason)
    new = ContactEntry(party, role, contact.name, contact.email, created_at=at, created_by=actor)
    tx.write(insert(_CONTACTS), new_row(book.registry.id, replace(new, reason=reason)))
    gone = replace(old, active=False, changed_at=at, changed_by=actor, reason=reason)
    book.put(party, role, [gone if e is old else e for e in entries] + [new])
    n = readdress(tx, queued_mail(tx, party), old.address, contact, at)
    reissued = reissue_pending(
        tx, party, role, at=at, actor=actor, reason=reason, revoke_old=revoke_old, now=now
    )
    change = ContactChange("replaced", party, role, contact.email, old.address, n, reissued)
    _audit(tx, change, at, actor, reason, name=contact.name, revoke_old=revoke_old)
    return change


def deactivate_contact(
    tx: ProcessTx, party: str, role: str, address: str, *, at: datetime, actor: str, reason: str
) -> ContactChange:
    """The contact gets no more mail; refused for the role's last active contact (replace it
    instead, so the role's mails always have somebody to go to)."""
    _checked_party_role(tx, party, role)
    _require_reason(reason)
    book = _seeded(tx, at)
    entries = book.entries(party, role)
    old = _active_one(entries, address, party, role)
    if len([e for e in entries if e.active]) == 1:
        da, en = ROLE_NAMES[role]
        raise GuardRefused(
            f"{old.address} er partens eneste aktive {da}; erstat kontakten i stedet for at "
            "deaktivere den (så har rollens mails stadig en modtager).",
            en=f"{old.address} is the party's only active {en}; replace the contact instead "
            "(so the role's mails still have a recipient).",
        )
    _deactivate_row(tx, book, old, at, actor, reason)
    gone = replace(old, active=False, changed_at=at, changed_by=actor, reason=reason)
    book.put(party, role, [gone if e is old else e for e in entries])
    n = readdress(tx, queued_mail(tx, party), old.address, None, at)
    change = ContactChange("deactivated", party, role, old.address, old.address, n)
    _audit(tx, change, at, actor, reason, name=old.name)
    return change


def reissue_pending(
    tx: ProcessTx,
    party: str,
    role: str,
    *,
    at: datetime,
    actor: str,
    reason: str,
    revoke_old: bool,
    now: bool = False,
) -> list[Reissued]:
    """The role's pending tasks of the party get a new link, mailed to the role's contacts
    now; a task whose invitation is still queued (it goes to the new contact as it is) is
    left alone."""
    queued = [r for r in queued_mail(tx, party) if r.process_id == tx.process.id]
    still_queued = {
        (r.stage_id, r.step) for r in queued if r.kind in ("invitation", "approval_request")
    }
    out = []
    for t in _pending_tasks(tx, party, role):
        if (t.stage_id, t.step) in still_queued:
            continue
        out.append(
            _reissue(tx, t, at=at, actor=actor, reason=reason, revoke_old=revoke_old, now=now)
        )
        relink_reminders(tx, queued, t)  # a reminder still queued carries the new link too
    return out


def _pending_tasks(tx: ProcessTx, party: str, role: str) -> list[TaskRecord]:
    if tx.process.status != "running":
        return []
    out = []
    for (stage_id, who, _step), t in sorted(tx.tasks.items()):
        if who != party or t.status not in PENDING.get(t.kind, ()):
            continue
        if tx.stage(stage_id).status != "open":
            continue
        definition = tx.bound.stage(stage_id).definition
        if recipient_role(definition, t.step) == role:
            out.append(t)
    return out


def _reissue(
    tx: ProcessTx,
    t: TaskRecord,
    *,
    at: datetime,
    actor: str,
    reason: str,
    revoke_old: bool,
    now: bool,
) -> Reissued:
    old = t.link_generation
    mine = (
        LinkRow.process_id == tx.process.id,
        LinkRow.stage_id == t.stage_id,
        LinkRow.party == t.party,
        LinkRow.step == t.step,
        LinkRow.revoked_at.is_(None),
    )
    if revoke_old:
        tx.write(update(LinkRow).where(*mine).values(revoked_at=at))
    else:
        tx.write(update(LinkRow).where(*mine, LinkRow.generation == old).values(kept=True))
    t.link_generation = old + 1
    data = {
        "from": old,
        "to": t.link_generation,
        "new_contact": True,
        "old_link": "revoked" if revoke_old else "kept",
    }
    tx.event(
        at,
        actor,
        "link_reissued",
        stage=t.stage_id,
        party=t.party,
        step=t.step,
        reason=reason,
        data=data,
    )
    sends_at = ask(tx, t, at, seq=old, reissued=True, now=now)
    return Reissued(t.stage_id, t.step, t.link_generation, sends_at)


# ---------------------------------------------------------------------- checks


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise GuardRefused(
            "Skriv hvorfor kontakten ændres (begrundelsen kommer i loggen).",
            en="Write why the contact changes (the reason goes to the log).",
        )


def _checked_party_role(tx: ProcessTx, party: str, role: str) -> None:
    parties = tx.bound.bundle.parties
    if party not in parties.by_slug:
        raise NotFound(
            f"Ukendt part {party!r}{suggest(party, parties.slugs)}",
            en=f"Unknown party {party!r}",
        )
    if role not in ROLES:
        raise GuardRefused(
            f"Ukendt rolle {role!r}{suggest(role, list(ROLES))}; rollerne er " + ", ".join(ROLES),
            en=f"Unknown role {role!r}; the roles are " + ", ".join(ROLES),
        )


def _checked(tx: ProcessTx, party: str, role: str, name: str, address: str, reason: str) -> Contact:
    _checked_party_role(tx, party, role)
    _require_reason(reason)
    name = " ".join(name.split())
    if not name:
        raise GuardRefused("Skriv kontaktens navn.", en="Write the contact's name.")
    try:
        return Contact(name=name[:300], email=address.strip())
    except ValidationError:
        raise GuardRefused(
            f"{address.strip()!r} er ikke en mailadresse; skriv fx navn@kommune.example.",
            en=f"{address.strip()!r} is not an e-mail address; write e.g. name@kommune.example.",
        ) from None


def _refuse_duplicate(entries: Sequence[ContactEntry], address: str, party: str, role: str) -> None:
    if any(e.active and e.same_address(address) for e in entries):
        da, en = ROLE_NAMES[role]
        raise GuardRefused(
            f"{address} er allerede {da} for {party}.",
            en=f"{address} is already {en} of {party}.",
        )


def _active_one(
    entries: Sequence[ContactEntry], address: str, party: str, role: str
) -> ContactEntry:
    for e in entries:
        if e.active and e.same_address(address):
            return e
    da, en = ROLE_NAMES[role]
    known = ", ".join(e.address for e in entries if e.active) or "ingen"
    raise NotFound(
        f"{address} er ikke en aktiv {da} for {party} (aktive: {known}).",
        en=f"{address} is not an active {en} of {party} (active: {known}).",
    )


# ---------------------------------------------------------------------- writes


def _seeded(tx: ProcessTx, at: datetime) -> ContactBook:
    """The book, its registry's rows written first where there are none yet."""
    seed_contacts(tx, at)
    return tx.contact_book()


def _deactivate_row(
    tx: ProcessTx, book: ContactBook, old: ContactEntry, at: datetime, actor: str, reason: str
) -> None:
    c = _CONTACTS.c
    tx.write(
        update(_CONTACTS)
        .where(
            c.registry_id == book.registry.id,
            c.party == old.party,
            c.role == old.role,
            func.lower(c.address) == old.address.lower(),
            c.active.is_(True),
        )
        .values(active=False, changed_at=at, changed_by=actor, reason=reason)
    )


def _audit(
    tx: ProcessTx,
    change: ContactChange,
    at: datetime,
    actor: str,
    reason: str,
    *,
    name: str,
    revoke_old: bool = False,
) -> None:
    data: dict[str, Any] = {
        "registry": tx.bound.bundle.parties.id,
        "role": change.role,
        "name": name,
        "address": change.address,
        "mails_readdressed": change.readdressed,
        "links_reissued": [{"stage": r.stage, "step": r.step} for r in change.reissued],
    }
    if change.kind == "replaced":
        data.update(old_address=change.old_address, old_link_revoked=revoke_old)
    tx.event(at, actor, f"contact_{change.kind}", party=change.party, reason=reason, data=data)
    forget_kept_contacts(tx)


__all__ = [
    "PENDING",
    "ContactChange",
    "Reissued",
    "add_contact",
    "deactivate_contact",
    "reissue_pending",
    "replace_contact",
    "seed_contacts",
]
