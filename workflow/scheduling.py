"""What the scheduler leaves behind: the last tick and its backlog, for status and dashboard."""

from __future__ import annotations

from datetime import datetime

from workflow.calendar import to_local
from workflow.service import TickReport
from workflow.storage.db import Database
from workflow.storage.models import SchedulerStateRow


def record_tick(db: Database, report: TickReport, at: datetime) -> None:
    """Remember the last tick: when, how much it did, and how late the latest action was."""
    worst = max((a.late_by for a in report.applied), default=None)
    value = {
        "at": at.isoformat(),
        "at_local": f"{to_local(at):%Y-%m-%d %H:%M}",
        "applied": len(report.applied),
        "late": len(report.late),
        "max_late_s": int(worst.total_seconds()) if worst else 0,
        "processes": report.processes,
    }
    with db.transaction() as s:
        row = s.get(SchedulerStateRow, "last_tick")
        if row is None:
            s.add(SchedulerStateRow(name="last_tick", value=value, updated_at=at))
        else:
            row.value = value
            row.updated_at = at
