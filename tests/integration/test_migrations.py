"""Every migration can be undone without losing rows: upgrade → downgrade → upgrade with data.

The chain is walked generically (every revision between base and head, read from the
migration scripts), so a migration added later is covered without touching this test. Data
that only the newer schema has a place for (a column or table the downgrade removes) is the
only thing a downgrade may drop; every other row and value must come back unchanged.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, select, text

from workflow.loader import Bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database, alembic_config, downgrade, migrate
from workflow.storage.models import Base, DocumentRow, OutboxRow, ProcessRow, UserRow

#: A table's rows by primary key, each row a mapping of column name to value.
Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]

MIDWAY = datetime(2022, 6, 15, 12, 0, tzinfo=UTC)


def chain(db: Database) -> list[str]:
    """Every revision, oldest first (read from the scripts, so new ones are included)."""
    scripts = ScriptDirectory.from_config(alembic_config(db.url))
    return [s.revision for s in reversed(list(scripts.walk_revisions("base", "heads")))]


def snapshot(db: Database) -> Snapshot:
    meta = MetaData()
    with db.engine.connect() as conn:
        meta.reflect(conn)
        out: Snapshot = {}
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            key = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*key)).mappings()
            out[table.name] = {tuple(r[c.name] for c in key): dict(r) for r in rows}
    return out


def projected(full: Snapshot, shape: Snapshot) -> Snapshot:
    """``full`` cut down to the tables and columns ``shape`` has."""
    columns = {
        name: set(next(iter(rows.values()))) if rows else set() for name, rows in shape.items()
    }
    return {
        name: {
            pk: {c: v for c, v in row.items() if c in columns[name]}
            for pk, row in full.get(name, {}).items()
        }
        for name in shape
    }


def table_columns(db: Database) -> dict[str, set[str]]:
    meta = MetaData()
    with db.engine.connect() as conn:
        meta.reflect(conn)
    return {t.name: {c.name for c in t.columns} for t in meta.sorted_tables}


def run_partway(db: Database, bundle: Bundle) -> None:
    """A process run to mid-June, some mail sent, an agreement uploaded, one user."""
    simulate(Service(db, link_secret="test-secret"), bundle, 2022, until=MIDWAY)
    content = b"%PDF-1.4 the agreement"
    with db.transaction() as s:
        process = s.scalars(select(ProcessRow)).one()
        s.add(
            DocumentRow(
                process_id=process.id,
                version=1,
                filename="aftale.pdf",
                media_type="application/pdf",
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                content=content,
                note="til godkendelse",
                uploaded_at=MIDWAY,
                uploaded_by="sekretariat",
            )
        )
        process.approval_document_hash = hashlib.sha256(content).hexdigest()
        s.add(
            UserRow(
                name="sekretariat",
                role="admin",
                password_hash="x",
                created_at=MIDWAY,
                updated_at=MIDWAY,
            )
        )
        for row in s.scalars(select(OutboxRow).order_by(OutboxRow.id).limit(3)):
            row.status, row.sent_at = "sent", MIDWAY - timedelta(hours=1)
            row.message_id = f"<{row.id}@aftaleflow.example>"


def assert_schema_is_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff


def test_every_migration_goes_down_and_up_again_keeping_the_rows(
    db: Database, socialaftale: Bundle
) -> None:
    run_partway(db, socialaftale)
    before = snapshot(db)
    for table in ("processes", "stages", "tasks", "events", "outbox", "links", "documents"):
        assert before[table], f"the test needs rows in {table}"
    revisions = chain(db)
    assert len(revisions) >= 4

    # Down one revision at a time: every table and column the older schema has keeps its rows.
    for revision in reversed(revisions[:-1]):
        downgrade(db.engine, revision)
        low = snapshot(db)
        assert low == projected(before, low), f"rows lost going down to {revision}"
        assert low["stages"] and low["events"] and low["outbox"]

    # And from each revision back up to head: nothing lost on the way up either.
    oldest = table_columns(db)
    migrate(db.engine)
    after = snapshot(db)
    for name, columns in oldest.items():
        if name == "alembic_version":
            continue
        kept = {pk: {c: row[c] for c in columns} for pk, row in before[name].items()}
        back = {pk: {c: row[c] for c in columns} for pk, row in after[name].items()}
        assert back == kept, f"{name} changed on the way back up"
    assert_schema_is_the_models(db)

    for revision in revisions[1:-1]:
        downgrade(db.engine, revision)
        migrate(db.engine)
        assert snapshot(db) == after, f"head → {revision} → head changed rows"
    assert_schema_is_the_models(db)

    if db.is_sqlite:  # foreign keys are on again for the connections the engine hands out
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_base_and_head_both_ways(db: Database) -> None:
    downgrade(db.engine, "base")
    assert set(table_columns(db)) <= {"alembic_version"}
    migrate(db.engine)
    assert_schema_is_the_models(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM processes")).scalar() == 0
        assert conn.execute(select(func.count()).select_from(OutboxRow)).scalar() == 0


def test_alembic_run_on_its_own_keeps_the_rows_too(db: Database, socialaftale: Bundle) -> None:
    """``alembic downgrade`` as an operator runs it (no connection handed in by Aftaleflow)."""
    run_partway(db, socialaftale)
    before = snapshot(db)
    cfg = alembic_config(db.url)
    command.downgrade(cfg, chain(db)[0])
    low = snapshot(db)
    assert low == projected(before, low)
    command.upgrade(cfg, "head")
    # tables the first schema has no place for come back empty; the contacts the registry
    # seeded are read from the process's snapshot until they are seeded again
    gone = ("documents", "users", "contacts")
    assert {n: len(r) for n, r in snapshot(db).items() if n not in gone} == {
        n: len(r) for n, r in before.items() if n not in gone
    }
