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
_EXAMPLES = (
    "sqlite:///var/aftaleflow.db eller postgresql+psycopg://bruger:adgangskode@vaert/database"
)


def check_database_url(url: str) -> URL:
    """The parsed URL, if Aftaleflow can use it; else ``ConfigurationError`` saying why."""
    try:
        u = make_url(url)
    except ArgumentError:
        scheme = url.split("://", 1)[0] if "://" in url else url[:20]
        raise ConfigurationError(
            f"AFTALEFLOW_DATABASE_URL ({scheme!r}…) er ikke en database-URL; skriv {_EXAMPLES}"
        ) from None
    backend = u.get_backend_name()
    if backend not in BACKENDS:
        raise ConfigurationError(
            f"AFTALEFLOW_DATABASE_URL nævner {backend!r}; Aftaleflow kører kun på SQLite eller "
            f"PostgreSQL: skriv {_EXAMPLES}"
        )
    try:
        u.get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as e:
        raise ConfigurationError(
            f"AFTALEFLOW_DATABASE_URL beder om driveren {u.drivername!r}, som ikke er "
            f"installeret ({e}); skriv postgresql+psycopg://… til PostgreSQL"
        ) from None
    return u


def describe_failure(url: str, error: BaseException) -> str:
    """One sentence on why the database cannot be used, for the CLI and the scheduler."""
    text = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
    try:
        u = make_url(url)
    except ArgumentError:
        return f"databasen kan ikke bruges: {text}"
    where = u.render_as_string()  # hides the password
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        path = Path(u.database)
        folder = path.parent
        if "file is not a database" in text or "not a database" in text:
            return (
                f"{path} er ikke en SQLite-database (filen rummer noget andet); lad "
                "AFTALEFLOW_DATABASE_URL pege på Aftaleflows database, eller flyt filen væk "
                "og kør `aftaleflow init`"
            )
        read_only = [p for p in (path, folder) if p.exists() and not os.access(p, os.W_OK)]
        if read_only or "readonly" in text or "unable to open" in text:
            which = " og ".join(str(p) for p in read_only) or f"{path} eller {folder}"
            return (
                f"der kan ikke skrives i databasen {path}: {which} er skrivebeskyttet ({text}). "
                f"Aftaleflow skriver databasen og dens -wal- og -shm-filer i {folder}: "
                "giv denne bruger lov til at skrive i mappen og filen"
            )
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return f"databasen {where} har ingen Aftaleflow-tabeller ({text}); kør `aftaleflow init`"
    return f"databasen {where} kan ikke bruges: {text}"


def make_engine(url: str) -> Engine:
    check_database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigurationError(
                    f"mappen til databasen {path} kan ikke oprettes ({e.strerror or e}); "
                    "lad AFTALEFLOW_VAR_DIR eller AFTALEFLOW_DATABASE_URL pege på et sted, "
                    "denne bruger må skrive"
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
                raise AftaleflowError("SQLites fremmednøgler kunne ikke slås fra under migreringen")
            conn.commit()
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise AftaleflowError(
                            f"migreringen ville efterlade {len(broken)} række(r), der peger på "
                            f"rækker, som ikke findes (første: {tuple(broken[0])}); intet er ændret"
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
            f"databasen {engine.url.render_as_string()} har ingen Aftaleflow-tabeller; "
            "kør `aftaleflow init` først"
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
