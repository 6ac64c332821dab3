"""The service's commands that change a running year's plan: a meeting or workshop moved or
cancelled, a stage's deadline moved for every party. One ``ProcessTx`` per command, as in
``workflow.service``; the parties' contacts are ``workflow.contact_commands``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime

from workflow import deadline_moves, moves
from workflow.tick import advance
from workflow.timeline import BoundEvent
from workflow.tx import ProcessTx


class PlanCommands:
    """Mixed into ``workflow.service.Service``, which gives ``transaction``."""

    def transaction(self, key: str) -> AbstractContextManager[ProcessTx]:
        raise NotImplementedError

    def move_meeting(
        self,
        key: str,
        stage_id: str,
        event_id: str | None,
        *,
        to: str | None,
        location: str | None,
        cancel: bool = False,
        at: datetime,
        actor: str,
        reason: str,
    ) -> BoundEvent:
        """Move (``to``: a new start, ``2022-06-22T14:00`` or a day, Danish time; ``location``)
        or cancel a meeting or workshop (``workflow.moves``); the meeting as it now stands."""
        with self.transaction(key) as tx:
            if cancel:
                ev = moves.cancel_event(tx, stage_id, event_id, at=at, actor=actor, reason=reason)
            else:
                tx.stage(stage_id)  # an unknown stage: NotFound, with the nearest name
                old = moves.find_event(tx.bound.stage(stage_id), event_id)
                ev = moves.move_event(
                    tx,
                    stage_id,
                    event_id,
                    start=moves.parse_start(to, old) if to else old.start,
                    location=location,
                    at=at,
                    actor=actor,
                    reason=reason,
                )
            advance(tx, at, actor)
            tx.commit()
        return ev

    def move_deadline(
        self, key: str, stage_id: str, deadline: date, *, at: datetime, actor: str, reason: str
    ) -> dict[str, list[str]]:
        """A new deadline for every party of a stage (``workflow.deadline_moves``)."""
        with self.transaction(key) as tx:
            got = deadline_moves.move_deadline(
                tx, stage_id, deadline, at=at, actor=actor, reason=reason
            )
            advance(tx, at, actor)
            tx.commit()
        return got
