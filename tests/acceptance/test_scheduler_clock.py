"""The scheduler's seams, in-process and fast: the clock, the backlog, the SQLite lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workflow.clock import (
    SystemClock,
    VirtualClock,
    clock_from,
    format_speed,
    parse_moment,
    parse_speed,
)
from workflow.errors import AftaleflowError, SchedulerAlreadyRunning
from workflow.loader import Bundle
from workflow.scheduling import backlog, lock_sqlite_scheduler, record_tick, sqlite_path
from workflow.service import Service, TickReport
from workflow.storage.db import Database
from workflow.storage.models import SchedulerStateRow

START = datetime(2022, 1, 10, tzinfo=UTC)


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_virtual_clock_is_start_plus_elapsed_wall_time_times_speed() -> None:
    wall = Wall()
    clock = VirtualClock(START, 86_400, origin=wall.now, wall=wall)
    assert clock() == START
    wall.now += 1.5
    assert clock() == START + timedelta(days=1.5)
    wall.now -= 10  # the wall clock is stepped back: virtual time stands still
    assert clock() == START + timedelta(days=1.5)
    assert clock.wall_seconds(timedelta(days=3)) == 3.0


def test_a_virtual_clock_without_origin_starts_when_first_read() -> None:
    wall = Wall()
    clock = VirtualClock(START, 3600, wall=wall)
    wall.now += 100  # start-up work before the first tick costs no virtual time
    assert clock() == START
    wall.now += 2
    assert clock() == START + timedelta(hours=2)


def test_clock_from_flags() -> None:
    assert isinstance(clock_from(None, None), SystemClock)
    fast = clock_from("2022-01-10", "2d")
    assert isinstance(fast, VirtualClock)
    assert fast.start == datetime(2022, 1, 9, 23, tzinfo=UTC)  # Danish midnight
    assert fast.speed == 172_800
    resumed = clock_from("2022-01-10", "2d", resume_from=START + timedelta(days=40))
    assert isinstance(resumed, VirtualClock) and resumed.start == START + timedelta(days=40)
    # an origin keeps one timeline across restarts: no resuming
    anchored = clock_from("2022-01-10T00:00+00:00", "1d", "1000", resume_from=resumed.start)
    assert isinstance(anchored, VirtualClock)
    assert (anchored.start, anchored.origin) == (START, 1000.0)
    with pytest.raises(AftaleflowError, match="udgangspunkt for uret uden start"):
        clock_from(None, None, "1000")


@pytest.mark.parametrize(
    ("text", "factor"),
    [("172800", 172_800), ("2d", 172_800), ("12h", 43_200), ("1.5d", 129_600), ("30m/s", 1800)],
)
def test_speeds(text: str, factor: float) -> None:
    assert parse_speed(text) == factor


@pytest.mark.parametrize("text", ["", "fast", "-1", "0", "2y"])
def test_bad_speeds_say_what_to_write(text: str) -> None:
    with pytest.raises(AftaleflowError, match="skriv en faktor"):
        parse_speed(text)


def test_moments_and_speeds_read_like_danish_time() -> None:
    assert parse_moment("2022-04-04T09:00") == datetime(2022, 4, 4, 7, tzinfo=UTC)
    assert format_speed(172_800) == "2 dag(e) pr. sekund"
    with pytest.raises(AftaleflowError, match="er ikke et tidspunkt"):
        parse_moment("4 April")


def test_the_backlog_counts_due_processes_and_unsent_mails(
    tmp_path: Path, socialaftale: Bundle
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.migrate()
    try:
        svc = Service(db, link_secret="s")
        key = svc.start(socialaftale, 2022, at=START)
        assert backlog(db, START).empty
        later = START + timedelta(days=30)
        due = backlog(db, later)  # the first stage opened on 10 January, 09:00: not ticked
        assert (due.processes_due, due.mails_due) == (1, 0)
        assert due.oldest_age == later - (START + timedelta(hours=8))
        report = svc.tick(later)
        after = record_tick(db, report, later)
        assert after.empty
        with db.sessions() as s:
            row = s.get(SchedulerStateRow, "last_tick")
            assert row is not None
            assert row.value["applied"] == 1 and row.value["backlog"]["processes_due"] == 0
        # an older tick never overwrites a newer one (two schedulers on PostgreSQL)
        record_tick(db, TickReport(START), START)
        with db.sessions() as s:
            row = s.get(SchedulerStateRow, "last_tick")
            assert row is not None and row.value["at"] == later.isoformat()
        assert key
    finally:
        db.dispose()


def test_one_scheduler_per_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert sqlite_path(url) == tmp_path / "x.db"
    assert lock_sqlite_scheduler("postgresql+psycopg://u@h/db") is None
    lock = lock_sqlite_scheduler(url)
    assert lock is not None
    try:
        with pytest.raises(SchedulerAlreadyRunning, match=r"en anden scheduler \(pid \d+\)"):
            lock_sqlite_scheduler(url)
    finally:
        lock.release()
    again = lock_sqlite_scheduler(url)
    assert again is not None
    again.release()


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_the_sqlite_lock_holds_through_a_symbolic_link(tmp_path: Path, linked: str) -> None:
    real = tmp_path / "var" / "x.db"
    real.parent.mkdir()
    real.touch()
    if linked == "file":
        (tmp_path / "link.db").symlink_to(real)
        other = tmp_path / "link.db"
    else:
        (tmp_path / "var-link").symlink_to(real.parent, target_is_directory=True)
        other = tmp_path / "var-link" / "x.db"
    assert sqlite_path(f"sqlite:///{other}") == real
    lock = lock_sqlite_scheduler(f"sqlite:///{real}")
    assert lock is not None
    try:
        with pytest.raises(SchedulerAlreadyRunning, match=rf"SQLite-databasen {real}\."):
            lock_sqlite_scheduler(f"sqlite:///{other}")
    finally:
        lock.release()
