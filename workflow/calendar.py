"""Danish working days and office hours. Pure: no clock is read here.

Times are stored in UTC and computed in Europe/Copenhagen. A working day is a weekday that is
not a Danish public holiday (``holidays`` DK, including the optional Grundlovsdag, 24 and 31
December, when the secretariat's office is closed too).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Europe/Copenhagen")


@lru_cache(maxsize=64)
def _holidays(year: int) -> dict[date, str]:
    public = holidays.country_holidays("DK", years=year, language="da")
    optional = holidays.country_holidays("DK", years=year, language="da", categories=("optional",))
    return {**dict(optional), **dict(public)}


def holiday_name(d: date) -> str | None:
    return _holidays(d.year).get(d)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in _holidays(d.year)


def next_working_day(d: date) -> date:
    """``d`` itself if it is a working day, else the next one."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


@lru_cache(maxsize=16384)
def add_working_days(d: date, n: int) -> date:
    """Move ``n`` working days from ``d`` (negative: backwards). 0 returns ``d`` unchanged."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        d += timedelta(days=step)
        if is_working_day(d):
            remaining -= 1
    return d


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if is_working_day(d):
            count += 1
    return count


def parse_clock(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def local_to_utc(d: date, at: time) -> datetime:
    return datetime.combine(d, at, tzinfo=TZ).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(TZ)


@lru_cache(maxsize=16384)
def office_slot(d: date, office_hour: time) -> datetime:
    """The office hour on ``d``, or on the next working day: when a planned mail goes out."""
    return local_to_utc(next_working_day(d), office_hour)


def next_office_moment(moment: datetime, start: time, end: time) -> datetime:
    """``moment`` if it lies within office hours on a working day, else the next opening."""
    local = to_local(moment)
    d = local.date()
    if is_working_day(d) and start <= local.time() < end:
        return moment
    if is_working_day(d) and local.time() < start:
        return local_to_utc(d, start)
    return local_to_utc(next_working_day(d + timedelta(days=1)), start)


@lru_cache(maxsize=16384)
def end_of_day(d: date) -> datetime:
    """The last moment of a local day (deadlines are inclusive: 23:59:59 Danish time)."""
    return local_to_utc(d, time(23, 59, 59))
