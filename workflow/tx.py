"""``ProcessTx``: one explicit transaction over one process. Every command and every tick of a
process begins here (``process_tx``) and ends with ``tx.commit()``.

Opening reads the process row (on PostgreSQL after taking the process's advisory lock) and
hands out the process, its stages and its tasks as plain records (``workflow.storage.records``).
The state is kept between transactions (``ProcessStates``, bounded) and trusted only while the
row's ``row_version`` AND ``row_token`` are still the ones this process committed: the token is
drawn at random at every commit, so a database restored from a backup, where a version number
can come back with other content, never matches. A transaction collects what it will write:
changed and new records, audit events, mails, personal links, cancellations of queued mails
and any other statement. ``commit()`` writes it all, in that order, after moving the process's
version on with a check; a version another writer moved on raises ``ConcurrentUpdate`` and
writes nothing. Leaving the ``with`` block without ``commit()`` rolls everything back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Executable, Insert
from sqlalchemy.orm import Session

from workflow.contact_book import ContactBook, read_book
from workflow.definition_parties import Contact
from workflow.errors import ConcurrentUpdate, NotFound
from workflow.events import INSERT_EVENT, event_row
from workflow.live_plan import live
from workflow.machines import PROCESS
from workflow.mail import Mail, outbox_row
from workflow.state import ProcessState, ProcessStates
from workflow.step_plan import CalendarSource
from workflow.storage import reads, records
from workflow.storage.db import Database
from workflow.storage.fast import STATEMENTS
from workflow.storage.models import TABLES
from workflow.storage.records import StageRecord, TaskRecord
from workflow.storage.tx_statements import INSERT_LINK, LINK_COLUMNS, as_clause, cancel_queued
from workflow.timeline import BoundProcess, bound_definition
from workflow.tx_read import read_state

#: A process in one of these states has ended; its state is not kept after its transaction.
_FINAL = frozenset(PROCESS.final)


@dataclass
class Cancellation:
    """Queued mails cancelled at commit; ``count`` is known once they are."""

    stage: str | None
    kind: str | None
    count: int = 0


class ProcessTx:
    """The transaction: records to change, and what ``commit()`` will write."""

    def __init__(
        self,
        conn: Connection,
        state: ProcessState,
        link_secret: str,
        calendar_source: CalendarSource | None = None,
    ) -> None:
        #: The transaction's connection (begun); ``session`` reads ORM rows on it.
        self.conn = conn
        #: Where the councils' calendars are found (``workflow.step_plan``); None: none.
        self.calendar_source = calendar_source
        self._session: Session | None = None
        #: Derives the personal-link tokens (``workflow.links``).
        self.link_secret = link_secret
        self.state = state
        self.process = state.process
        self.bound = state.bound
        self.stages = state.stages
        self.tasks = state.tasks
        self.committed = False
        self._events: list[tuple[dict[str, Any], str, Cancellation | None]] = []
        self._mails: list[dict[str, Any]] = []
        self._links: list[dict[str, Any]] = []
        self._writes: list[tuple[Executable, Any, str]] = []
        self._cancellations: list[Cancellation] = []
        #: A document was added: what is read of the documents now is not kept.
        self.documents_changed = False
        self._book: ContactBook | None = None

    @property
    def session(self) -> Session:
        """An ORM session in this transaction, for reading other rows (answers, documents)."""
        if self._session is None:
            self._session = Session(bind=self.conn)
        return self._session

    # ------------------------------------------------------------ records

    def stage(self, stage_id: str) -> StageRecord:
        st = self.stages.get(stage_id)
        if st is None:
            from workflow.definition_errors import suggest

            ids = [x.id for x in self.bound.stages]
            raise NotFound(
                f"Processen {self.process.key} har ingen fase {stage_id!r}{suggest(stage_id, ids)}",
                en=f"Process {self.process.key} has no stage {stage_id!r}",
            )
        return st

    def record_actual(self, stage_id: str, at: datetime, values: dict[str, Any]) -> None:
        """A stage others follow completed at ``at`` (with its decided ``values``): kept on
        the process row, and the process is bound again so what follows moves."""
        actuals = dict(self.process.actuals or {})
        actuals[stage_id] = {"at": at.isoformat(), "values": values}
        self.process.actuals = actuals
        self._bind_again()

    def _bind_again(self) -> None:
        """Bind the process anew from its row — the definition, the completions recorded
        (``actuals``, ``workflow.follows``) and the secretariat's changes to the plan
        (``workflow.live_plan``) — in this transaction too."""
        p = self.process
        base = bound_definition(
            p.definition_hash, p.year, self.bound.bundle.snapshot, p.actuals, self.bound.bundle
        )
        self.bound = self.state.rebind(live(base, p.plan_changes))

    def task(self, stage_id: str, party: str, step: str) -> TaskRecord:
        t = self.tasks.get((stage_id, party, step))
        if t is None:
            what = f" ({step})" if step else ""
            raise NotFound(
                f"{party!r} har (endnu) ingen opgave{what} i fasen {stage_id!r}",
                en=f"{party!r} has no task{what} in stage {stage_id!r} (yet)",
            )
        return t

    def party_tasks(self, stage_id: str, party: str) -> list[TaskRecord]:
        """One party's tasks in a stage (every step of its chain), in order."""
        got = self.state.chain(stage_id, party)
        if not got:
            raise NotFound(
                f"{party!r} har (endnu) ingen opgave i fasen {stage_id!r}",
                en=f"{party!r} has no task in stage {stage_id!r} (yet)",
            )
        return got

    def add_task(self, t: TaskRecord) -> None:
        self.state.new.append(t)
        self.state.hold_task(t)

    def add_stage(self, st: StageRecord) -> None:
        self.state.new.append(st)
        self.state.hold_stage(st)

    def change_plan(self, changes: dict[str, Any]) -> None:
        """The secretariat changed the plan (``workflow.live_plan``): kept on the process row,
        and read from now on, in this transaction too."""
        self.process.plan_changes = changes
        self._bind_again()

    def contact_book(self) -> ContactBook:
        """The parties' contacts (``workflow.contact_book``), read on the first mail to a
        party and kept with the process's state (trusted while its version and token are;
        ``workflow.contact_changes`` moves every other process's on)."""
        if self._book is None:
            kept = self.state.contacts
            if kept is None:
                kept = self.state.contacts = read_book(self.conn, self.bound.bundle.parties)
            self._book = kept
        return self._book

    def addresses(self, party: str, role: str) -> list[Contact]:
        """Who a mail to ``party``'s ``role`` goes to now (the live contacts)."""
        return self.contact_book().addresses(party, role)

    # ------------------------------------------------------------ what commit() writes

    def event(
        self,
        at: datetime,
        actor: str,
        kind: str,
        *,
        stage: str = "",
        party: str = "",
        step: str = "",
        reason: str = "",
        data: dict[str, Any] | None = None,
        count_of: Cancellation | None = None,
        count_as: str = "",
    ) -> None:
        """An audit event; with ``count_of`` its ``data[count_as]`` is how many mails that
        cancellation cancelled."""
        row = event_row(
            self.process.id,
            at,
            actor,
            kind,
            stage=stage,
            party=party,
            step=step,
            reason=reason,
            data=data,
        )
        self._events.append((row, count_as, count_of))

    def mail(self, mail: Mail, at: datetime) -> None:
        p = self.process
        row = outbox_row(
            mail,
            process_id=p.id,
            process_key=p.key,
            title=p.title,
            year=p.year,
            bound=self.bound,
            at=at,
        )
        self._mails.append(row)
        self.state.note_mail(row)

    def queued(self, kind: str, t: TaskRecord) -> tuple[int | None, int]:
        """(highest sequence or None, how many) of the task's mails of ``kind``, those queued
        in this transaction included."""
        got = self.state.stage_mails(self.conn, t.stage_id, self._mails).get(
            (kind, t.party, t.step)
        )
        return (got[0], got[1]) if got else (None, 0)

    def document_up(self, sha256: str) -> dict[str, Any]:
        """The newest agreement version with this hash (``workflow.storage.reads``); kept in
        the state until the hash changes or a document is added."""
        st = self.state
        if st.document is not None and st.document[0] == sha256:
            return st.document[1]
        info = reads.document_up(self.conn, self.process.id, sha256)
        if not self.documents_changed:
            st.document = (sha256, info)
        return info

    def link(self, t: TaskRecord, token_hash: str, at: datetime) -> None:
        """A personal link of ``t``'s generation; one that exists already stays as it is."""
        self.link_to(t.stage_id, t.party, t.step, t.link_generation, token_hash, at)

    def link_to(
        self, stage_id: str, party: str, step: str, generation: int, token_hash: str, at: datetime
    ) -> None:
        """A personal link of (stage, party, step) of ``generation`` that is no task's (the
        report's link of a meeting's invitees, ``workflow.forum_report``)."""
        self._links.append(
            {
                "token_hash": token_hash,
                "process_id": self.process.id,
                "stage_id": stage_id,
                "party": party,
                "step": step,
                "generation": generation,
                "created_at": at,
                "revoked_at": None,
                "kept": False,
            }
        )

    def cancel_mails(self, *, stage: str | None = None, kind: str | None = None) -> Cancellation:
        """Cancel this process's queued mails (of ``stage`` and ``kind`` if given; those queued
        in this transaction too) in ONE conditional UPDATE at commit: a mail a sender has
        claimed already (``sending``) is not touched, so nothing is both cancelled and sent."""
        c = Cancellation(stage, kind)
        self._cancellations.append(c)
        return c

    def write(self, statement: Executable, params: Any = None, *, name: str = "") -> None:
        """Any other statement (an answer, a document), executed at commit in order. A
        ``name`` prepares it once (``workflow.storage.fast``): for a statement built once,
        with every value in ``params``."""
        self._writes.append((statement, params, name))

    def commit(self) -> None:
        conn = self.conn
        st = self.state
        p = self.process
        if (
            st.new
            or st.touched
            or self._events
            or self._mails
            or self._links
            or self._writes
            or self._cancellations
        ):
            if not records.update_process(conn, p, secrets.token_hex(8)):
                raise ConcurrentUpdate(
                    f"Processen {p.key} blev ændret af en anden samtidig (version "
                    f"{p.row_version} findes ikke længere); intet er gemt, prøv igen.",
                    en=f"Process {p.key} was changed by another writer (row version "
                    f"{p.row_version} is gone); nothing was written, try again.",
                )
            self._write(conn)
        if self._session is not None:
            self._session.close()
        conn.commit()
        self.committed = True

    def _write(self, conn: Connection) -> None:
        st = self.state
        records.insert_new(conn, st.new)
        records.update_changed(conn, st.touched)
        st.new.clear()
        st.touched.clear()
        for statement, params, name in self._writes:
            if name:
                keys = list(params) if isinstance(statement, Insert) else ()
                STATEMENTS.get(name, conn, partial(as_clause, statement), keys).execute(
                    conn, params
                )
            else:
                conn.execute(statement, params)
        if self._links:
            STATEMENTS.get(
                "insert links", conn, lambda: INSERT_LINK[conn.dialect.name], LINK_COLUMNS
            ).executemany(conn, self._links)
        if self._mails:
            outbox = TABLES["outbox"]
            keys = list(self._mails[0])
            STATEMENTS.get("insert outbox", conn, lambda: outbox.insert(), keys).executemany(
                conn, self._mails
            )
        for c in self._cancellations:
            params = {"pid": self.process.id, "stage": c.stage, "kind": c.kind}
            name = f"cancel mails {c.stage is not None} {c.kind is not None}"
            stmt = STATEMENTS.get(
                name, conn, partial(cancel_queued, c.stage is not None, c.kind is not None)
            )
            c.count = stmt.execute(conn, {k: v for k, v in params.items() if v is not None})
        rows = []
        for row, count_as, count_of in self._events:
            if count_of is not None:
                row["data"] = {**row["data"], count_as: count_of.count}
            rows.append(row)
        if rows:
            keys = list(rows[0])
            STATEMENTS.get("insert events", conn, lambda: INSERT_EVENT, keys).executemany(
                conn, rows
            )


@contextmanager
def process_tx(
    db: Database,
    key: str,
    states: ProcessStates,
    link_secret: str,
    calendar_source: CalendarSource | None = None,
) -> Iterator[ProcessTx]:
    """Begin a transaction over the process ``key``; end it with ``tx.commit()`` (leaving the
    block without it rolls back, and the kept state is dropped)."""
    conn = db.engine.connect()
    tx: ProcessTx | None = None
    try:
        conn.begin()
        tx = ProcessTx(conn, read_state(conn, key, states), link_secret, calendar_source)
        yield tx
    finally:
        if tx is None or not tx.committed or tx.process.status in _FINAL:
            states.forget(key)  # a process that has ended is not kept: no tick comes for it
        if tx is not None and tx._session is not None:
            tx._session.close()
        conn.close()


@contextmanager
def new_process_tx(
    db: Database,
    values: dict[str, Any],
    bound: BoundProcess,
    states: ProcessStates,
    link_secret: str,
) -> Iterator[ProcessTx]:
    """Begin a transaction that creates a process (``values``: its row)."""
    conn = db.engine.connect()
    tx: ProcessTx | None = None
    try:
        conn.begin()
        if conn.execute(records.PROCESS_ID_BY_KEY, {"key": values["key"]}).first() is not None:
            from workflow.errors import AftaleflowError

            raise AftaleflowError(
                f"Der kører allerede en proces {values['key']!r}; angiv en anden --key for at "
                "starte en til.",
                en=f"A process {values['key']!r} is already running; give another --key to "
                "start a second.",
            )
        rec = records.insert_process(conn, values)
        state = ProcessState(rec, bound, [], [])
        tx = ProcessTx(conn, state, link_secret)
        yield tx
        if tx.committed:
            states.put(rec.key, state)
    finally:
        if tx is not None and not tx.committed:
            states.forget(values["key"])
        conn.close()
