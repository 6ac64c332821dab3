"""What the planner reads of a process: the protocols its state meets (the engine's records,
``workflow.tx``, meet them), plain views for tests and tools, and the one rule of a document
conflict. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

TaskKey = tuple[str, str, str]  # stage, party, step ('' for a questionnaire task)


class TaskLike(Protocol):
    """What the planner reads of a task: a ``TaskView`` or the engine's ``TaskRecord``."""

    @property
    def stage(self) -> str: ...
    @property
    def party(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def deadline(self) -> date | None: ...
    @property
    def reminders_done(self) -> int: ...
    @property
    def last_mail_at(self) -> datetime | None: ...
    @property
    def escalated(self) -> bool: ...
    @property
    def decided_at(self) -> datetime | None: ...


class StageLike(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def opened_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def submitted(self) -> bool: ...
    @property
    def report_sent(self) -> bool: ...


class StateLike(Protocol):
    """What the planner reads of a process: a ``ProcessView`` or the engine's state."""

    @property
    def status(self) -> str: ...
    @property
    def stages(self) -> Mapping[str, StageLike]: ...
    @property
    def document_conflict(self) -> str: ...
    @property
    def agreement_up(self) -> bool: ...
    def tasks_of(self, stage: str) -> Sequence[TaskLike]: ...


@dataclass(frozen=True)
class TaskView:
    stage: str
    party: str
    step: str
    seq: int
    status: str
    deadline: date | None
    reminders_done: int = 0
    last_mail_at: datetime | None = None
    escalated: bool = False
    decided_at: datetime | None = None

    @property
    def key(self) -> TaskKey:
        return (self.stage, self.party, self.step)


@dataclass(frozen=True)
class StageView:
    id: str
    status: str
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    submitted: bool = False
    report_sent: bool = False


@dataclass(frozen=True)
class ProcessView:
    status: str
    stages: Mapping[str, StageView]
    tasks: Mapping[TaskKey, TaskView] = field(default_factory=dict)
    document_conflict: str = ""
    """Why the agreement cannot be submitted (a party approved another version), if so."""
    agreement_up: bool = False
    """A version of the agreement is up for approval: no approval stage opens before."""

    def tasks_of(self, stage: str) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.stage == stage]


class ApprovalLike(Protocol):
    @property
    def party(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def decision(self) -> Mapping[str, object] | None: ...


def document_conflict(wanted: str | None, tasks: Iterable[ApprovalLike]) -> str:
    """Why the agreement cannot be submitted: an approval of another version than ``wanted``
    (the hash of the version put up for approval), if so."""
    if not wanted:
        return ""
    for t in tasks:
        got = str((t.decision or {}).get("document_hash", ""))
        if t.kind == "approval" and t.status == "approved" and got != wanted:
            return (
                f"{t.party} ({t.step}) godkendte version {got[:12] or 'uden version'}, "
                f"ikke {wanted[:12]}, der er sendt til godkendelse"
            )
    return ""
