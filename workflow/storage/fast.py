"""The engine's few hot statements, compiled once per dialect and run on the driver's cursor.

A process transaction sends the same handful of statements thousands of times (read the
process, write it with its version check, insert events and mails, update tasks). Through
SQLAlchemy each costs a cache-key walk, an execution context and a result proxy, several
times the database's own work. Here each is compiled ONCE, with the bind and result
processors of its columns' types (``UTCDateTime``, JSON, dates), and run with the DBAPI
cursor of the transaction's own connection: the same SQL, values and transaction, none of the
per-call machinery. Anything else goes through SQLAlchemy as usual.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from json import encoder as _json_encoder
from typing import Any, cast

from sqlalchemy import JSON, Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import Null
from sqlalchemy.sql.expression import ClauseElement

from workflow.storage.models import UTCDateTime

Processor = Callable[[Any], Any] | None

#: Statements sent this way, by first word (with " (executemany)"): for diagnostics (the
#: bench counts them beside those SQLAlchemy sends).
SENT: Counter[str] = Counter()


class Prepared:
    """One statement compiled for one dialect, with its parameters' processors in order."""

    def __init__(
        self, statement: ClauseElement, conn: Connection, keys: Sequence[str] = ()
    ) -> None:
        dialect = conn.dialect
        compiled = cast(
            SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys) or None)
        )
        self.sql = compiled.string
        self.verb = self.sql.lstrip().split(None, 1)[0].upper()
        self.positional = compiled.positional
        names: list[str] = (
            list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        )
        self.names = names
        #: values a statement carries itself (e.g. ``status='cancelled'``), used when not given
        self.fixed = {n: compiled.binds[n].value for n in names}
        self.procs: list[Processor] = [
            _bind_processor(compiled.binds[n].type, dialect) for n in names
        ]
        #: row → the driver's parameters, made once as one expression (no per-call loop)
        self.params: Callable[[Mapping[str, Any]], Any] = _params_function(
            names, self.procs, self.fixed, self.positional
        )
        # result columns, for a SELECT
        self.results: list[Processor] = [
            col.type.dialect_impl(dialect).result_processor(dialect, None)
            for col in getattr(statement, "selected_columns", ())
        ]

    def execute(self, conn: Connection, row: Mapping[str, Any]) -> int:
        """Run once; the number of rows it changed."""
        SENT[self.verb] += 1
        cur = conn.connection.cursor()
        try:
            cur.execute(self.sql, self.params(row))
            return int(cur.rowcount)
        finally:
            cur.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        cur = conn.connection.cursor()
        try:
            if len(rows) == 1:
                SENT[self.verb] += 1
                cur.execute(self.sql, self.params(rows[0]))
            else:
                SENT[f"{self.verb} (executemany)"] += 1
                cur.executemany(self.sql, [self.params(r) for r in rows])
        finally:
            cur.close()

    def all(self, conn: Connection, row: Mapping[str, Any]) -> list[list[Any]]:
        """Every row of a SELECT, its values processed as SQLAlchemy would."""
        SENT[self.verb] += 1
        cur = conn.connection.cursor()
        try:
            cur.execute(self.sql, self.params(row))
            got = cur.fetchall()
        finally:
            cur.close()
        results = self.results
        return [[p(v) if p else v for v, p in zip(r, results, strict=True)] for r in got]

    def first(self, conn: Connection, row: Mapping[str, Any]) -> list[Any] | None:
        """The first row of a SELECT, its values processed as SQLAlchemy would."""
        got = self.first_raw(conn, row)
        if got is None:
            return None
        return self.processed(got)

    def first_raw(self, conn: Connection, row: Mapping[str, Any]) -> Sequence[Any] | None:
        """The first row of a SELECT as the driver returns it (see ``processed``)."""
        SENT[self.verb] += 1
        cur = conn.connection.cursor()
        try:
            cur.execute(self.sql, self.params(row))
            got: Sequence[Any] | None = cur.fetchone()
        finally:
            cur.close()
        return got

    def processed(self, got: Sequence[Any]) -> list[Any]:
        """A driver's row with its values processed as SQLAlchemy would."""
        return [p(v) if p else v for v, p in zip(got, self.results, strict=True)]


def _params_function(
    names: Sequence[str], procs: Sequence[Processor], fixed: Mapping[str, Any], positional: bool
) -> Callable[[Mapping[str, Any]], Any]:
    """``row -> parameters`` for one statement: each name's value (its fixed value when the
    row lacks it) through its type's processor, as a tuple (positional) or a dict."""
    scope: dict[str, Any] = {}
    parts = []
    for i, (n, p) in enumerate(zip(names, procs, strict=True)):
        scope[f"d{i}"] = fixed[n]
        value = f"get({n!r}, d{i})"
        if p is not None:
            scope[f"p{i}"] = p
            value = f"p{i}({value})"
        parts.append(value if positional else f"{n!r}: {value}")
    body = f"({', '.join(parts)},)" if positional else f"{{{', '.join(parts)}}}"
    if positional and not parts:
        body = "()"
    source = f"def params(row):\n    get = row.get\n    return {body}\n"
    exec(compile(source, "<workflow.storage.fast>", "exec"), scope)  # made from column names only
    fn: Callable[[Mapping[str, Any]], Any] = scope["params"]
    return fn


def _bind_processor(typ: Any, dialect: Any) -> Processor:
    if dialect.name == "sqlite":
        if isinstance(typ, UTCDateTime):
            return _sqlite_utc  # the same text SQLAlchemy writes, made by the C isoformat
        if (
            type(typ) is JSON
            and not typ.none_as_null
            and dialect._json_serializer is None
            and typ._str_impl.bind_processor(dialect) is None
            and JSON_TEXT is not json.dumps
        ):
            return _sqlite_json  # the same text as ``json.dumps``, without its set-up per call
    return typ.dialect_impl(dialect).bind_processor(dialect)


#: The text of an aware datetime as SQLite holds it, by moment: a transaction writes the same
#: few moments (its ``at``) into many rows and columns. Bounded; emptied when full.
_UTC_TEXT: dict[datetime, str] = {}
_UTC_TEXT_MAX = 4096


def _sqlite_utc(value: datetime | None) -> str | None:
    """An aware datetime as SQLite holds a ``UTCDateTime``: ``2022-04-04 07:00:00.000000``."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; pass an aware UTC time")
    got = _UTC_TEXT.get(value)  # equal aware datetimes are the same moment: the same text
    if got is not None:
        return got
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    got = utc.isoformat(" ", "microseconds")[:26]  # without the "+00:00"
    if len(_UTC_TEXT) >= _UTC_TEXT_MAX:
        _UTC_TEXT.clear()
    _UTC_TEXT[value] = got
    return got


def _json_text() -> Callable[[Any], str]:
    """``json.dumps`` with its default settings, on ONE C encoder made once (``json.dumps``
    makes a new one per call); ``json.dumps`` itself where the C encoder is missing."""
    make = getattr(_json_encoder, "c_make_encoder", None)
    ascii_ = getattr(_json_encoder, "c_encode_basestring_ascii", None)
    if make is None or ascii_ is None:
        return json.dumps
    default = json.JSONEncoder().default
    # json.dumps's settings: ensure_ascii, ", " and ": ", no sorting, NaN allowed; no check
    # for circular references (a structure the engine builds has none; one would recurse
    # until Python stops it)
    encode = make(None, default, ascii_, None, ": ", ", ", False, False, True)

    def dumps(value: Any) -> str:
        if type(value) is str:
            return cast(str, ascii_(value))
        return "".join(encode(value, 0))

    return dumps


JSON_TEXT = _json_text()


def _sqlite_json(value: Any) -> str | None:
    """A ``JSON`` column's value as SQLAlchemy writes it on SQLite (None as ``null``)."""
    if value is None or value is JSON.NULL:
        return "null"
    if isinstance(value, Null):  # SQL NULL, as SQLAlchemy's own processor does
        return None
    return JSON_TEXT(value)


class Statements:
    """``Prepared`` statements by (name, dialect), made on first use."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str, tuple[str, ...]], Prepared] = {}

    def get(
        self,
        name: str,
        conn: Connection,
        build: Callable[[], ClauseElement],
        keys: Sequence[str] = (),
    ) -> Prepared:
        k = (name, conn.dialect.name, tuple(keys))
        got = self._made.get(k)
        if got is None:
            got = self._made[k] = Prepared(build(), conn, keys)
        return got


STATEMENTS = Statements()
