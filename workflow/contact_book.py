"""The parties' contacts as live data: who a mail to a party's role goes to.

The party registry of a definition (``definitions/parties/``) seeds them: a process's start
writes a ``contacts`` row for every (party, role) of its registry that has none yet
(``seed_rows``), with ``created_by`` "registry". After that the secretariat keeps them
(``workflow.contact_changes``): rows are added and deactivated, never deleted. Every process on
the same registry (``PartyRegistry.id``) shares them.

The engine resolves a party's addresses when it queues a mail (``ProcessTx.addresses``): the
active rows of that (party, role), or — for a (party, role) with no row at all, as in a process
started before contacts were kept in the database — the process's own registry snapshot. The
book is read once per transaction (one SELECT of the registry's rows, only in a transaction
that queues mail), never once per mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from workflow.definition_parties import ROLES, Contact, PartyRegistry
from workflow.storage.fast import STATEMENTS
from workflow.storage.models import TABLES

_CONTACTS = TABLES["contacts"]
_C = _CONTACTS.c
_READ = (
    select(_CONTACTS)
    .where(_C.registry_id == bindparam("registry"))
    .order_by(_C.party, _C.role, _C.id)
)
#: What the engine needs of them (a prepared statement: ``workflow.storage.fast``).
_READ_LEAN = (
    select(_C.party, _C.role, _C.name, _C.address, _C.active, _C.id)
    .where(_C.registry_id == bindparam("registry"))
    .order_by(_C.party, _C.role, _C.id)
)
#: Who wrote the rows the registry seeded.
REGISTRY = "registry"


@dataclass(frozen=True)
class ContactEntry:
    """One contact of a party's role; ``id`` is None for one only in the registry snapshot."""

    party: str
    role: str
    name: str
    address: str
    active: bool = True
    id: int | None = None
    created_at: datetime | None = None
    created_by: str = REGISTRY
    changed_at: datetime | None = None
    changed_by: str = ""
    reason: str = ""

    @property
    def contact(self) -> Contact:
        return Contact(name=self.name, email=self.address)

    def same_address(self, address: str) -> bool:
        return self.address.strip().lower() == address.strip().lower()


class ContactBook:
    """A registry's contacts at one moment: the rows, over the registry's snapshot."""

    def __init__(self, registry: PartyRegistry, rows: Iterable[ContactEntry]) -> None:
        self.registry = registry
        self._kept: dict[tuple[str, str], list[ContactEntry]] = {}
        for r in rows:
            self._kept.setdefault((r.party, r.role), []).append(r)
        self._contacts: dict[tuple[str, str], list[Contact]] = {}

    def entries(self, party: str, role: str) -> list[ContactEntry]:
        """Every contact of the role, deactivated ones too (oldest first)."""
        kept = self._kept.get((party, role))
        if kept is not None:
            return list(kept)
        p = self.registry.by_slug.get(party)
        if p is None:
            return []
        return [ContactEntry(party, role, c.name, c.email) for c in p.addresses(role)]

    def active(self, party: str, role: str) -> list[ContactEntry]:
        return [e for e in self.entries(party, role) if e.active]

    def addresses(self, party: str, role: str) -> list[Contact]:
        """Who a mail to the party's role goes to now."""
        key = (party, role)
        got = self._contacts.get(key)
        if got is None:
            seen: set[str] = set()
            got = []
            for e in self.active(party, role):
                if e.address.lower() not in seen:  # two rows of one address: one recipient
                    seen.add(e.address.lower())
                    got.append(e.contact)
            self._contacts[key] = got
        return list(got)

    def in_database(self, party: str, role: str) -> bool:
        return (party, role) in self._kept

    def put(self, party: str, role: str, entries: Sequence[ContactEntry]) -> None:
        """The role's contacts after a change in this transaction (``workflow.contact_changes``)."""
        self._kept[(party, role)] = list(entries)
        self._contacts.pop((party, role), None)


def _entry(row: Any) -> ContactEntry:
    return ContactEntry(
        party=row.party,
        role=row.role,
        name=row.name,
        address=row.address,
        active=bool(row.active),
        id=row.id,
        created_at=row.created_at,
        created_by=row.created_by,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
        reason=row.reason,
    )


def read_book(conn: Connection, registry: PartyRegistry, *, full: bool = False) -> ContactBook:
    """The registry's contacts now: one SELECT. Without ``full`` only what mail needs (who,
    active or not: the engine's read, once per transaction that mails a party); with it also
    when, by whom and why each was changed (the lists)."""
    if full:
        rows = conn.execute(_READ, {"registry": registry.id}).all()
        return ContactBook(registry, (_entry(r) for r in rows))
    got = STATEMENTS.get("read contacts", conn, lambda: _READ_LEAN).all(
        conn, {"registry": registry.id}
    )
    return ContactBook(
        registry,
        (ContactEntry(r[0], r[1], r[2], r[3], active=bool(r[4]), id=r[5]) for r in got),
    )


def seed_rows(book: ContactBook, at: datetime) -> list[dict[str, Any]]:
    """The rows that seed every (party, role) of the registry with no row yet (idempotent:
    a (party, role) the secretariat has changed, or that was seeded before, is left alone)."""
    out = []
    for party in book.registry.parties:
        for role in ROLES:
            if book.in_database(party.slug, role):
                continue
            for e in book.entries(party.slug, role):
                out.append(new_row(book.registry.id, replace(e, created_at=at)))
    return out


def new_row(registry: str, e: ContactEntry) -> dict[str, Any]:
    """The ``contacts`` row of a new entry."""
    return {
        "registry_id": registry,
        "party": e.party,
        "role": e.role,
        "name": e.name,
        "address": e.address,
        "active": e.active,
        "created_at": e.created_at,
        "created_by": e.created_by,
        "changed_at": e.changed_at,
        "changed_by": e.changed_by,
        "reason": e.reason,
    }
