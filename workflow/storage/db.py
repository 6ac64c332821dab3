"""Engines and sessions. SQLite (WAL, busy timeout, foreign keys) by default; PostgreSQL at scale."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from workflow.defaults import SQLITE_BUSY_TIMEOUT_MS
from workflow.errors import AftaleflowError, ConfigurationError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


#: The databases Aftaleflow runs on (its migrations and locks are written for these two).
BACKENDS = ("sqlite", "postgresql")
_EXAMPLES = "sqlite:///var/aftaleflow.db or postgresql+psycopg://user:password@host/database"


def check_database_url(url: str) -> URL:
    """The parsed URL, if Aftaleflow can use it; else ``ConfigurationError`` saying why."""
    try:
        u = make_url(url)
    except ArgumentError:
        scheme = url.split("://", 1)[0] if "://" in url else url[:20]
        raise ConfigurationError(
            f"AFTALEFLOW_DATABASE_URL ({scheme!r}…) is not a database URL; write {_EXAMPLES}"
        ) from None
    backend = u.get_backend_name()
    if backend not in BACKENDS:
        raise ConfigurationError(
            f"AFTALEFLOW_DATABASE_URL names {backend!r}; Aftaleflow runs on SQLite or PostgreSQL "
            f"only: write {_EXAMPLES}"
        )
    try:
        u.get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as e:
        raise ConfigurationError(
            f"AFTALEFLOW_DATABASE_URL asks for the driver {u.drivername!r}, which is not "
            f"installed ({e}); for PostgreSQL write postgresql+psycopg://…"
        ) from None
    return u


def describe_failure(url: str, error: BaseException) -> str:
    """One sentence on why the database cannot be used, for the CLI and the scheduler."""
    text = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
    try:
        u = make_url(url)
    except ArgumentError:
        return f"the database cannot be used: {text}"
    where = u.render_as_string()  # hides the password
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        path = Path(u.database)
        folder = path.parent
        if "file is not a database" in text or "not a database" in text:
            return (
                f"{path} is not a SQLite database (the file holds something else); point "
                "AFTALEFLOW_DATABASE_URL at the Aftaleflow database, or move the file away "
                "and run `aftaleflow init`"
            )
        read_only = [p for p in (path, folder) if p.exists() and not os.access(p, os.W_OK)]
        if read_only or "readonly" in text or "unable to open" in text:
            which = " and ".join(str(p) for p in read_only) or f"{path} or {folder}"
            verb = "are" if len(read_only) > 1 else "is"
            return (
                f"cannot write to the database {path}: {which} {verb} read-only ({text}). "
                f"Aftaleflow writes the database and its -wal and -shm files in {folder}: "
                "make that folder and the file writable for this user"
            )
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return f"the database {where} has no Aftaleflow tables ({text}); run `aftaleflow init`"
    return f"the database {where} cannot be used: {text}"


def make_engine(url: str) -> Engine:
    check_database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigurationError(
                    f"cannot create the folder of the database {path} ({e.strerror or e}); "
                    "set AFTALEFLOW_VAR_DIR or AFTALEFLOW_DATABASE_URL to a place this user "
                    "may write to"
                ) from None
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
