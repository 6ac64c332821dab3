"""Alembic environment: uses the connection handed in by ``workflow.storage.db.migrate``
(or ``downgrade``); from the alembic command line it opens one the same way."""

from __future__ import annotations

from alembic import context

from workflow.storage.db import make_engine, schema_connection
from workflow.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # Run from the alembic command line: the same connection set-up as ``db.migrate``
        # (on SQLite foreign keys off while tables are rebuilt, checked before the commit).
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        try:
            with schema_connection(engine) as conn:
                _configure(conn)
        finally:
            engine.dispose()
        return
    _configure(connection)


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
