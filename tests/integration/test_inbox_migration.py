"""Migration 0007_inbound_mail: up, down to 0004 and up again; the table matches the model."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workflow.storage.db import Database, alembic_config
from workflow.storage.models import Base


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        changes = compare_metadata(ctx, Base.metadata)
    return [c for c in changes if "inbound_mail" in repr(c)]


def test_up_down_up(mail_db: Database) -> None:
    assert inspect(mail_db.engine).has_table("inbound_mail")
    assert _diff(mail_db) == []
    cfg = alembic_config(mail_db.engine.url.render_as_string(hide_password=False))
    with mail_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    mail_db.engine.dispose()
    assert not inspect(mail_db.engine).has_table("inbound_mail")
    assert inspect(mail_db.engine).has_table("outbox")
    mail_db.migrate()
    assert inspect(mail_db.engine).has_table("inbound_mail")
    assert _diff(mail_db) == []
