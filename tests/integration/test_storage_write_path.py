"""The engine's write path (workflow.storage.records and .appends) on SQLite and PostgreSQL:
queued rows are written before reads and at commit, dropped on rollback, and a process changed
by another writer fails the version check without writing anything."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from workflow.engine import _INSERT_EVENT, _loaded, _process
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage import appends, records
from workflow.storage.db import Database
from workflow.storage.models import EventRow, ProcessRow, StageRow

AT = datetime(2022, 1, 9, 23, 0, tzinfo=UTC)
LATER = datetime(2022, 1, 9, 23, 30, tzinfo=UTC)


@pytest.fixture
def started(db: Database, socialaftale: Bundle) -> tuple[Service, str]:
    svc = Service(db, link_secret="s" * 32)
    key = svc.start(socialaftale, 2022, at=AT, actor="test")
    return svc, key


def _event_row(process_id: int, kind: str) -> dict[str, object]:
    return {
        "process_id": process_id,
        "at": AT,
        "recorded_at": AT,
        "actor": "test",
        "kind": kind,
        "stage_id": "",
        "party": "",
        "step": "",
        "reason": "",
        "data": {"n": 1},
    }


def test_queued_rows_are_written_before_a_read_in_the_same_transaction(
    db: Database, started: tuple[Service, str]
) -> None:
    _, key = started
    with db.transaction() as s:
        row = _process(s, key)
        before = s.scalar(select(func.count()).select_from(EventRow))
        stage = next(iter(_loaded(s, row)[0].values()))
        appends.append(s, _INSERT_EVENT, _event_row(row.id, "probe"))
        stage.outcome = {"probe": 7}
        assert appends.pending(s) == 1
        # a read through the session sees both, as it would see autoflushed ORM objects
        assert s.scalar(select(func.count()).select_from(EventRow)) == before + 1
        assert appends.pending(s) == 0
        got = s.scalar(
            select(StageRow.outcome).where(
                StageRow.process_id == row.id, StageRow.stage_id == stage.stage_id
            )
        )
        assert got == {"probe": 7}


def test_a_rolled_back_transaction_writes_nothing_and_leaves_no_queue(
    db: Database, started: tuple[Service, str]
) -> None:
    _, key = started
    with db.sessions() as s:
        version = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key))
        events = s.scalar(select(func.count()).select_from(EventRow))
    with pytest.raises(RuntimeError), db.transaction() as s:
        row = _process(s, key)
        appends.append(s, _INSERT_EVENT, _event_row(row.id, "never"))
        row.status = "cancelled"
        raise RuntimeError("the command fails half-way")
    with db.transaction() as s:
        assert appends.pending(s) == 0
        got = s.execute(
            select(ProcessRow.status, ProcessRow.row_version).where(ProcessRow.key == key)
        ).one()
        assert tuple(got) == ("running", version)
        assert s.scalar(select(func.count()).select_from(EventRow)) == events
        assert s.scalar(select(func.count()).where(EventRow.kind == "never")) == 0


def test_every_writing_transaction_moves_the_version_on_and_a_stale_one_fails(
    db: Database, started: tuple[Service, str]
) -> None:
    _, key = started
    with db.sessions() as s:
        v0 = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key))
    # only a stage changes, not the process row: the version still moves on
    with db.transaction() as s:
        row = _process(s, key)
        next(iter(_loaded(s, row)[0].values())).outcome = {"n": 3}
    with db.sessions() as s:
        v1 = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key))
    assert v1 == (v0 or 0) + 1

    # a transaction that read version v1 loses to one that committed in between
    stale = db.sessions()
    try:
        stale.begin()
        row = _process(stale, key)
        next(iter(_loaded(stale, row)[0].values())).outcome = {"n": 4}
        with db.transaction() as s:  # another writer commits first (no lock: a stray writer)
            s.execute(
                update(ProcessRow)
                .where(ProcessRow.key == key)
                .values(row_version=ProcessRow.row_version + 1)
                .execution_options(synchronize_session=False)
            )
        with pytest.raises(StaleDataError, match="changed by another writer"):
            stale.commit()
    finally:
        stale.close()
    with db.sessions() as s:
        got = [o for o in s.scalars(select(StageRow.outcome)) if o]
        assert got == [{"n": 3}]  # the stale transaction wrote nothing
        assert s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key)) == v1 + 1


def test_a_read_only_transaction_leaves_the_version_alone(
    db: Database, started: tuple[Service, str]
) -> None:
    _, key = started
    with db.sessions() as s:
        v0 = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key))
    with db.transaction() as s:
        row = _process(s, key)
        assert records.process(s, key, lambda *_: None) is row  # one record per transaction
        assert _loaded(s, row)[0]
    with db.sessions() as s:
        assert s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key)) == v0
