"""Workshop sign-ups on top of the ``Service``: the personal link's target, the lists the
pages show, and the commands (each one ``ProcessTx``: ``workflow.workshops`` + the tick)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from workflow import workshop_after, workshops
from workflow.definition_parties import Contact
from workflow.errors import NotFound
from workflow.link_target import TOKEN_PATTERN, LinkNotFound
from workflow.links import LinkKey, make_token, token_hash
from workflow.service import Service, bound_for
from workflow.signup_rules import SignupWindow, signup_window, signup_windows
from workflow.storage.models import (
    EventRow,
    LinkRow,
    ProcessRow,
    StageRow,
    WorkshopConclusionRow,
    WorkshopSignupRow,
)
from workflow.tick import advance
from workflow.workshops import Participant


@dataclass(frozen=True)
class SignupTarget:
    """What a workshop's personal link points at: one party and one workshop."""

    process_id: int
    process_key: str
    title: str
    stage_id: str
    party: str
    party_name: str
    window: SignupWindow
    secretariat: Contact
    stage_open: bool

    @property
    def actor(self) -> str:
        return f"link:{self.party}/{self.window.id}"

    def can_sign_up(self, at: datetime) -> bool:
        return self.stage_open and self.window.open_for_signup(at)

    def can_cancel(self, at: datetime) -> bool:
        return self.stage_open and self.window.open_for_cancelling(at)


@dataclass(frozen=True)
class WorkshopInfo:
    """One workshop on the secretariat's page: its window, list, flag and conclusions."""

    window: SignupWindow
    signups: list[WorkshopSignupRow]
    flagged: bool
    conclusions: WorkshopConclusionRow | None

    def count(self, status: str) -> int:
        return sum(1 for r in self.signups if r.status == status)


class Workshops:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.db = service.db

    def resolve(self, token: str, at: datetime) -> SignupTarget:
        """The party and workshop of a sign-up link, or ``LinkNotFound`` (no detail)."""
        if not TOKEN_PATTERN.fullmatch(token or ""):
            raise LinkNotFound()
        with self.db.sessions() as s:
            link = s.scalar(select(LinkRow).where(LinkRow.token_hash == token_hash(token)))
            if link is None or link.revoked_at is not None:
                raise LinkNotFound()
            row = s.get(ProcessRow, link.process_id)
            if row is None:
                raise LinkNotFound()
            expected = make_token(
                self.service.link_secret, LinkKey(row.id, link.stage_id, link.party, link.step, 1)
            )
            if link.generation != 1 or not hmac.compare_digest(expected, token):
                raise LinkNotFound()
            bound = bound_for(row)
            try:
                window = signup_window(bound, link.stage_id, link.step)
            except NotFound:
                raise LinkNotFound() from None
            grace = timedelta(days=bound.bundle.process.link_grace_days)
            if at > window.event.end + grace:
                raise LinkNotFound()
            stage = s.scalar(
                select(StageRow).where(
                    StageRow.process_id == row.id, StageRow.stage_id == link.stage_id
                )
            )
            return SignupTarget(
                process_id=row.id,
                process_key=row.key,
                title=row.title,
                stage_id=link.stage_id,
                party=link.party,
                party_name=bound.bundle.parties.get(link.party).name,
                window=window,
                secretariat=bound.bundle.parties.secretariat,
                stage_open=row.status == "running" and stage is not None and stage.status == "open",
            )

    def party_list(self, target: SignupTarget) -> list[WorkshopSignupRow]:
        """The link's own party's participants still signed up (never another party's)."""
        rows = self._rows(target.process_id, target.stage_id, target.window.id)
        return [r for r in rows if r.party == target.party and r.status in workshops.ACTIVE]

    def taken_addresses(self, target: SignupTarget) -> set[str]:
        """The e-mail addresses (lower case) on the workshop's list now, of every party."""
        rows = self._rows(target.process_id, target.stage_id, target.window.id)
        return {r.email.lower() for r in rows if r.status in workshops.ACTIVE}

    def confirmed_count(self, target: SignupTarget) -> int:
        rows = self._rows(target.process_id, target.stage_id, target.window.id)
        return sum(1 for r in rows if r.status == workshops.CONFIRMED)

    def waiting_numbers(self, target: SignupTarget) -> dict[int, int]:
        """Each waiting participant's place on the workshop's waiting list (seq → 1, 2, …)."""
        rows = self._rows(target.process_id, target.stage_id, target.window.id)
        waiting = [r.seq for r in rows if r.status == workshops.WAITING]
        return {seq: i for i, seq in enumerate(waiting, 1)}

    def _rows(self, process_id: int, stage_id: str, workshop_id: str) -> list[WorkshopSignupRow]:
        with self.db.sessions() as s:
            return list(
                s.scalars(
                    select(WorkshopSignupRow)
                    .where(
                        WorkshopSignupRow.process_id == process_id,
                        WorkshopSignupRow.stage_id == stage_id,
                        WorkshopSignupRow.workshop_id == workshop_id,
                    )
                    .order_by(WorkshopSignupRow.seq)
                )
            )

    def overview(self, key: str) -> tuple[ProcessRow, list[WorkshopInfo]]:
        """Every workshop of the process that takes sign-ups, for the secretariat."""
        with self.db.sessions() as s:
            row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
            if row is None:
                raise NotFound(f"Processen {key!r} findes ikke.", en=f"No process {key!r}.")
            flagged = set(
                s.scalars(
                    select(EventRow.step).where(
                        EventRow.process_id == row.id, EventRow.kind == "workshop_below_minimum"
                    )
                )
            )
            s.expunge(row)
        bound = bound_for(row)
        out = []
        for bst in bound.stages:
            for w in signup_windows(bound, bst):
                rows = self._rows(row.id, bst.id, w.id)
                out.append(
                    WorkshopInfo(w, rows, w.id in flagged, self.conclusions(row.id, bst.id, w.id))
                )
        return row, out

    def conclusions(
        self, process_id: int, stage_id: str, workshop_id: str
    ) -> WorkshopConclusionRow | None:
        with self.db.sessions() as s:
            return s.scalar(
                select(WorkshopConclusionRow)
                .where(
                    WorkshopConclusionRow.process_id == process_id,
                    WorkshopConclusionRow.stage_id == stage_id,
                    WorkshopConclusionRow.workshop_id == workshop_id,
                )
                .order_by(WorkshopConclusionRow.version.desc())
                .limit(1)
            )

    # ------------------------------------------------------------------ commands

    def sign_up(
        self, target: SignupTarget, people: Sequence[Participant], *, at: datetime
    ) -> list[str]:
        with self.service.transaction(target.process_key) as tx:
            got = workshops.sign_up(
                tx,
                target.stage_id,
                target.window.id,
                target.party,
                people,
                at=at,
                actor=target.actor,
            )
            advance(tx, at, target.actor)
            tx.commit()
        return got

    def cancel(self, target: SignupTarget, seq: int, *, at: datetime) -> int | None:
        with self.service.transaction(target.process_key) as tx:
            moved = workshops.cancel(
                tx, target.stage_id, target.window.id, target.party, seq, at=at, actor=target.actor
            )
            advance(tx, at, target.actor)
            tx.commit()
        return moved

    def record_attendance(
        self,
        key: str,
        stage_id: str,
        workshop_id: str,
        attended: Mapping[int, bool],
        *,
        at: datetime,
        actor: str,
    ) -> None:
        with self.service.transaction(key) as tx:
            workshop_after.record_attendance(
                tx, stage_id, workshop_id, attended, at=at, actor=actor
            )
            tx.commit()

    def save_conclusions(
        self,
        key: str,
        stage_id: str,
        workshop_id: str,
        texts: Mapping[str, str],
        *,
        at: datetime,
        actor: str,
    ) -> int:
        with self.service.transaction(key) as tx:
            version = workshop_after.save_conclusions(
                tx, stage_id, workshop_id, texts, at=at, actor=actor
            )
            tx.commit()
        return version
