"""The contact commands as the dashboard and the CLI call them (``Service.contacts``): each
change is one ``ProcessTx`` of the process it is made from (``workflow.contact_changes``);
then every other running process on the same party registry re-issues its pending
invitations of the role to the new contact, each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from workflow import contact_changes
from workflow.contact_book import ContactBook, read_book
from workflow.contact_changes import ContactChange, Reissued
from workflow.storage.db import Database
from workflow.storage.models import ProcessRow
from workflow.timeline import bound_for
from workflow.tx import ProcessTx

Transaction = Callable[[str], AbstractContextManager[ProcessTx]]


@dataclass(frozen=True)
class Book:
    """A process's party registry and its contacts now (for lists)."""

    process_key: str
    registry_id: str
    book: ContactBook


class ContactCommands:
    def __init__(self, db: Database, transaction: Transaction) -> None:
        self.db = db
        self.transaction = transaction

    def book(self, key: str) -> Book:
        with self.db.sessions() as s:
            row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
            if row is None:
                from workflow.errors import NotFound

                raise NotFound(f"Ingen proces {key!r}", en=f"No process {key!r}")
            parties = bound_for(row).bundle.parties
            return Book(key, parties.id, read_book(s.connection(), parties, full=True))

    def add(
        self,
        key: str,
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
        with self.transaction(key) as tx:
            change = contact_changes.add_contact(
                tx,
                party,
                role,
                name=name,
                address=address,
                at=at,
                actor=actor,
                reason=reason,
                now=now,
            )
            registry = tx.bound.bundle.parties.id
            tx.commit()
        return self._elsewhere(key, registry, change, at, actor, reason, False, now)

    def replace(
        self,
        key: str,
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
        with self.transaction(key) as tx:
            change = contact_changes.replace_contact(
                tx,
                party,
                role,
                old_address,
                name=name,
                address=address,
                at=at,
                actor=actor,
                reason=reason,
                revoke_old=revoke_old,
                now=now,
            )
            registry = tx.bound.bundle.parties.id
            tx.commit()
        return self._elsewhere(key, registry, change, at, actor, reason, revoke_old, now)

    def deactivate(
        self,
        key: str,
        party: str,
        role: str,
        address: str,
        *,
        at: datetime,
        actor: str,
        reason: str,
    ) -> ContactChange:
        with self.transaction(key) as tx:
            change = contact_changes.deactivate_contact(
                tx, party, role, address, at=at, actor=actor, reason=reason
            )
            tx.commit()
        return change

    def _elsewhere(
        self,
        key: str,
        registry: str,
        change: ContactChange,
        at: datetime,
        actor: str,
        reason: str,
        revoke_old: bool,
        now: bool,
    ) -> ContactChange:
        """The other running processes on ``registry`` send their pending invitations of the
        role to the new contact too."""
        more: list[Reissued] = []
        for other in self._running_on(registry, key):
            with self.transaction(other) as tx:
                more += contact_changes.reissue_pending(
                    tx,
                    change.party,
                    change.role,
                    at=at,
                    actor=actor,
                    reason=reason,
                    revoke_old=revoke_old,
                    now=now,
                )
                tx.commit()
        if not more:
            return change
        return ContactChange(
            change.kind,
            change.party,
            change.role,
            change.address,
            change.old_address,
            change.readdressed,
            [*change.reissued, *more],
        )

    def _running_on(self, registry: str, but: str) -> list[str]:
        with self.db.sessions() as s:
            rows = s.scalars(
                select(ProcessRow).where(ProcessRow.status == "running", ProcessRow.key != but)
            ).all()
            return [r.key for r in rows if bound_for(r).bundle.parties.id == registry]
