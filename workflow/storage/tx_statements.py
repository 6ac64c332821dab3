"""The statements a transaction's ``commit()`` prepares once (``workflow.storage.fast``): the
personal links inserted (a token already there is left alone), the queued mails cancelled by
stage and/or kind, and any statement a command hands over as it is (``ProcessTx.write``)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Executable, Update, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import ClauseElement

from workflow.storage.models import TABLES

_OUTBOX = TABLES["outbox"]
LINK_COLUMNS = tuple(TABLES["links"].c.keys())[1:]
INSERT_LINK = {
    "postgresql": pg_insert(TABLES["links"]).on_conflict_do_nothing(index_elements=["token_hash"]),
    "sqlite": sqlite_insert(TABLES["links"]).on_conflict_do_nothing(index_elements=["token_hash"]),
}


def as_clause(statement: Executable) -> ClauseElement:
    return cast(ClauseElement, statement)


def cancel_queued(by_stage: bool, by_kind: bool) -> Update:
    """Cancel a process's queued mails (``pid``), of one stage and/or one kind."""
    o = _OUTBOX.c
    stmt = update(_OUTBOX).where(
        o.process_id == bindparam("pid"), o.status == bindparam("queued", "queued")
    )
    if by_stage:
        stmt = stmt.where(o.stage_id == bindparam("stage"))
    if by_kind:
        stmt = stmt.where(o.kind == bindparam("kind"))
    return stmt.values(status=bindparam("cancelled", "cancelled"))
