"""Database locks that make a second scheduler harmless.

On PostgreSQL a transaction-level advisory lock per process serialises the work on that
process across scheduler processes (released at commit or rollback). On SQLite the database
itself serialises writers; the optimistic ``row_version`` on processes catches the rest.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema()), :id)")


def lock_process(conn: Connection, process_id: int) -> None:
    """Wait for and hold the process's lock until this transaction ends (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        # advisory locks are database-wide: the schema's hash keeps two installations (or
        # two test schemas) in one database from waiting on each other's process 1
        conn.execute(_LOCK, {"id": process_id})
