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

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Insert, Select, Table, Update, bindparam, event, insert, select, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

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


def write_records(s: Session) -> None:
    """Write new and changed records now (inserts first, in the order they were added)."""
    tracked: list[Record] | None = s.info.get(_KEY)
    if not tracked:
        return
    inserts: dict[type[Record], list[dict[str, Any]]] = {}
    updates: dict[tuple[type[Record], frozenset[str]], list[dict[str, Any]]] = {}
    for r in tracked:
        d = r.__dict__
        cls = type(r)
        if d["_new"]:
            inserts.setdefault(cls, []).append({c: d[c] for c in cls.columns if c != "id"})
            d["_new"] = False
            d["_changed"] = set()
        elif d["_changed"]:
            cols = frozenset(d["_changed"])
            params = {c: d[c] for c in cols}
            params.update({f"k_{k}": d[k] for k in cls.natural_key})
            updates.setdefault((cls, cols), []).append(params)
            d["_changed"] = set()
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


def _before_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_KEY):
        write_records(state.session)


def _forget(s: Session, *_: Any) -> None:
    s.info.pop(_KEY, None)
    s.info.pop(_LOADED, None)


def install(factory: sessionmaker[Session]) -> None:
    """Make every session of ``factory`` write its records before reads and before commit,
    and forget them when the transaction ends."""
    event.listen(factory, "do_orm_execute", _before_execute)
    event.listen(factory, "before_commit", write_records)
    event.listen(factory, "after_commit", _forget)
    event.listen(factory, "after_rollback", _forget)
