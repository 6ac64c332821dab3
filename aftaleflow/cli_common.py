"""What the command modules share: the consoles, ``App`` (settings and database, built lazily),
``pass_app`` and the parsers of ``--at`` and dates.

The main group in ``aftaleflow.cli`` puts an ``App`` on the context; the command modules
(``cli_process``, ``cli_record``, ``cli_documents``, …) take it with ``@pass_app``.
"""

from __future__ import annotations

from datetime import date, datetime

import click
from rich.console import Console

from aftaleflow.config import Settings
from workflow.calendar import to_local
from workflow.clock import parse_moment
from workflow.errors import AftaleflowError
from workflow.risk_reads import calendars_of
from workflow.service import Service, system_clock
from workflow.storage.db import Database, require_schema

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WEEKDAYS = ["man", "tir", "ons", "tor", "fre", "lør", "søn"]

#: A preparation year: the year the cycle is prepared in (2022 → the 2023-24 agreement).
YEAR = click.IntRange(2000, 2200)


def local(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    d = to_local(dt)
    return f"{d:%Y-%m-%d} {WEEKDAYS[d.weekday()]} {d:%H:%M}"


def parse_at(value: str | None) -> datetime:
    """``--at``: ISO date or date-time; without an offset it is Danish local time."""
    if not value:
        return system_clock()
    try:
        return parse_moment(value)
    except AftaleflowError:
        raise click.BadParameter(
            f"{value!r} er ikke et tidspunkt; skriv fx 2022-04-04T09:00"
        ) from None


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} er ikke en dato; skriv ÅÅÅÅ-MM-DD") from None


class App:
    """What every command needs, built lazily from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def service(self, *, require: bool = True) -> Service:
        if require:
            require_schema(self.db.engine)
        return Service(self.db, link_secret=self.settings.secret_key, calendars=calendars_of)

    def only_key(self, key: str | None) -> str:
        if key:
            return key
        from workflow.queries import processes

        with self.db.sessions() as s:
            rows = [p for p in processes(s) if p.status in ("running", "blocked")] or processes(s)
        if len(rows) == 1:
            return rows[0].key
        if not rows:
            raise AftaleflowError(
                "der er ingen proces endnu; start en med `aftaleflow start DEFINITION --year Å`"
            )
        raise AftaleflowError(
            "der er flere processer: vælg én med --process (" + ", ".join(r.key for r in rows) + ")"
        )


pass_app = click.make_pass_decorator(App)
