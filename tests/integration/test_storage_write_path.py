"""The engine's write path (``workflow.tx.ProcessTx``) on SQLite and PostgreSQL: nothing is
written before ``commit()``, everything at it; a transaction left without commit writes nothing;
every writing transaction moves the process version on and a stale one fails with
``ConcurrentUpdate`` without writing anything; the state kept between transactions is never
trusted once the row was written by someone else, even when the version number repeats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from workflow.errors import AftaleflowError, ConcurrentUpdate
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, ProcessRow, StageRow

AT = datetime(2022, 1, 9, 23, 0, tzinfo=UTC)
LATER = datetime(2022, 1, 9, 23, 30, tzinfo=UTC)


@pytest.fixture
def started(db: Database, socialaftale: Bundle) -> tuple[Service, str]:
    svc = Service(db, link_secret="s" * 32)
    key = svc.start(socialaftale, 2022, at=AT, actor="test")
    return svc, key


def _version(db: Database, key: str) -> int:
    with db.sessions() as s:
        got = s.scalar(select(ProcessRow.row_version).where(ProcessRow.key == key))
    assert got is not None
    return got


def _events(db: Database, kind: str | None = None) -> int:
    with db.sessions() as s:
        q = select(func.count()).select_from(EventRow)
        return s.scalar(q.where(EventRow.kind == kind) if kind else q) or 0


def test_nothing_is_written_before_commit_and_everything_at_it(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    before = _events(db)
    with svc.transaction(key) as tx:
        stage = next(iter(tx.stages.values()))
        stage.outcome = {"probe": 7}
        tx.event(LATER, "test", "probe")
        with db.sessions() as other:  # another connection sees nothing yet
            assert other.scalar(select(func.count()).select_from(EventRow)) == before
            assert (
                other.scalar(select(StageRow.outcome).where(StageRow.outcome.is_not(None))) is None
            )
        tx.commit()
    assert _events(db, "probe") == 1
    with db.sessions() as s:
        assert s.scalar(select(StageRow.outcome).where(StageRow.stage_id == stage.stage_id)) == {
            "probe": 7
        }


def test_a_transaction_left_without_commit_writes_nothing(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    version, events = _version(db, key), _events(db)
    with pytest.raises(RuntimeError), svc.transaction(key) as tx:
        tx.event(LATER, "test", "never")
        tx.process.status = "cancelled"
        raise RuntimeError("the command fails half-way")
    with svc.transaction(key) as tx:  # the kept state was dropped: read again
        assert tx.process.status == "running"
    with db.sessions() as s:
        got = s.execute(
            select(ProcessRow.status, ProcessRow.row_version).where(ProcessRow.key == key)
        ).one()
    assert tuple(got) == ("running", version)
    assert _events(db) == events
    assert _events(db, "never") == 0


def test_every_writing_transaction_moves_the_version_on_and_a_stale_one_fails(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    v0 = _version(db, key)
    with svc.transaction(key) as tx:  # only a stage changes: the version still moves on
        next(iter(tx.stages.values())).outcome = {"n": 3}
        tx.commit()
    v1 = _version(db, key)
    assert v1 == v0 + 1

    with svc.transaction(key) as tx:
        next(iter(tx.stages.values())).outcome = {"n": 4}
        tx.event(LATER, "test", "stale")
        with db.transaction() as s:  # another writer commits first (no lock: a stray writer)
            s.execute(
                update(ProcessRow)
                .where(ProcessRow.key == key)
                .values(row_version=ProcessRow.row_version + 1)
                .execution_options(synchronize_session=False)
            )
        with pytest.raises(ConcurrentUpdate, match="blev ændret af en anden samtidig") as err:
            tx.commit()
    assert isinstance(err.value, AftaleflowError)
    with db.sessions() as s:
        assert [o for o in s.scalars(select(StageRow.outcome)) if o] == [{"n": 3}]
    assert _events(db, "stale") == 0  # the stale transaction wrote nothing
    assert _version(db, key) == v1 + 1


def test_a_read_only_transaction_leaves_the_version_alone(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    v0 = _version(db, key)
    with svc.transaction(key) as tx:
        assert tx.stages and tx.process.key == key
        tx.commit()
    assert _version(db, key) == v0


def test_kept_state_is_not_trusted_when_the_row_was_written_elsewhere(
    db: Database, started: tuple[Service, str]
) -> None:
    """A restored backup can bring back the same version number with other content: the
    random token written with each commit tells the two apart."""
    svc, key = started
    with svc.transaction(key) as tx:  # kept in svc.states now
        first = next(iter(tx.stages))
        tx.commit()
    with db.transaction() as s:  # "restore": same version, other content, other token
        s.execute(
            update(StageRow)
            .where(StageRow.stage_id == first)
            .values(outcome={"restored": True})
            .execution_options(synchronize_session=False)
        )
        s.execute(
            update(ProcessRow)
            .where(ProcessRow.key == key)
            .values(row_token="from-a-backup")
            .execution_options(synchronize_session=False)
        )
    with svc.transaction(key) as tx:
        assert tx.stages[first].outcome == {"restored": True}
