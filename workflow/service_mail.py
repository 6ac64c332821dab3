"""The service's commands about mail beyond the cycle's own: an answer received by mail and
its confirmation, a meeting's report sent or its links revoked by hand, and the secretariat's
own mail to the parties. One ``ProcessTx`` per command, as in ``workflow.service``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from workflow import forum_report, mail_answers, messages
from workflow.tick import advance
from workflow.tx import ProcessTx


class MailCommands:
    """Mixed into ``workflow.service.Service``, which gives ``transaction``."""

    def transaction(self, key: str) -> AbstractContextManager[ProcessTx]:
        raise NotImplementedError

    def receive_mail_answer(
        self,
        key: str,
        stage_id: str,
        party: str,
        *,
        inbound_id: int,
        sender: str,
        files: Sequence[Mapping[str, Any]] = (),
        draft: Mapping[str, Any] | None = None,
        notes: Sequence[Mapping[str, Any]] = (),
        at: datetime,
        actor: str,
    ) -> str:
        """A reply matched to a party's task: "svar modtaget pr. mail" (or only recorded)."""
        with self.transaction(key) as tx:
            outcome = mail_answers.receive_by_mail(
                tx,
                stage_id,
                party,
                inbound_id=inbound_id,
                sender=sender,
                files=files,
                draft=draft,
                notes=notes,
                at=at,
                actor=actor,
            )
            advance(tx, at, actor)
            tx.commit()
        return outcome

    def confirm_mail_answer(
        self, key: str, stage_id: str, party: str, inbound_id: int, *, at: datetime, actor: str,
        reason: str,
    ) -> int:  # fmt: skip
        """The secretariat confirms the mail as the party's answer; returns the version."""
        with self.transaction(key) as tx:
            version = mail_answers.confirm_by_mail(
                tx, stage_id, party, inbound_id=inbound_id, at=at, actor=actor, reason=reason
            )
            advance(tx, at, actor)
            tx.commit()
        return version

    def send_report(self, key: str, stage_id: str, *, at: datetime, actor: str, reason: str) -> int:
        """The secretariat sends a meeting's report by hand; returns the number of mails."""
        with self.transaction(key) as tx:
            n = forum_report.send_report(tx, stage_id, at, actor, manual=True, reason=reason)
            advance(tx, at, actor)
            tx.commit()
        return n

    def send_message(
        self, key: str, message: messages.Message, *, at: datetime, actor: str
    ) -> list[str]:
        """The secretariat's own mail to chosen parties (``workflow.messages``); returns the
        parties it was queued to."""
        try:
            with self.transaction(key) as tx:
                sent = messages.queue_message(tx, message, at, actor)
                tx.commit()
        except IntegrityError as exc:  # the same form, sent twice at the same moment
            raise messages.already_queued() from exc
        return sent

    def revoke_report_links(
        self,
        key: str,
        stage_id: str,
        party: str | None = None,
        *,
        at: datetime,
        actor: str,
        reason: str,
    ) -> None:
        with self.transaction(key) as tx:
            forum_report.revoke_report_links(tx, stage_id, party, at, actor, reason)
            tx.commit()
