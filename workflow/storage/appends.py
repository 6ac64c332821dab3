"""Append-only rows, written in bulk: one ``executemany`` per kind of row and transaction.

The audit events, outbox mails and personal links a command writes are never read back or
changed by the command that writes them, so they need none of the ORM's unit of work (identity
map, change tracking, one INSERT per object). ``append()`` queues a row on the session;
the queue is written, in the order the rows were appended, before anything else reads
through the session (the ``do_orm_execute`` hook, so a query sees them as it would see
autoflushed objects) and before the transaction commits (``before_commit``). A transaction
that rolls back simply drops the queue, like the ORM's pending objects.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

_KEY = "aftaleflow.appends"


def append(s: Session, statement: Insert, row: dict[str, Any]) -> None:
    """Queue ``row`` for ``statement`` (a prebuilt INSERT) in this session's transaction."""
    queued: dict[Insert, list[dict[str, Any]]] | None = s.info.get(_KEY)
    if queued is None:
        queued = s.info[_KEY] = {}
    rows = queued.get(statement)
    if rows is None:
        queued[statement] = [row]
    else:
        rows.append(row)


def pending(s: Session) -> int:
    """How many appended rows wait to be written (for tests and diagnostics)."""
    queued = s.info.get(_KEY) or {}
    return sum(len(v) for v in queued.values())


def write_appends(s: Session) -> None:
    """Write every queued row now, one ``executemany`` per statement, in append order."""
    queued = s.info.pop(_KEY, None)
    if not queued:
        return
    conn = s.connection()
    for statement, rows in queued.items():
        conn.execute(statement, rows)


def _before_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_KEY):
        write_appends(state.session)


def install(factory: sessionmaker[Session]) -> None:
    """Make every session of ``factory`` write its queue before reads and before commit."""
    event.listen(factory, "do_orm_execute", _before_execute)
    event.listen(factory, "before_commit", write_appends)
    event.listen(factory, "after_rollback", discard)


def discard(s: Session) -> None:
    """Drop the queue (after a rollback)."""
    s.info.pop(_KEY, None)
