"""What the scheduler leaves behind: the last tick and its backlog, for status and dashboard.

Also the guard that keeps a second scheduler off a SQLite database: an exclusive
``fcntl.flock`` on a lock file next to the database, held for the life of the process. The
kernel drops it when the process ends, however it ends (``kill -9`` included), so a crash
never leaves a stale lock behind. On PostgreSQL several schedulers may run side by side:
the per-process advisory locks and ``FOR UPDATE SKIP LOCKED`` on the outbox make them safe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.sql import Insert

from workflow.calendar import to_local
from workflow.errors import ConfigurationError, SchedulerAlreadyRunning
from workflow.service import TickReport
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow, ProcessRow, SchedulerStateRow

#: Outbox states of a mail that has not gone out yet (``sending``: claimed, maybe crashed;
#: a mail waiting for a retry is ``queued`` with a later ``next_attempt_at``).
UNSENT = ("queued", "sending")

LAST_TICK = "last_tick"


@dataclass(frozen=True)
class Backlog:
    """What is due and not done yet at a moment: the scheduler's debt."""

    at: datetime
    processes_due: int
    mails_due: int
    oldest_due_at: datetime | None

    @property
    def oldest_age(self) -> timedelta:
        return self.at - self.oldest_due_at if self.oldest_due_at else timedelta(0)

    @property
    def empty(self) -> bool:
        return not self.processes_due and not self.mails_due

    def as_dict(self) -> dict[str, Any]:
        return {
            "processes_due": self.processes_due,
            "mails_due": self.mails_due,
            "oldest_due_at": self.oldest_due_at.isoformat() if self.oldest_due_at else None,
            "oldest_age_s": int(self.oldest_age.total_seconds()),
        }


def backlog(db: Database, at: datetime) -> Backlog:
    """Running processes due at ``at`` but not ticked, and unsent mails past their send time."""
    with db.sessions() as s:
        p_count, p_oldest = s.execute(
            select(func.count(), func.min(ProcessRow.next_due_at)).where(
                ProcessRow.status == "running", ProcessRow.next_due_at <= at
            )
        ).one()
        m_count, m_oldest = s.execute(
            select(func.count(), func.min(OutboxRow.send_after)).where(
                OutboxRow.status.in_(UNSENT), OutboxRow.send_after <= at
            )
        ).one()
    # min() over a UTCDateTime column comes back as the raw driver value; normalise it
    oldest = min((_aware(t) for t in (p_oldest, m_oldest) if t is not None), default=None)
    return Backlog(at, int(p_count or 0), int(m_count or 0), oldest)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite returns aggregates of DATETIME columns as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record_tick(
    db: Database, report: TickReport, at: datetime, *, pending: Backlog | None = None
) -> Backlog:
    """Remember the last tick: when, how much it did, how late it was, and the backlog after it.

    Several schedulers may record at once (PostgreSQL): an upsert that never replaces a later
    tick with an earlier one.
    """
    worst = max((a.late_by for a in report.applied), default=None)
    after = pending if pending is not None else backlog(db, at)
    value = {
        "at": at.isoformat(),
        "at_local": f"{to_local(at):%Y-%m-%d %H:%M}",
        "applied": len(report.applied),
        "late": len(report.late),
        "max_late_s": int(worst.total_seconds()) if worst else 0,
        "processes": report.processes,
        "backlog": after.as_dict(),
    }
    with db.transaction() as s:
        dialect = s.get_bind().dialect.name
        stmt: Insert
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            ins = pg_insert(SchedulerStateRow).values(name=LAST_TICK, value=value, updated_at=at)
            stmt = ins.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at},
                where=SchedulerStateRow.updated_at <= ins.excluded.updated_at,
            )
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(SchedulerStateRow).values(
                name=LAST_TICK, value=value, updated_at=at
            )
            stmt = lite.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": lite.excluded.value, "updated_at": lite.excluded.updated_at},
                where=SchedulerStateRow.updated_at <= lite.excluded.updated_at,
            )
        else:  # pragma: no cover - other databases: a plain read-modify-write
            row = s.get(SchedulerStateRow, LAST_TICK)
            if row is None:
                s.add(SchedulerStateRow(name=LAST_TICK, value=value, updated_at=at))
            elif row.updated_at <= at:
                row.value, row.updated_at = value, at
            return after
        s.execute(stmt)
    return after


def last_tick_at(db: Database) -> datetime | None:
    """When the last recorded tick happened (business time), or None before the first."""
    with db.sessions() as s:
        row = s.get(SchedulerStateRow, LAST_TICK)
    if row is None:
        return None
    raw = (row.value or {}).get("at")
    return datetime.fromisoformat(raw) if raw else row.updated_at


# ---------------------------------------------------------------------- one scheduler on SQLite


def sqlite_path(url: str) -> Path | None:
    """The real database file of a SQLite URL, symbolic links resolved (one file, one lock,
    however it is reached); None for PostgreSQL or an in-memory database."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database).resolve()


class InstanceLock:
    """An exclusive ``flock`` on ``<database>.scheduler.lock``, held until ``release``."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        import fcntl

        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_sqlite_scheduler(url: str) -> InstanceLock | None:
    """Take the one-scheduler lock of a SQLite database; None on PostgreSQL.

    Raises ``SchedulerAlreadyRunning`` (with the other scheduler's pid) when it is taken.
    """
    import fcntl  # POSIX only; imported here so the rest of the module works anywhere

    db_file = sqlite_path(url)
    if db_file is None:
        return None
    path = db_file.with_name(db_file.name + ".scheduler.lock")
    try:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
    except OSError as e:
        raise ConfigurationError(
            f"schedulerens låsefil {path} kan ikke oprettes ({e.strerror or e}): denne bruger "
            f"skal kunne skrive i mappen {db_file.parent} (den rummer også databasen)"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SchedulerAlreadyRunning(
            f"en anden scheduler (pid {holder}) kører allerede på SQLite-databasen "
            f"{db_file}. Der må kun køre én scheduler på SQLite: stop den anden først "
            "(eller brug PostgreSQL via AFTALEFLOW_DATABASE_URL for at køre flere)."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return InstanceLock(path, handle)
