"""How a process transaction begins: the process row (locked on PostgreSQL), and its state —
the bound definition as the live plan has it, its stages and tasks — from the engine's cache
while the row's version and token say it is current, else read anew (``workflow.tx``)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from workflow.errors import NotFound
from workflow.live_plan import live
from workflow.state import ProcessState, ProcessStates
from workflow.storage import records
from workflow.storage.locks import lock_process
from workflow.storage.models import TABLES
from workflow.storage.records import StageRecord, TaskRecord
from workflow.timeline import bound_definition


def _not_found(conn: Connection, key: str) -> NotFound:
    known = list(conn.execute(select(TABLES["processes"].c.key)).scalars())
    if known:
        return NotFound(
            f"processen {key!r} findes ikke; kendte processer: {', '.join(known)}",
            en=f"no process {key!r}; known processes: {', '.join(known)}",
        )
    return NotFound(
        f"processen {key!r} findes ikke; start en med `aftaleflow start`",
        en=f"no process {key!r}; start one with `aftaleflow start`",
    )


def read_state(conn: Connection, key: str, states: ProcessStates) -> ProcessState:
    """The process (locked on PostgreSQL), its state from the cache if still current."""
    locked: int | None = None
    if conn.dialect.name == "postgresql":
        locked = states.id_of(key) or conn.execute(records.PROCESS_ID_BY_KEY, {"key": key}).scalar()
        if locked is None:
            raise _not_found(conn, key)
        lock_process(conn, locked)
    known = states.process_of(key)
    rec = records.read_process(conn, key, known)
    if rec is None:
        raise _not_found(conn, key)
    if locked is not None and rec.id != locked:  # the key names another process now
        lock_process(conn, rec.id)
        rec = records.read_process(conn, key)
        if rec is None:
            raise _not_found(conn, key)
    cached = states.get(key, rec)
    if cached is not None:
        if cached.process is not rec:
            cached.process = rec
            rec.track(cached.touched)
        return cached
    bound = live(
        bound_definition(
            rec.definition_hash, rec.year, lambda: records.snapshot(conn, rec.id), rec.actuals
        ),
        rec.plan_changes,
    )
    state = ProcessState(
        rec,
        bound,
        records.load(conn, StageRecord, rec.id, []),
        records.load(conn, TaskRecord, rec.id, []),
    )
    states.put(key, state)
    return state
