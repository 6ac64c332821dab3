"""Shared fixtures: a database on SQLite always, and on PostgreSQL when
``AFTALEFLOW_TEST_DATABASE_URL`` is set (each test in a schema of its own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workflow.loader import Bundle, load_bundle
from workflow.storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"
SOCIALAFTALE = DEFINITIONS / "processes" / "socialaftale.yaml"
RAMMEAFTALE = DEFINITIONS / "processes" / "rammeaftale-2018.yaml"
PG_URL = os.environ.get("AFTALEFLOW_TEST_DATABASE_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_database(schema: str) -> Database:
    assert PG_URL
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return Database(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")


def _drop_pg_schema(schema: str) -> None:
    assert PG_URL
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def make_database(backend: str, tmp_path: Path) -> tuple[Database, str]:
    """A migrated, empty database; returns it and its URL (to open it again)."""
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'aftaleflow.db'}")
    else:
        db = _pg_database(f"t_{uuid.uuid4().hex[:12]}")
    db.migrate()
    return db, db.url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    db, url = make_database(backend, tmp_path)
    db.dispose()
    yield url
    if backend == "postgresql":
        _drop_pg_schema(url.rsplit("%3D", 1)[1])


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def socialaftale() -> Bundle:
    return load_bundle(SOCIALAFTALE, reference_year=2022)
