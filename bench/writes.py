"""The write limit: the rows the engine writes, replayed with plain ``sqlite3.executemany``.

``capture()`` records every row the engine inserts or updates, grouped by transaction, with the
values exactly as the database stored them (read back after each commit). ``replay()``
writes the same rows, ``copies`` times with fresh ids and keys, into a fresh database with the
same schema and pragmas, one transaction per engine transaction, and returns the seconds spent.
That is the floor an engine on this schema could reach: no reads, no planning, no ORM.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import Engine, Pool, event

from workflow.storage import fast
from workflow.storage.db import Database
from workflow.storage.models import Base

#: (table, "insert" | "update", columns, values); an update's last value is the row id.
Op = tuple[str, str, tuple[str, ...], tuple[Any, ...]]
#: String columns with a unique constraint that must differ between replayed copies.
UNIQUE_TEXT = {"processes": ("key",), "outbox": ("idempotency_key",), "links": ("token_hash",)}


@dataclass
class Trace:
    transactions: list[list[Op]] = field(default_factory=list)
    empty_commits: int = 0
    #: SQL statements sent to the database, by first word (SELECT, INSERT, …), and executemany calls.
    statements: Counter[str] = field(default_factory=Counter)
    #: ``workflow.storage.fast.SENT`` when counting began (statements sent on the cursor).
    fast_base: Counter[str] = field(default_factory=lambda: Counter(fast.SENT))

    def counts(self) -> Counter[str]:
        """Rows per ``table op`` over the whole trace."""
        c: Counter[str] = Counter()
        for tx in self.transactions:
            for table, op, _, _ in tx:
                c[f"{table} {op}"] += 1
        return c

    def statement_count(self) -> int:
        return sum(self.statements.values()) + sum((fast.SENT - self.fast_base).values())

    @property
    def rows(self) -> int:
        return sum(len(tx) for tx in self.transactions)


def _snapshot(conn: sqlite3.Connection) -> dict[str, dict[int, tuple[Any, ...]]]:
    """Every row of every table with an ``id``, as stored (the database's own values)."""
    out: dict[str, dict[int, tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        cols = [c.key for c in table.columns]
        rows = conn.execute(f"SELECT {', '.join(cols)} FROM {table.name}")
        i = cols.index("id")
        out[table.name] = {r[i]: tuple(r) for r in rows}
    return out


def _diff(
    before: dict[str, dict[int, tuple[Any, ...]]], after: dict[str, dict[int, tuple[Any, ...]]]
) -> list[Op]:
    """The rows one transaction wrote: inserts (FK order, then id), then changed columns."""
    inserts: list[Op] = []
    updates: list[Op] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in after:
            continue
        cols = tuple(c.key for c in table.columns)
        old = before.get(table.name, {})
        for rid, row in sorted(after[table.name].items()):
            prev = old.get(rid)
            if prev is None:
                inserts.append((table.name, "insert", cols, row))
            elif prev != row:
                changed = [i for i, (a, b) in enumerate(zip(prev, row, strict=True)) if a != b]
                updates.append(
                    (
                        table.name,
                        "update",
                        tuple(cols[i] for i in changed),
                        (*(row[i] for i in changed), rid),
                    )
                )
    return inserts + updates


@contextmanager
def capture(path: Path) -> Iterator[Trace]:
    """Record, for every committed transaction in this process on the SQLite database at
    ``path``, the rows it wrote: the database is compared before and after each commit, so
    the trace holds exactly what was stored, however the engine wrote it."""
    trace = Trace()
    reader = sqlite3.connect(path, isolation_level=None)
    state = {"last": _snapshot(reader)}

    def after_commit(*_: Any) -> None:
        now = _snapshot(reader)
        ops = _diff(state["last"], now)
        state["last"] = now
        if ops:
            trace.transactions.append(ops)
        else:
            trace.empty_commits += 1

    def before_cursor_execute(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool
    ) -> None:
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        trace.statements[word + (" (executemany)" if many else "")] += 1

    # a connection goes back to the pool after its transaction ended (committed or not)
    event.listen(Pool, "checkin", after_commit)
    event.listen(Engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield trace
    finally:
        event.remove(Pool, "checkin", after_commit)
        event.remove(Engine, "before_cursor_execute", before_cursor_execute)
        reader.close()
        trace.statements.update(fast.SENT - trace.fast_base)  # sent on the driver's cursor
        trace.fast_base = Counter(fast.SENT)


def _strides(trace: Trace) -> dict[str, int]:
    out: dict[str, int] = {}
    for tx in trace.transactions:
        for table, op, cols, values in tx:
            rid = values[cols.index("id")] if op == "insert" and "id" in cols else values[-1]
            if isinstance(rid, int):
                out[table] = max(out.get(table, 0), rid)
    return out


def _rewrite(op: Op, copy: int, strides: dict[str, int]) -> tuple[str, tuple[Any, ...]]:
    table, kind, cols, values = op
    if copy == 0:
        return _sql(table, kind, cols), values
    out = list(values)
    for i, c in enumerate(cols):
        v = out[i]
        if v is None:
            continue
        if c == "id" and kind == "insert":
            out[i] = v + copy * strides.get(table, 0)
        elif c == "process_id":
            out[i] = v + copy * strides.get("processes", 0)
        elif c in UNIQUE_TEXT.get(table, ()):
            out[i] = f"{v}#{copy}"
    if kind == "update":
        out[-1] = out[-1] + copy * strides.get(table, 0)
    return _sql(table, kind, cols), tuple(out)


_sql_cache: dict[tuple[str, str, tuple[str, ...]], str] = {}


def _sql(table: str, kind: str, cols: tuple[str, ...]) -> str:
    key = (table, kind, cols)
    if key not in _sql_cache:
        if kind == "insert":
            marks = ", ".join("?" for _ in cols)
            _sql_cache[key] = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})"
        else:
            sets = ", ".join(f"{c} = ?" for c in cols)
            _sql_cache[key] = f"UPDATE {table} SET {sets} WHERE id = ?"
    return _sql_cache[key]


def prepare(trace: Trace, copies: int) -> list[list[tuple[str, list[tuple[Any, ...]]]]]:
    """Transactions as batches of (sql, rows) for ``executemany``, for ``copies`` processes."""
    strides = _strides(trace)
    out: list[list[tuple[str, list[tuple[Any, ...]]]]] = []
    for copy in range(copies):
        for tx in trace.transactions:
            batches: list[tuple[str, list[tuple[Any, ...]]]] = []
            for op in tx:
                sql, values = _rewrite(op, copy, strides)
                if batches and batches[-1][0] == sql:
                    batches[-1][1].append(values)
                else:
                    batches.append((sql, [values]))
            out.append(batches)
    return out


def fresh_database(path: Path) -> None:
    """An empty database file with the engine's schema (migrated by Alembic)."""
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()


def connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the engine's pragmas (WAL, synchronous=NORMAL, FKs)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def replay(path: Path, batches: list[list[tuple[str, list[tuple[Any, ...]]]]]) -> float:
    """Write prepared transactions into the (fresh) database at ``path``; seconds taken."""
    conn = connect(path)
    try:
        t0 = perf_counter()
        for tx in batches:
            conn.execute("BEGIN")
            for sql, rows in tx:
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
        return perf_counter() - t0
    finally:
        conn.close()
