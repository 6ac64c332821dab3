"""Every default of the engine, the mailer and the scheduler in one place, a sentence each.

Entry points may override some of them (flags, settings); nothing else defines a default of
its own.
"""

from __future__ import annotations

from datetime import timedelta

# ---------------------------------------------------------------------- engine

#: A tick stops re-planning one process after this many rounds (a guard against a planner bug).
MAX_ROUNDS_PER_TICK = 2000

#: An action applied this much after it fell due is logged as caught up.
LATE_LOG_THRESHOLD = timedelta(minutes=5)

#: Processes whose records the engine keeps between transactions (checked before each use).
CACHED_PROCESSES = 512

#: Bound definitions (a definition snapshot resolved for a year) kept in memory.
CACHED_DEFINITIONS = 64

#: Working days a questionnaire stays open after its deadline when no ``closes`` is given.
CLOSE_AFTER_WORKING_DAYS = 10

#: An approval step requested when its body's calendar has no meeting with an open agenda
#: left gets the stage's deadline, but never fewer working days than this (never a past day).
NO_MEETING_WORKING_DAYS = 10

# ---------------------------------------------------------------------- storage

#: How long a SQLite connection waits for a lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000

# ---------------------------------------------------------------------- scheduler

#: Business seconds between two ticks (``AFTALEFLOW_TICK_SECONDS`` overrides it).
TICK_SECONDS = 60

#: Business seconds between two runs of the send job (``AFTALEFLOW_SEND_SECONDS``).
SEND_SECONDS = 30

#: Shortest wall-clock interval between two runs of a job (a fast clock shrinks intervals).
MIN_INTERVAL_S = 0.2

#: Batches one run of the send job claims at most before it yields to the tick.
MAX_BATCHES_PER_RUN = 100

#: At most one backlog warning per this many wall seconds.
BACKLOG_WARN_EVERY_S = 60.0

# ---------------------------------------------------------------------- mail

#: Mails one sender claims and sends over one connection at a time.
SEND_BATCH_SIZE = 50

#: A ``sending`` row claimed longer ago than this belongs to a sender that died.
SEND_LEASE = timedelta(minutes=10)

#: The wait after a mail's first temporary failure; it doubles with every further failure ...
BACKOFF_FIRST = timedelta(minutes=1)

#: ... up to this.
BACKOFF_CAP = timedelta(hours=6)
