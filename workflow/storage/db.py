"""Engines and sessions. SQLite (WAL, busy timeout, foreign keys) by default; PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from workflow.errors import AftaleflowError
from workflow.storage import appends, records

MIGRATIONS = Path(__file__).parent / "migrations"

#: How long a SQLite connection waits for a lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def schema_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for schema changes, in one transaction committed at the end.

    On SQLite a batch migration rebuilds a table (create a copy, move the rows, drop the old
    one). With foreign keys on, dropping ``processes`` deletes every stage, task, event and
    mail through ``ON DELETE CASCADE``; so foreign keys are off while migrations run (the
    pragma only takes effect outside a transaction) and ``PRAGMA foreign_key_check`` must find
    nothing before the commit. They are switched on again before the connection goes back to
    the pool.
    """
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
                raise AftaleflowError("could not switch SQLite foreign keys off to migrate")
            conn.commit()
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise AftaleflowError(
                            f"the migration would leave {len(broken)} row(s) pointing at rows "
                            f"that do not exist (first: {tuple(broken[0])}); nothing was changed"
                        )
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default; idempotent)."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with schema_connection(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to ``revision`` (``base``: no tables), keeping every row that
    the older schema has a place for."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with schema_connection(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def require_schema(engine: Engine) -> None:
    if not inspect(engine).has_table("processes"):
        raise AftaleflowError(
            f"the database {engine.url.render_as_string()} has no Aftaleflow tables; "
            "run `aftaleflow init` first"
        )


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        records.install(self.sessions)  # first: new stages and tasks, changed ones
        appends.install(self.sessions)  # then: events, mails, links

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        migrate(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
