"""What the engine keeps of a process between transactions besides its records (the agreement
version up for approval, the mails already queued per task) answers as the database would,
on SQLite and PostgreSQL: a fresh service, which reads everything, agrees with a warm one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.changes import document_info
from workflow.loader import Bundle
from workflow.mail import Mail
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.records import TaskRecord

AT = datetime(2022, 1, 9, 23, 0, tzinfo=UTC)
SECRET = "s" * 32


@pytest.fixture
def started(db: Database, socialaftale: Bundle) -> tuple[Service, str]:
    svc = Service(db, link_secret=SECRET)
    key = svc.start(socialaftale, 2022, at=AT, actor="test")
    return svc, key


def _up(svc: Service, key: str) -> dict[str, object]:
    with svc.transaction(key) as tx:
        info = document_info(tx)
        tx.commit()
    return info


def _add(svc: Service, key: str, content: bytes, at: datetime) -> int:
    return svc.add_document(
        key, filename="aftale.pdf", media_type="application/pdf", content=content, at=at, actor="t"
    )


def test_the_version_up_for_approval_is_the_newest_with_its_hash(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    assert _up(svc, key) == {}
    v1 = _add(svc, key, b"first", AT)
    svc.put_up_for_approval(key, v1, at=AT, actor="t", reason="test")
    assert _up(svc, key)["version"] == 1
    _add(svc, key, b"first", AT + timedelta(minutes=1))  # the same file again: version 2
    assert _up(svc, key)["version"] == 2  # the kept one was dropped when a version was added
    assert _up(Service(db, link_secret=SECRET), key) == _up(svc, key)
    _add(svc, key, b"second", AT + timedelta(minutes=2))  # another file: not the one up
    assert _up(svc, key)["version"] == 2


def test_a_tasks_mails_are_counted_in_the_transaction_and_after_it(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    with svc.transaction(key) as tx:
        stage = tx.bound.stages[0].id
        party = tx.bound.bundle.participants[0]
        task = TaskRecord(process_id=tx.process.id, stage_id=stage, party=party, step="")
        assert tx.queued("reminder", task) == (None, 0)
        for seq in (2, 5):
            tx.mail(Mail(kind="reminder", stage=stage, party=party, seq=seq, recipients=()), AT)
        assert tx.queued("reminder", task) == (5, 2)  # this transaction's mails count
        assert tx.queued("escalation", task) == (None, 0)
        tx.commit()
    with svc.transaction(key) as tx:  # kept
        assert tx.queued("reminder", task) == (5, 2)
    with Service(db, link_secret=SECRET).transaction(key) as tx:  # read from the database
        assert tx.queued("reminder", task) == (5, 2)


def test_a_mail_queued_before_its_stage_was_read_is_counted_once(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    with svc.transaction(key) as tx:
        stage = tx.bound.stages[0].id
        party = tx.bound.bundle.participants[0]
        task = TaskRecord(process_id=tx.process.id, stage_id=stage, party=party, step="")
        tx.mail(Mail(kind="reminder", stage=stage, party=party, seq=1, recipients=()), AT)
        assert tx.queued("reminder", task) == (1, 1)  # read now: the pending mail added once
        tx.commit()
    with svc.transaction(key) as tx:
        assert tx.queued("reminder", task) == (1, 1)


def test_the_kept_process_record_is_used_only_while_the_row_is_unchanged(
    db: Database, started: tuple[Service, str]
) -> None:
    svc, key = started
    with svc.transaction(key) as tx:
        kept = tx.process
        kept.updated_at = AT + timedelta(minutes=1)
        tx.commit()
    with svc.transaction(key) as tx:
        assert tx.process is kept  # same version and token: nothing read again
        tx.commit()
    other = Service(db, link_secret=SECRET)
    with other.transaction(key) as tx:
        tx.process.updated_at = AT + timedelta(minutes=2)
        tx.commit()
    with svc.transaction(key) as tx:
        assert tx.process is not kept
        assert tx.process.updated_at == AT + timedelta(minutes=2)
        assert tx.process.row_version == kept.row_version + 1
