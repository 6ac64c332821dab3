"""The ONE writer of audit events: every part (engine, users, the mailer) builds its rows here.

An event is append-only: who (``actor``) did what (``kind``) to which process, stage, party
and step, when in business time (``at``) and when it was written (``recorded_at``, the system
clock), why (``reason``) and with what details (``data``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from workflow.clock import system_clock
from workflow.storage.models import TABLES

INSERT_EVENT = insert(TABLES["events"])


def event_row(
    process_id: int | None,
    at: datetime,
    actor: str,
    kind: str,
    *,
    stage: str = "",
    party: str = "",
    step: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``events`` row."""
    return {
        "process_id": process_id,
        "at": at,
        "recorded_at": system_clock(),
        "actor": actor,
        "kind": kind,
        "stage_id": stage,
        "party": party,
        "step": step,
        "reason": reason,
        "data": data or {},
    }


def write_events(writer: Connection | Session, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (``event_row``) in one ``executemany``."""
    if rows:
        writer.execute(INSERT_EVENT, list(rows))
