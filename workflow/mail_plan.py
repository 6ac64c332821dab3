"""The mail plan of a running process under two versions of its definition: which mails to
whom on which dates disappear, appear or move if the process moves to the new version.

Each plan is the rest of the year simulated from the live state (``workflow.fork`` copies
it into a throw-away database; ``workflow.simulation.simulate_from`` runs it): the mails the
simulation queues, cancelled ones left out. A mail is the same mail in both plans when its
kind, stage, party, step and sequence are; it moved when its day differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from workflow.calendar import to_local
from workflow.fork import forked
from workflow.service import Service
from workflow.simulation import simulate_from
from workflow.step_plan import CalendarSource
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow

Identity = tuple[str, str, str, str, int]


@dataclass(frozen=True)
class PlannedMail:
    day: date
    kind: str
    stage: str
    party: str
    step: str
    seq: int
    recipients: tuple[str, ...]

    @property
    def identity(self) -> Identity:
        return (self.kind, self.stage, self.party, self.step, self.seq)


@dataclass
class MailPlanDiff:
    before: int = 0
    after: int = 0
    gone: list[PlannedMail] = field(default_factory=list)
    new: list[PlannedMail] = field(default_factory=list)
    moved: list[tuple[PlannedMail, PlannedMail]] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.gone or self.new or self.moved)


#: A change made to the fork before the rest of the year is simulated (the migration itself).
Change = Callable[[Service], None]


def planned_mails(
    live: Database,
    key: str,
    now: datetime,
    link_secret: str,
    change: Change | None = None,
    calendars: CalendarSource | None = None,
) -> list[PlannedMail]:
    """The mails the rest of the year queues for the process ``key`` from ``now`` (after
    ``change``, if given, what it queues at once included). Nothing is written to ``live``."""
    with forked(live, key) as db:
        with db.sessions() as s:
            first = s.scalar(select(func.max(OutboxRow.id))) or 0
        service = Service(db, link_secret=link_secret, calendars=calendars)
        if change is not None:
            change(service)
        simulate_from(service, key, now)
        with db.sessions() as s:
            rows = s.scalars(
                select(OutboxRow)
                .where(OutboxRow.id > first, OutboxRow.status != "cancelled")
                .order_by(OutboxRow.send_after, OutboxRow.id)
            ).all()
            return [
                PlannedMail(
                    to_local(r.send_after).date(),
                    r.kind,
                    r.stage_id,
                    r.party,
                    r.step,
                    r.seq,
                    tuple(str(c.get("email", "")) for c in r.recipients or []),
                )
                for r in rows
            ]


def diff_plans(before: list[PlannedMail], after: list[PlannedMail]) -> MailPlanDiff:
    """Mails that disappear, appear or move (same mail, another day)."""
    out = MailPlanDiff(len(before), len(after))
    old = {m.identity: m for m in before}
    new = {m.identity: m for m in after}
    for ident, m in old.items():
        got = new.get(ident)
        if got is None:
            out.gone.append(m)
        elif got.day != m.day:
            out.moved.append((m, got))
    out.new = [m for ident, m in new.items() if ident not in old]
    return out


def mail_plan_diff(
    live: Database,
    key: str,
    change: Change,
    now: datetime,
    link_secret: str,
    calendars: CalendarSource | None = None,
) -> MailPlanDiff:
    """The mail plan of the process ``key`` as it is, against the plan after ``change``."""
    return diff_plans(
        planned_mails(live, key, now, link_secret, calendars=calendars),
        planned_mails(live, key, now, link_secret, change, calendars),
    )
