"""A process's stages and tasks as plain records, for the engine's write path.

A command loads every stage and task of its process (the planner needs them all) and changes
one or two. Loading them as ORM objects costs an identity map entry, instrumented attributes
and change tracking for each of ~50 rows, in every transaction; a record is a plain object
built from a Core row, which remembers which columns were set. Before anything reads through
the session, and before commit, the changes are written: new records with one ``executemany``
INSERT per table, changed ones with one ``executemany`` UPDATE per (table, columns changed),
addressed by their natural key (``process_id`` + ``stage_id`` [+ ``party`` + ``step``]), which
the schema makes unique. The ORM models stay the schema and the read side's view of the
same tables (``workflow.storage.models``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Insert, Select, Table, Update, bindparam, event, insert, select, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflow.storage import appends
from workflow.storage.models import TABLES

_KEY = "aftaleflow.records"


class Record:
    """One row; setting a column after loading marks it changed."""

    table: ClassVar[Table]
    natural_key: ClassVar[tuple[str, ...]]
    columns: ClassVar[tuple[str, ...]]

    def __init__(self, **values: Any) -> None:
        d = self.__dict__
        for c in self.columns:
            d[c] = values.pop(c, None)
        if values:
            raise TypeError(f"{type(self).__name__} has no column(s) {', '.join(values)}")
        d["_new"] = True
        d["_changed"] = set()

    @classmethod
    def loaded(cls, row: Sequence[Any]) -> Any:
        obj = cls.__new__(cls)
        d = obj.__dict__
        d.update(zip(cls.columns, row, strict=True))
        d["_new"] = False
        d["_changed"] = set()
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if name not in d:
            raise AttributeError(f"{type(self).__name__} has no column {name!r}")
        if d[name] != value or type(d[name]) is not type(value):
            d[name] = value
            if not d["_new"]:
                d["_changed"].add(name)

    def __repr__(self) -> str:
        key = ", ".join(f"{c}={self.__dict__[c]!r}" for c in self.natural_key)
        return f"<{type(self).__name__} {key} {getattr(self, 'status', '')}>"


class ProcessRecord(Record):
    """A process row without its definition snapshot (loaded only when the bound definition
    is not cached: ``workflow.engine``). Written with an optimistic version check: every
    transaction that changes anything of the process moves ``row_version`` on, and one that
    finds it moved by another writer fails with ``StaleDataError`` and changes nothing."""

    table = TABLES["processes"]
    natural_key = ("id",)
    columns = tuple(c.key for c in TABLES["processes"].columns if c.key != "definition_snapshot")

    id: int
    key: str
    title: str
    year: int
    definition_id: str
    definition_version: int
    definition_hash: str
    definition_path: str
    status: str
    approval_document_hash: str | None
    next_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    row_version: int


class StageRecord(Record):
    table = TABLES["stages"]
    natural_key = ("process_id", "stage_id")
    columns = tuple(c.key for c in TABLES["stages"].columns)

    id: int | None
    process_id: int
    stage_id: str
    seq: int
    kind: str
    status: str
    opened_at: datetime | None
    closed_at: datetime | None
    submitted_at: datetime | None
    outcome: dict[str, Any] | None


class TaskRecord(Record):
    table = TABLES["tasks"]
    natural_key = ("process_id", "stage_id", "party", "step")
    columns = tuple(c.key for c in TABLES["tasks"].columns)

    id: int | None
    process_id: int
    stage_id: str
    party: str
    step: str
    seq: int
    kind: str
    status: str
    deadline_override: date | None
    invited_at: datetime | None
    opened_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    reminders_done: int
    last_mail_at: datetime | None
    escalated: bool
    link_generation: int
    decision: dict[str, Any] | None


_PROCESSES = "aftaleflow.processes"
_WROTE = "aftaleflow.wrote"
_BY_KEY = select(*(ProcessRecord.table.c[c] for c in ProcessRecord.columns)).where(
    ProcessRecord.table.c.key == bindparam("key")
)
_PROCESS_UPDATES: dict[frozenset[str], Update] = {}
_SELECTS: dict[type[Record], Select[Any]] = {}
_INSERTS: dict[type[Record], Insert] = {}
_UPDATES: dict[tuple[type[Record], frozenset[str]], Update] = {}


def _select(cls: type[Record]) -> Select[Any]:
    stmt = _SELECTS.get(cls)
    if stmt is None:
        t = cls.table
        stmt = _SELECTS[cls] = select(t).where(t.c.process_id == bindparam("pid"))
    return stmt


def load(s: Session, cls: type[Record], process_id: int) -> list[Any]:
    """Every row of ``cls``'s table for one process, tracked in this session's transaction."""
    rows = [cls.loaded(r) for r in s.execute(_select(cls), {"pid": process_id})]
    _tracked(s).extend(rows)
    return rows


_LOADED = "aftaleflow.loaded"


def process_state(
    s: Session, process_id: int
) -> tuple[dict[str, StageRecord], dict[tuple[str, str, str], TaskRecord]]:
    """The process's stages by id and tasks by (stage, party, step), loaded once per
    transaction."""
    cache: dict[int, Any] | None = s.info.get(_LOADED)
    if cache is None:
        cache = s.info[_LOADED] = {}
    got = cache.get(process_id)
    if got is None:
        stages = {st.stage_id: st for st in load(s, StageRecord, process_id)}
        tasks = {(t.stage_id, t.party, t.step): t for t in load(s, TaskRecord, process_id)}
        got = cache[process_id] = (stages, tasks)
    return got


def new_process_state(
    s: Session, process_id: int
) -> tuple[dict[str, StageRecord], dict[tuple[str, str, str], TaskRecord]]:
    """The (empty) state of a process this transaction creates: nothing to load."""
    cache: dict[int, Any] = s.info.setdefault(_LOADED, {})
    got: tuple[dict[str, StageRecord], dict[tuple[str, str, str], TaskRecord]] = ({}, {})
    cache[process_id] = got
    return got


def add(s: Session, record: Record) -> None:
    """Insert ``record`` with this transaction (written with the next read or the commit)."""
    _tracked(s).append(record)


def _tracked(s: Session) -> list[Record]:
    got: list[Record] | None = s.info.get(_KEY)
    if got is None:
        got = s.info[_KEY] = []
    return got


def _update(cls: type[Record], cols: frozenset[str]) -> Update:
    stmt = _UPDATES.get((cls, cols))
    if stmt is None:
        t = cls.table
        stmt = (
            update(t)
            .where(*(t.c[k] == bindparam(f"k_{k}") for k in cls.natural_key))
            .values({c: bindparam(c) for c in sorted(cols)})
        )
        _UPDATES[(cls, cols)] = stmt
    return stmt


def write_records(s: Session, *, commit: bool = False) -> None:
    """Write new and changed records now (inserts first, in the order they were added).

    At ``commit`` a process is written (its version moved on) if anything of it was written
    in the transaction; before a read only if one of its own columns changed."""
    tracked: list[Record] | None = s.info.get(_KEY)
    if not tracked:
        return
    inserts: dict[type[Record], list[dict[str, Any]]] = {}
    updates: dict[tuple[type[Record], frozenset[str]], list[dict[str, Any]]] = {}
    processes: list[ProcessRecord] = []
    for r in tracked:
        d = r.__dict__
        cls = type(r)
        if cls is ProcessRecord:
            processes.append(r)  # type: ignore[arg-type]
        elif d["_new"]:
            inserts.setdefault(cls, []).append({c: d[c] for c in cls.columns if c != "id"})
            d["_new"] = False
            d["_changed"] = set()
        elif d["_changed"]:
            cols = frozenset(d["_changed"])
            params = {c: d[c] for c in cols}
            params.update({f"k_{k}": d[k] for k in cls.natural_key})
            updates.setdefault((cls, cols), []).append(params)
            d["_changed"] = set()
    if inserts or updates or appends.pending(s):
        s.info[_WROTE] = True
    for p in processes:
        if p.__dict__["_changed"] or (commit and s.info.get(_WROTE)):
            _write_process(s, p)
    if not inserts and not updates:
        return
    conn = s.connection()
    for cls, rows in inserts.items():
        stmt = _INSERTS.get(cls)
        if stmt is None:
            stmt = _INSERTS[cls] = insert(cls.table)
        conn.execute(stmt, rows)
    for (cls, cols), rows in updates.items():
        conn.execute(_update(cls, cols), rows)


def _write_process(s: Session, p: ProcessRecord) -> None:
    d = p.__dict__
    cols = frozenset(d["_changed"] - {"row_version"})
    stmt = _PROCESS_UPDATES.get(cols)
    if stmt is None:
        t = ProcessRecord.table
        stmt = _PROCESS_UPDATES[cols] = (
            update(t)
            .where(t.c.id == bindparam("k_id"), t.c.row_version == bindparam("k_version"))
            .values({**{c: bindparam(c) for c in sorted(cols)}, "row_version": bindparam("v")})
        )
    old = d["row_version"]
    params = {c: d[c] for c in cols}
    params.update(k_id=d["id"], k_version=old, v=old + 1)
    result = s.connection().execute(stmt, params)
    if result.rowcount != 1:
        raise StaleDataError(
            f"process {d['key']} was changed by another writer (row version {old} is gone)"
        )
    d["row_version"] = old + 1
    d["_changed"] = set()


def process(s: Session, key: str, lock: Callable[[Session, int], None]) -> ProcessRecord | None:
    """The process ``key`` for this transaction (one record per process and transaction),
    after ``lock(s, id)``; None if there is none."""
    cache: dict[str, ProcessRecord] = s.info.setdefault(_PROCESSES, {})
    got = cache.get(key)
    if got is not None:
        return got
    r = s.execute(_BY_KEY, {"key": key}).first()
    if r is None:
        return None
    rec: ProcessRecord = ProcessRecord.loaded(r)
    if s.get_bind().dialect.name == "postgresql":  # lock, then read what the lock protects
        lock(s, rec.id)
        r = s.execute(_BY_KEY, {"key": key}).first()
        assert r is not None
        rec = ProcessRecord.loaded(r)
    cache[key] = rec
    _tracked(s).append(rec)
    return rec


def created(s: Session, values: dict[str, Any]) -> ProcessRecord:
    """Insert a new process row now (its id is needed at once) and track it."""
    t = ProcessRecord.table
    pk = s.connection().execute(insert(t).values(values)).inserted_primary_key
    assert pk is not None
    row = {**values, "id": pk[0], "row_version": values.get("row_version", 1)}
    rec: ProcessRecord = ProcessRecord.loaded([row.get(c) for c in ProcessRecord.columns])
    s.info.setdefault(_PROCESSES, {})[rec.key] = rec
    _tracked(s).append(rec)
    return rec


def snapshot(s: Session, process_id: int) -> str:
    """The definition snapshot a process was started from."""
    t = ProcessRecord.table
    got = s.execute(select(t.c.definition_snapshot).where(t.c.id == process_id)).scalar_one()
    return str(got)


def write_pending(s: Session) -> None:
    """Write everything this transaction has queued: records first, then appended rows
    (what the hooks do before a read; for a Core statement that bypasses them)."""
    write_records(s)
    appends.write_appends(s)


def _before_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_KEY):
        write_records(state.session)


def _before_commit(s: Session) -> None:
    write_records(s, commit=True)


def _forget(s: Session, *_: Any) -> None:
    s.info.pop(_KEY, None)
    s.info.pop(_LOADED, None)
    s.info.pop(_PROCESSES, None)
    s.info.pop(_WROTE, None)


def install(factory: sessionmaker[Session]) -> None:
    """Make every session of ``factory`` write its records before reads and before commit,
    and forget them when the transaction ends."""
    event.listen(factory, "do_orm_execute", _before_execute)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_commit", _forget)
    event.listen(factory, "after_rollback", _forget)
