"""The live demo behind ``make run``: the shipped Socialaftale cycle on a fast virtual clock.

On first run the demo starts the shipped definition bound to 2022 (the timeline of Nordjysk
Socialaftale 2023-24) at the beginning of its timeline. The scheduler then runs it on a
virtual clock (default: two days per second), and because the first two stages are meetings
whose outcome a person records, a simulated secretariat records the outcome of every meeting
and decision stage of the demo process as soon as the meeting has ended. Everything else is
left to the engine and to whoever plays a party in the web app: invitations, reminders and
escalations go out on their working days; nobody answers unless you do.

The simulated secretariat acts on the demo process only (``demo-<definition>-<year>``), and
the demo refuses to seed a database that already holds other processes, so a demo can never
touch a real cycle.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from workflow.calendar import local_to_utc, to_local
from workflow.decided import planned_values
from workflow.definition import Stage
from workflow.errors import AftaleflowError, GuardRefused
from workflow.loader import Bundle, load_bundle
from workflow.service import Applied, Service, bound_for
from workflow.storage.models import ProcessRow, StageRow
from workflow.timeline import bind

log = logging.getLogger("aftaleflow.demo")

ROOT = Path(__file__).resolve().parent.parent
#: The shipped definition the demo runs.
DEFINITION = ROOT / "definitions" / "processes" / "socialaftale.yaml"
YEAR = 2022
#: Two virtual days per wall second: the invitations of 4 April go out about 45 s after start.
SPEED = "2d"
#: Who the audit log names for the simulated secretariat's acts.
ACTOR = "demo-sekretariat (simuleret)"
#: The secretariat's login in the demo (an administrator), shown by ``make run``.
LOGIN_USER = "demo"
LOGIN_PASSWORD = "socialaftale"


@dataclass(frozen=True)
class Demo:
    key: str
    title: str
    start: datetime
    seeded: bool
    #: The demo login exists (LOGIN_USER / LOGIN_PASSWORD).
    login: bool = False


#: Process keys that start with this belong to the demo (and to nothing else).
PREFIX = "demo-"


def demo_key(bundle: Bundle, year: int = YEAR) -> str:
    return f"{PREFIX}{bundle.process.id}-{year}"


def timeline_start(bundle: Bundle, year: int = YEAR) -> datetime:
    """Midnight (Danish time) of the day the first stage opens: where the demo clock starts."""
    first = min(s.opens_at for s in bind(bundle, year).stages)
    return local_to_utc(to_local(first).date(), time(0, 0))


def seed(
    service: Service,
    *,
    definition: Path = DEFINITION,
    year: int = YEAR,
    at: datetime | None = None,
) -> Demo:
    """Start the demo process unless it is there already (safe to repeat, and to race).

    ``at`` is when it starts (default: the beginning of its timeline). Refuses a database
    that holds any other process.
    """
    with service.db.sessions() as s:
        rows = s.execute(select(ProcessRow.key, ProcessRow.title, ProcessRow.created_at)).all()
    for row in rows:  # seeded before: no need to read the definition again
        if row.key.startswith(PREFIX) and row.key.endswith(f"-{year}"):
            login = ensure_login(service, row.created_at)
            return Demo(row.key, row.title, row.created_at, seeded=False, login=login)
    bundle = load_bundle(definition, reference_year=year)
    key = demo_key(bundle, year)
    start = at or timeline_start(bundle, year)
    others = [r.key for r in rows]
    if others:
        raise AftaleflowError(
            f"demoen kører kun på sin egen database, og denne rummer {len(others)} anden/andre "
            f"proces(ser) ({', '.join(sorted(others)[:3])}). Lad AFTALEFLOW_VAR_DIR (eller "
            "AFTALEFLOW_DATABASE_URL) pege et andet sted hen til demoen, eller kør scheduleren "
            "uden --demo."
        )
    try:
        service.start(bundle, year, at=start, actor=ACTOR, key=key)
    except AftaleflowError:
        # a second scheduler seeded it a moment ago: fine, use theirs
        with service.db.sessions() as s:
            if s.scalar(select(func.count()).where(ProcessRow.key == key)) == 0:
                raise
        return Demo(key, bundle.process.title_for(year), start, False, ensure_login(service, start))
    log.info("demo seeded", extra={"action": "demo_seeded", "process_key": key, "year": year})
    return Demo(key, bundle.process.title_for(year), start, True, ensure_login(service, start))


def ensure_login(service: Service, at: datetime) -> bool:
    """The demo's secretariat login, unless the database has users of its own already.

    True if the demo login exists. (Without the users module, the web app has no logins.)
    """
    try:
        from workflow import users
    except ImportError:  # pragma: no cover - a checkout without logins
        return False
    if users.count_users(service.db) == 0:
        # a second scheduler may have added it a moment ago
        with contextlib.suppress(users.UserError, IntegrityError):
            users.add_user(service.db, LOGIN_USER, LOGIN_PASSWORD, "admin", at=at, actor=ACTOR)
    return any(u.name == LOGIN_USER for u in users.list_users(service.db))


def _open_meetings(service: Service, key: str) -> list[tuple[str, str, datetime]]:
    """(stage id, kind, when the meeting ends) of the demo process's open meetings/decisions."""
    with service.db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        if row is None or row.status != "running":
            return []
        bound = bound_for(row)
        open_ids = list(
            s.scalars(
                select(StageRow.stage_id).where(
                    StageRow.process_id == row.id,
                    StageRow.status == "open",
                    StageRow.kind.in_(("meeting", "decision")),
                )
            )
        )
    out = []
    for stage_id in open_ids:
        stage = bound.stage(stage_id)
        ended = max((e.end for e in stage.events), default=stage.opens_at)
        out.append((stage_id, stage.kind, ended))
    return out


def next_outcome_at(service: Service, key: str) -> datetime | None:
    """When the simulated secretariat will next record an outcome (None: nothing open)."""
    return min((ended for _, _, ended in _open_meetings(service, key)), default=None)


def _definition(service: Service, key: str, stage_id: str) -> Stage:
    with service.db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None
        return bound_for(row).stage(stage_id).definition


def secretariat(service: Service, key: str, at: datetime) -> list[Applied]:
    """Record the outcome of every open meeting or decision whose meeting has ended by ``at``,
    as of the meeting's end (a scheduler that was down does not make KKR late: the dates that
    follow KKR's decision stay where they were planned).

    Meetings are recorded as held and decisions as approved, each in its own transaction (the
    service locks the process); a stage another scheduler recorded first is skipped.
    """
    applied: list[Applied] = []
    for stage_id, kind, ended in _open_meetings(service, key):
        if ended > at:
            continue
        outcome = "approved" if kind == "decision" else "held"
        values = planned_values(_definition(service, key, stage_id))
        try:
            applied += service.record_outcome(
                key,
                stage_id,
                outcome=outcome,
                text="Referat fra demoen (registreret automatisk)",
                at=ended,  # when the meeting ended, also after downtime: no slip from a pause
                actor=ACTOR,
                reason="demo: det simulerede sekretariat registrerer mødets udfald",
                values=values,
            )
        except GuardRefused:  # another scheduler recorded it first
            continue
        log.info(
            "demo secretariat recorded %s for %s",
            outcome,
            stage_id,
            extra={"action": "demo_outcome", "stage": stage_id, "outcome": outcome},
        )
    return applied
