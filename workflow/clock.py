"""The clock seam: what "now" is for the scheduler, the demo and the acceptance tests.

Everything that depends on time takes ``at=``; the entry points read it from one of these
clocks. Both are plain callables returning an aware UTC ``datetime``, and both say how fast they run, so the scheduler can shrink its job
intervals with a fast clock.

- ``SystemClock``: the real time. Used everywhere outside demos and tests.
- ``VirtualClock``: ``virtual = start + (wall − origin) × speed``. With ``speed=172800`` a
  virtual day passes every half second of wall time. It never runs backwards, even if the
  wall clock is stepped back.

Nothing here reads the environment: ``clock_from`` takes the raw strings an entry point got
from its flags or ``AFTALEFLOW_CLOCK_*`` variables.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from workflow.calendar import TZ, to_local
from workflow.errors import AftaleflowError

#: One virtual day per wall second.
DAY_PER_SECOND = 86_400.0

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 604_800.0}


def system_clock() -> datetime:
    """The real time, in UTC: the one place outside the entry points that reads it (for the
    ``recorded_at`` of audit events)."""
    return datetime.now(UTC)


class SystemClock:
    """The real time, in UTC."""

    speed = 1.0
    is_virtual = False

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def describe(self) -> str:
        return "systemets ur (real time)"


class VirtualClock:
    """``start + (wall − origin) × speed``; ``origin`` is a wall time in Unix seconds.

    Without an ``origin`` the clock reads ``start`` the first time it is read and runs from
    there (so start-up work before the first tick costs no virtual time).
    """

    is_virtual = True

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        *,
        origin: float | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("a virtual clock needs an aware start time")
        if not speed > 0:
            raise ValueError("a virtual clock's speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self._wall = wall
        #: None until the first reading: a clock without an origin starts when first read.
        self.origin: float | None = None if origin is None else float(origin)
        self._last = self.start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            wall = self._wall()
            if self.origin is None:
                self.origin = wall
            now = self.start + timedelta(seconds=max((wall - self.origin) * self.speed, 0.0))
            if now < self._last:  # never backwards, whatever the wall clock does
                now = self._last
            self._last = now
        return now

    def wall_seconds(self, virtual: timedelta) -> float:
        """How many wall seconds ``virtual`` takes on this clock."""
        return virtual.total_seconds() / self.speed

    def describe(self) -> str:
        return (
            f"virtuelt ur fra {to_local(self.start):%Y-%m-%d %H:%M}, "
            f"{format_speed(self.speed)} (speed {self.speed:g})"
        )


Clock = SystemClock | VirtualClock


# ---------------------------------------------------------------------- parsing


def parse_moment(value: str) -> datetime:
    """An ISO date or date-time; without an offset it is Danish local time. Returns UTC."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise AftaleflowError(
            f"{value!r} er ikke et tidspunkt; skriv fx 2022-01-10 eller 2022-01-10T09:00"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=TZ)
    return dt.astimezone(UTC)


def parse_speed(value: str) -> float:
    """A factor (``172800``), or virtual time per wall second (``2d``, ``12h``, ``1.5d``)."""
    text = value.strip().lower().removesuffix("/s")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw]?)x?", text)
    if m is None or float(m.group(1)) <= 0:
        raise AftaleflowError(
            f"hastigheden {value!r} kan ikke forstås; skriv en faktor (172800) eller virtuel tid "
            "pr. sekund (2d = to dage pr. sekund, 12h, 30m)"
        )
    return float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1.0)


def parse_origin(value: str) -> float:
    """The wall time at which a virtual clock read its start: Unix seconds or ISO date-time."""
    try:
        return float(value)
    except ValueError:
        return parse_moment(value).timestamp()


def format_speed(speed: float) -> str:
    """``2 dage pr. sekund`` for 172800; ``×3.5`` for small factors."""
    if speed >= 3600:
        days = speed / DAY_PER_SECOND
        if days >= 1:
            return f"{days:g} dag(e) pr. sekund"
        return f"{speed / 3600:g} time(r) pr. sekund"
    return f"×{speed:g}"


def clock_from(
    start: str | None,
    speed: str | None,
    origin: str | None = None,
    *,
    resume_from: datetime | None = None,
) -> Clock:
    """The clock an entry point asked for.

    Neither ``start`` nor ``speed``: the system clock. Otherwise a virtual clock: ``start``
    defaults to the real now and ``speed`` to 1. ``origin`` (the wall time at which the clock
    read ``start``) keeps one timeline across restarts and across several processes; without
    it the clock reads ``start`` now, or ``resume_from`` when that is later (a restarted
    scheduler continues where the last tick left off: a virtual clock pauses while no
    scheduler runs).
    """
    if not start and not speed:
        if origin:
            raise AftaleflowError(
                "der er givet et udgangspunkt for uret uden start eller hastighed; sæt også "
                "AFTALEFLOW_CLOCK_START og/eller AFTALEFLOW_CLOCK_SPEED"
            )
        return SystemClock()
    begin = parse_moment(start) if start else datetime.now(UTC)
    factor = parse_speed(speed) if speed else 1.0
    if origin:
        return VirtualClock(begin, factor, origin=parse_origin(origin))
    if resume_from is not None and resume_from > begin:
        begin = resume_from
    return VirtualClock(begin, factor)
