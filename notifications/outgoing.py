"""Plain values passed between the parts: a mail to send, its recipients, the rendered result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workflow.definition_questions import Questionnaire
from workflow.storage.models import OutboxRow


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recipient:
        return cls(name=str(data.get("name") or ""), email=str(data.get("email") or ""))


@dataclass(frozen=True)
class OutgoingMail:
    """What an outbox row says, detached from the database session."""

    id: int
    idempotency_key: str
    kind: str
    stage_id: str
    party: str
    step: str
    seq: int
    recipients: tuple[Recipient, ...]
    context: Mapping[str, Any]
    thread_key: str | None = None
    process_id: int | None = None
    message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    """Files that go with the mail as they are (the agreement to Socialstyrelsen)."""
    questionnaire: Questionnaire | None = None
    """An invitation's questionnaire: render attaches it as a PDF and a Word form."""

    @classmethod
    def from_row(cls, row: OutboxRow) -> OutgoingMail:
        # the context as the row holds it (a plain dict, decoded from the row's JSON, that
        # nothing changes: a mail's context is only read), not a copy of it per mail
        return cls(
            row.id,
            row.idempotency_key,
            row.kind,
            row.stage_id,
            row.party,
            row.step,
            row.seq,
            tuple([Recipient.from_json(r) for r in row.recipients or ()]),
            row.context or {},
            row.thread_key,
            row.process_id,
            row.message_id,
        )

    @property
    def secretariat(self) -> Recipient:
        return Recipient.from_json(self.context.get("secretariat") or {})


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    attachments: Sequence[Attachment] = ()
    language: str = "da"
