"""The application service: every change of a process goes through here.

Each command opens ONE ``ProcessTx`` (``workflow.tx``), calls the function that does the
change (``workflow.acts``, ``workflow.stage_control``, ``workflow.answering``,
``workflow.documents``), lets the tick catch up with what the change made due
(``workflow.tick.advance``) and commits. Starting and ticking are in ``workflow.engine``.
The commands that change a running year's plan are ``workflow.service_plan``, those about
mail beyond the cycle's own ``workflow.service_mail``, the contacts ``workflow.contact_commands``
(``Service.contacts``); ``Service`` has them all. Callers import everything they need from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from workflow import (
    acts,
    answering,
    digest,
    documents,
    engine,
    stage_control,
)
from workflow.clock import system_clock
from workflow.contact_commands import ContactCommands
from workflow.defaults import LATE_LOG_THRESHOLD
from workflow.loader import Bundle
from workflow.planner import document_conflict
from workflow.service_mail import MailCommands
from workflow.service_plan import PlanCommands
from workflow.state import ProcessStates
from workflow.step_plan import CalendarSource
from workflow.storage.db import Database
from workflow.tick import Applied, TickReport, advance
from workflow.timeline import bound_for
from workflow.tx import ProcessTx, process_tx

__all__ = [
    "LATE_LOG_THRESHOLD",
    "Applied",
    "Service",
    "TickReport",
    "bound_for",
    "document_conflict",
    "system_clock",
]


class Service(MailCommands, PlanCommands):
    """Commands on processes. ``link_secret`` derives personal-link tokens; ``calendars``
    finds the councils' meeting calendars an approval step is planned on (``workflow.step_plan``;
    the entry points pass ``workflow.risk_reads.calendars_of``; None: every step keeps its
    stage's deadline)."""

    def __init__(
        self, db: Database, *, link_secret: str, calendars: CalendarSource | None = None
    ) -> None:
        self.db = db
        self.link_secret = link_secret
        self.calendars = calendars
        self.states = ProcessStates()
        #: The parties' contacts: add, replace, deactivate (``workflow.contact_commands``).
        self.contacts = ContactCommands(db, self.transaction)

    @contextmanager
    def transaction(self, key: str) -> Iterator[ProcessTx]:
        """A ``ProcessTx`` over the process ``key``: commit it with ``tx.commit()``."""
        with process_tx(self.db, key, self.states, self.link_secret, self.calendars) as tx:
            yield tx

    # ------------------------------------------------------------------ the engine

    def start(
        self,
        bundle: Bundle,
        year: int,
        *,
        at: datetime,
        actor: str = "system",
        key: str | None = None,
    ) -> str:
        return engine.start(
            self.db, self.states, self.link_secret, bundle, year, at=at, actor=actor, key=key
        )

    def tick(self, at: datetime, *, actor: str = "scheduler") -> TickReport:
        return engine.tick(self.db, self.transaction, at, actor=actor)

    def queue_digests(self, at: datetime) -> int:
        """The weekly status digest of every running process, on Mondays (``workflow.digest``)."""
        return digest.queue_digests(self.db, self.transaction, at)

    def next_due(self) -> datetime | None:
        return engine.next_due(self.db)

    def retry_mail(self, outbox_id: int, *, at: datetime, actor: str, reason: str) -> None:
        engine.retry_mail(self.db, self.transaction, outbox_id, at=at, actor=actor, reason=reason)

    # ------------------------------------------------------------------ the secretariat's acts

    def record_outcome(
        self,
        key: str,
        stage_id: str,
        *,
        outcome: str,
        text: str = "",
        minutes: str = "",
        at: datetime,
        actor: str,
        reason: str = "",
        document_version: int | None = None,
        values: Mapping[str, list[str]] | None = None,
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            acts.record_outcome(
                tx,
                stage_id,
                outcome=outcome,
                text=text,
                minutes=minutes,
                at=at,
                actor=actor,
                reason=reason,
                document_version=document_version,
                values=values,
            )
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    def record_approval(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str,
        *,
        decision: str,
        at: datetime,
        actor: str,
        meeting_date: date | None = None,
        agenda_item: str = "",
        decision_text: str = "",
        minutes: str = "",
        minutes_file: Mapping[str, Any] | None = None,
        reason: str = "",
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            acts.record_approval(
                tx,
                stage_id,
                party,
                step,
                decision=decision,
                at=at,
                actor=actor,
                meeting_date=meeting_date,
                agenda_item=agenda_item,
                decision_text=decision_text,
                minutes=minutes,
                minutes_file=minutes_file,
                reason=reason,
            )
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    def extend(
        self,
        key: str,
        stage_id: str,
        party: str,
        deadline: date,
        *,
        at: datetime,
        actor: str,
        reason: str,
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            acts.extend(tx, stage_id, party, deadline, at=at, actor=actor, reason=reason)
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    def exempt(
        self, key: str, stage_id: str, party: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            acts.exempt(tx, stage_id, party, at=at, actor=actor, reason=reason)
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    def cancel(self, key: str, *, at: datetime, actor: str, reason: str) -> None:
        with self.transaction(key) as tx:
            acts.cancel(tx, at=at, actor=actor, reason=reason)
            tx.commit()

    def open_stage(
        self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            stage_control.open_now(tx, stage_id, at=at, actor=actor, reason=reason)
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    def close_stage(
        self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            stage_control.close_now(tx, stage_id, at=at, actor=actor, reason=reason)
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    def reopen_stage(
        self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str
    ) -> list[Applied]:
        with self.transaction(key) as tx:
            stage_control.reopen(tx, stage_id, at=at, actor=actor, reason=reason)
            applied = advance(tx, at, actor)
            tx.commit()
        return applied

    # ------------------------------------------------------------------ answers and links

    def submit_answer(
        self,
        key: str,
        stage_id: str,
        party: str,
        data: dict[str, Any],
        *,
        at: datetime,
        actor: str,
        receipt: Mapping[str, Any] | None = None,
    ) -> int:
        with self.transaction(key) as tx:
            version = answering.submit_answer(
                tx, stage_id, party, data, at=at, actor=actor, receipt=receipt
            )
            advance(tx, at, actor)
            tx.commit()
        return version

    def save_draft(
        self, key: str, stage_id: str, party: str, data: dict[str, Any], *, at: datetime, actor: str
    ) -> None:
        with self.transaction(key) as tx:
            answering.save_draft(tx, stage_id, party, data, at=at, actor=actor)
            tx.commit()

    def open_link(
        self, key: str, stage_id: str, party: str, step: str, *, at: datetime, actor: str
    ) -> bool:
        with self.transaction(key) as tx:
            first = answering.open_link(tx, stage_id, party, step, at=at, actor=actor)
            tx.commit()
        return first

    def revoke_link(
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
    ) -> answering.LinkChange:
        """Revoke a task's link, and with ``reissue`` mail a new one (``now``: at once)."""
        with self.transaction(key) as tx:
            change = answering.revoke_link(
                tx,
                stage_id,
                party,
                step,
                at=at,
                actor=actor,
                reason=reason,
                reissue=reissue,
                now=now,
            )
            tx.commit()
        return change

    def record_upload(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str,
        file: Mapping[str, Any],
        *,
        at: datetime,
        actor: str,
    ) -> None:
        with self.transaction(key) as tx:
            answering.record_upload(tx, stage_id, party, step, file, at=at, actor=actor)
            tx.commit()

    # ------------------------------------------------------------------ the agreement document

    def add_document(
        self,
        key: str,
        *,
        filename: str,
        media_type: str,
        content: bytes,
        at: datetime,
        actor: str,
        note: str = "",
    ) -> int:
        with self.transaction(key) as tx:
            version = documents.add_document(
                tx,
                filename=filename,
                media_type=media_type,
                content=content,
                at=at,
                actor=actor,
                note=note,
            )
            tx.commit()
        return version

    def put_up_for_approval(
        self, key: str, version: int | None, *, at: datetime, actor: str, reason: str
    ) -> str:
        """Put ``version`` up for approval (None: the version the decision recommended)."""
        with self.transaction(key) as tx:
            digest = documents.put_up_for_approval(tx, version, at=at, actor=actor, reason=reason)
            advance(tx, at, actor)
            tx.commit()
        return digest

    def recommended_version(self, key: str) -> dict[str, Any]:
        """The agreement version the recommending decision (KKR) recommended, ``{}`` if none
        (``version``, ``sha256``, ``filename``)."""
        with self.transaction(key) as tx:
            return documents.recommended_version(tx)
