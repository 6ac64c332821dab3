"""What the engine keeps of a process between transactions: its records, indexed for the
planner and the commands (``ProcessState``), and the bounded set of them (``ProcessStates``),
each checked against the database before use (``workflow.tx``)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection

from workflow import defaults
from workflow.agenda import Agenda
from workflow.contact_book import ContactBook
from workflow.storage import reads
from workflow.storage.records import ProcessRecord, Record, StageRecord, TaskRecord
from workflow.timeline import BoundProcess
from workflow.views import TaskKey, document_conflict


class ProcessState:
    """A process's records as the engine holds them, and what the planner reads of them."""

    def __init__(
        self,
        process: ProcessRecord,
        bound: BoundProcess,
        stages: list[StageRecord],
        tasks: list[TaskRecord],
    ) -> None:
        self.process = process
        self.bound = bound
        self.touched: list[Record] = []
        self.new: list[Record] = []
        #: Stages and tasks changed since the planner last looked (``workflow.agenda``).
        self.dirty: set[Record] = set()
        self._agenda = Agenda()
        self.stages: dict[str, StageRecord] = {}
        self.tasks: dict[TaskKey, TaskRecord] = {}
        self.by_stage: dict[str, list[TaskRecord]] = {}
        self.by_party: dict[tuple[str, str], list[TaskRecord]] = {}
        self.deadlines = {s.id: s.deadline for s in bound.stages}
        #: The agreement version up for approval: (hash, what mails name of it), once read.
        self.document: tuple[str, dict[str, Any]] | None = None
        #: stage → its mails so far, (kind, party, step) → [highest sequence, how many]: read
        #: once per stage, then counted as mails are queued (only the engine queues them).
        self.mails: dict[str, dict[reads.MailKey, list[int]]] = {}
        #: The parties' contacts (``workflow.contact_book``), once read; a contact change moves
        #: every other process's version on, so a state kept past one is never trusted.
        self.contacts: ContactBook | None = None
        process.track(self.touched)
        for st in stages:
            self.hold_stage(st)
        for t in tasks:
            self.hold_task(t)

    def rebind(self, bound: BoundProcess) -> BoundProcess:
        """The process bound anew — the secretariat changed the plan (``workflow.live_plan``)
        or a recorded completion moved later dates (``workflow.follows``): every date is read
        from ``bound`` now, and the planner looks at every stage and task again."""
        self.bound = bound
        self.deadlines = {s.id: s.deadline for s in bound.stages}
        for t in self.tasks.values():
            t.__dict__["stage_deadline"] = self.deadlines.get(t.stage_id)
            self.dirty.add(t)
        self.dirty.update(self.stages.values())
        self._agenda = Agenda()
        return bound

    def hold_stage(self, st: StageRecord) -> None:
        st.track(self.touched, self.dirty)
        self.stages[st.stage_id] = st
        self.dirty.add(st)

    def hold_task(self, t: TaskRecord) -> None:
        t.__dict__["stage_deadline"] = self.deadlines.get(t.stage_id)
        t.track(self.touched, self.dirty)
        self.tasks[t.key] = t
        self.by_stage.setdefault(t.stage_id, []).append(t)
        chain = self.by_party.setdefault((t.stage_id, t.party), [])
        chain.append(t)
        chain.sort(key=lambda x: x.seq)
        self.dirty.add(t)

    def stage_mails(
        self, conn: Connection, stage: str, pending: list[dict[str, Any]]
    ) -> dict[reads.MailKey, list[int]]:
        """The stage's mails, those ``pending`` in the transaction (outbox rows) included."""
        known = self.mails.get(stage)
        if known is None:
            known = self.mails[stage] = reads.stage_mails(conn, self.process.id, stage)
            for row in pending:
                if row["stage_id"] == stage:
                    _count(known, row)
        return known

    def note_mail(self, row: dict[str, Any]) -> None:
        """An outbox row queued in the transaction."""
        known = self.mails.get(row["stage_id"])
        if known is not None:
            _count(known, row)

    # ------------------------------------------------------------ what the planner reads

    @property
    def status(self) -> str:
        return self.process.status

    @property
    def document_conflict(self) -> str:
        return document_conflict(self.process.approval_document_hash, self.tasks.values())

    @property
    def agreement_up(self) -> bool:
        return bool(self.process.approval_document_hash)

    def tasks_of(self, stage: str) -> list[TaskRecord]:
        return self.by_stage.get(stage, [])

    def chain(self, stage: str, party: str) -> list[TaskRecord]:
        """A party's tasks in a stage, in order (an approval chain's steps)."""
        return self.by_party.get((stage, party), [])

    @property
    def agenda(self) -> Agenda:
        """The planner's memory, brought up to date with what changed."""
        self._agenda.absorb(self.dirty)
        return self._agenda


def _count(known: dict[reads.MailKey, list[int]], row: dict[str, Any]) -> None:
    got = known.setdefault((row["kind"], row["party"], row["step"]), [row["seq"], 0])
    got[0] = max(got[0], row["seq"])
    got[1] += 1


class ProcessStates:
    """The states of the processes used last, at most ``size``; each is checked before use."""

    def __init__(self, size: int = defaults.CACHED_PROCESSES) -> None:
        self.size = size
        self._states: OrderedDict[str, ProcessState] = OrderedDict()

    def get(self, key: str, row: ProcessRecord) -> ProcessState | None:
        got = self._states.get(key)
        if got is None:
            return None
        p = got.process
        if row.row_token is None or (p.id, p.row_version, p.row_token) != (
            row.id,
            row.row_version,
            row.row_token,
        ):
            del self._states[key]
            return None
        self._states.move_to_end(key)
        return got

    def id_of(self, key: str) -> int | None:
        got = self._states.get(key)
        return got.process.id if got else None

    def process_of(self, key: str) -> ProcessRecord | None:
        """The kept process record of ``key`` (not yet checked), if any."""
        got = self._states.get(key)
        return got.process if got else None

    def put(self, key: str, state: ProcessState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self.size:
            self._states.popitem(last=False)

    def forget(self, key: str) -> None:
        self._states.pop(key, None)
