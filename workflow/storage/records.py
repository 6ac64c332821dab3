"""A process, its stages and its tasks as ONE kind of plain record, and the statements that
read and write them.

A record is a plain object built from a Core row (no identity map, no instrumented attributes).
Setting a column marks it changed and, the first time, puts the record on its ``touched`` list
(owned by the process's state, ``workflow.tx``), so a commit writes only what changed: new
records with one ``executemany`` INSERT per table, changed ones with one ``executemany`` UPDATE
per (table, columns changed), addressed by their natural key, which the schema makes unique.
The ORM models stay the schema and the read side's view of the same tables
(``workflow.storage.models``). Nothing here runs by itself: ``workflow.tx`` calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import partial
from typing import Any, ClassVar

from sqlalchemy import Connection, Select, Table, Update, bindparam, insert, select, update

from workflow.deadlines import effective_deadline
from workflow.storage.fast import STATEMENTS
from workflow.storage.models import TABLES


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
        d["_touched"] = None

    @classmethod
    def loaded(cls, row: Sequence[Any], touched: list[Record] | None = None) -> Any:
        obj = cls.__new__(cls)
        d = obj.__dict__
        d.update(zip(cls.columns, row, strict=True))
        d["_new"] = False
        d["_changed"] = set()
        d["_touched"] = touched
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if name not in d:
            raise AttributeError(f"{type(self).__name__} has no column {name!r}")
        if d[name] != value or type(d[name]) is not type(value):
            d[name] = value
            if not d["_new"]:
                if not d["_changed"] and d["_touched"] is not None:
                    d["_touched"].append(self)
                d["_changed"].add(name)
            dirty = d.get("_dirty")
            if dirty is not None:
                dirty.add(self)

    def track(self, touched: list[Record], dirty: set[Record] | None = None) -> None:
        """Report the next change to ``touched`` (a record kept between transactions), and
        every change to ``dirty`` (what the planner must look at again), if given."""
        self.__dict__["_touched"] = touched
        if dirty is not None:
            self.__dict__["_dirty"] = dirty

    @property
    def changed(self) -> frozenset[str]:
        return frozenset(self.__dict__["_changed"])

    def __repr__(self) -> str:
        key = ", ".join(f"{c}={self.__dict__[c]!r}" for c in self.natural_key)
        return f"<{type(self).__name__} {key} {getattr(self, 'status', '')}>"


class ProcessRecord(Record):
    """A process row without its definition snapshot. Written with an optimistic version
    check: every transaction that writes anything of the process moves ``row_version`` on and
    draws a new ``row_token``; one that finds the version moved by another writer fails."""

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
    row_token: str | None
    plan_changes: dict[str, Any] | None
    actuals: dict[str, Any] | None


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
    report_sent_at: datetime | None

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def report_sent(self) -> bool:
        return self.report_sent_at is not None


class TaskRecord(Record):
    """A task; ``stage_deadline`` (not a column) is its stage's deadline, set by the state that
    holds it, so ``deadline`` is the one the task has now: an extension, else the approval
    step's own (``step_deadline``), else the stage's."""

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
    step_deadline: date | None
    invited_at: datetime | None
    opened_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    reminders_done: int
    last_mail_at: datetime | None
    escalated: bool
    link_generation: int
    decision: dict[str, Any] | None

    @property
    def stage(self) -> str:
        return self.stage_id

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.stage_id, self.party, self.step)

    @property
    def deadline(self) -> date | None:
        d = self.__dict__
        return effective_deadline(
            extended=d["deadline_override"], step=d["step_deadline"], stage=d.get("stage_deadline")
        )

    @property
    def machine(self) -> str:
        """The state machine of this task (``workflow.machines``)."""
        return "approval_step" if self.kind == "approval" else "questionnaire_task"


# ---------------------------------------------------------------------- statements

_PROCESSES = ProcessRecord.table
PROCESS_ID_BY_KEY = select(_PROCESSES.c.id).where(_PROCESSES.c.key == bindparam("key"))
_LOADS: dict[type[Record], Select[Any]] = {}


def read_process(
    conn: Connection, key: str, known: ProcessRecord | None = None
) -> ProcessRecord | None:
    """The process ``key`` (without its snapshot), or None: ONE statement. ``known`` itself
    when the row is still the one it was read or written as (same id, version and token, the
    token being new at every commit): nothing of it then needs reading again."""
    stmt = STATEMENTS.get(
        "process by key",
        conn,
        lambda: select(*(_PROCESSES.c[c] for c in ProcessRecord.columns)).where(
            _PROCESSES.c.key == bindparam("key")
        ),
    )
    row = stmt.first_raw(conn, {"key": key})
    if row is None:
        return None
    if known is not None and known.row_token is not None:
        k = known.__dict__
        if (row[_ID], row[_VERSION], row[_TOKEN]) == (k["id"], k["row_version"], k["row_token"]):
            return known
    return ProcessRecord.loaded(stmt.processed(row))


# where the identity of a process row's version is in a row read by ``read_process``
_ID, _VERSION, _TOKEN = (ProcessRecord.columns.index(c) for c in ("id", "row_version", "row_token"))


def load(conn: Connection, cls: type[Record], process_id: int, touched: list[Record]) -> list[Any]:
    """Every row of ``cls``'s table for one process."""
    stmt = _LOADS.get(cls)
    if stmt is None:
        t = cls.table
        stmt = _LOADS[cls] = select(t).where(t.c.process_id == bindparam("pid"))
    return [cls.loaded(r, touched) for r in conn.execute(stmt, {"pid": process_id})]


def snapshot(conn: Connection, process_id: int) -> str:
    """The definition snapshot a process was started from."""
    t = _PROCESSES
    got = conn.execute(select(t.c.definition_snapshot).where(t.c.id == process_id)).scalar_one()
    return str(got)


def insert_new(conn: Connection, records: Sequence[Record]) -> None:
    """INSERT new records, one ``executemany`` per table, in the order they were made."""
    rows: dict[type[Record], list[dict[str, Any]]] = {}
    for r in records:
        d = r.__dict__
        cls = type(r)
        rows.setdefault(cls, []).append({c: d[c] for c in _inserted(cls)})
        d["_new"] = False
        d["_changed"] = set()
    for cls, values in rows.items():
        table = cls.table
        STATEMENTS.get(
            f"insert {table.name}", conn, partial(insert, table), _inserted(cls)
        ).executemany(conn, values)


#: Per record class: the columns an INSERT names (all but ``id``), and (parameter, column) of
#: its natural key in an UPDATE; made once.
_INSERTED: dict[type[Record], tuple[str, ...]] = {}
_KEY_PARAMS: dict[type[Record], tuple[tuple[str, str], ...]] = {}


def _inserted(cls: type[Record]) -> tuple[str, ...]:
    got = _INSERTED.get(cls)
    if got is None:
        got = _INSERTED[cls] = tuple(c for c in cls.columns if c != "id")
    return got


def _key_params(cls: type[Record]) -> tuple[tuple[str, str], ...]:
    got = _KEY_PARAMS.get(cls)
    if got is None:
        got = _KEY_PARAMS[cls] = tuple((f"k_{k}", k) for k in cls.natural_key)
    return got


def update_changed(conn: Connection, records: Sequence[Record]) -> None:
    """UPDATE changed records, one ``executemany`` per (table, columns changed)."""
    groups: dict[tuple[type[Record], tuple[str, ...]], list[dict[str, Any]]] = {}
    for r in records:
        d = r.__dict__
        changed = d["_changed"]
        if not changed or d["_new"]:
            continue
        cls = type(r)
        cols = tuple(sorted(changed))
        params = {c: d[c] for c in cols}
        for name, k in _key_params(cls):
            params[name] = d[k]
        groups.setdefault((cls, cols), []).append(params)
        d["_changed"] = set()
    for (cls, cols), values in groups.items():
        STATEMENTS.get(
            f"update {cls.table.name} {','.join(cols)}",
            conn,
            partial(_update, cls, cols),
        ).executemany(conn, values)


def _update(cls: type[Record], cols: tuple[str, ...]) -> Update:
    t = cls.table
    return (
        update(t)
        .where(*(t.c[k] == bindparam(f"k_{k}") for k in cls.natural_key))
        .values({c: bindparam(c) for c in cols})
    )


def update_process(conn: Connection, p: ProcessRecord, token: str) -> bool:
    """Write the process's changed columns with the next version and ``token``, if its version
    is still the one read; False (and nothing written) if another writer moved it on."""
    d = p.__dict__
    cols = tuple(sorted(d["_changed"] - {"row_version", "row_token"}))

    def build() -> Update:
        t = _PROCESSES
        return (
            update(t)
            .where(t.c.id == bindparam("k_id"), t.c.row_version == bindparam("k_version"))
            .values(
                {
                    **{c: bindparam(c) for c in cols},
                    "row_version": bindparam("v"),
                    "row_token": bindparam("token"),
                }
            )
        )

    old = d["row_version"]
    params = {c: d[c] for c in cols}
    params.update(k_id=d["id"], k_version=old, v=old + 1, token=token)
    stmt = STATEMENTS.get(f"update processes {','.join(cols)}", conn, build)
    if stmt.execute(conn, params) != 1:
        return False
    d["row_version"] = old + 1
    d["row_token"] = token
    d["_changed"] = set()
    return True


def insert_process(conn: Connection, values: dict[str, Any]) -> ProcessRecord:
    """INSERT a new process row now (its id is needed at once)."""
    pk = conn.execute(insert(_PROCESSES).values(values)).inserted_primary_key
    assert pk is not None
    row = {**values, "id": pk[0]}
    rec: ProcessRecord = ProcessRecord.loaded([row.get(c) for c in ProcessRecord.columns])
    return rec
