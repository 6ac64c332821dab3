"""SQLAlchemy 2 models: the database is the source of truth.

Column names never equal a state-machine trigger (STACK.md pitfall 3): ``status`` holds the
state, and no ``transitions`` machine is ever attached to a row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workflow.deadlines import effective_deadline
from workflow.storage.types import UTCDateTime  # also named by the migrations as models.UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class ProcessRow(Base):
    __tablename__ = "processes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    definition_id: Mapped[str] = mapped_column(String(100))
    definition_version: Mapped[int] = mapped_column(Integer)
    definition_hash: Mapped[str] = mapped_column(String(64))
    definition_path: Mapped[str] = mapped_column(String(500))
    definition_snapshot: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="running")
    approval_document_hash: Mapped[str | None] = mapped_column(String(64))
    """The SHA-256 of the agreement version put up for approval, if any."""
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    row_token: Mapped[str | None] = mapped_column(String(32))
    """Drawn at random by every engine commit: with ``row_version`` it tells the engine that
    the records it kept are still the ones in the database (``workflow.tx``)."""
    plan_changes: Mapped[dict[str, Any] | None]
    """The plan as the secretariat changed it since the start: meetings and workshops moved,
    postponed or cancelled, stage deadlines moved for everyone (``workflow.live_plan``); the
    audit log holds every change."""
    actuals: Mapped[dict[str, Any] | None]
    """Stage id → {"at", "values"}: the recorded completions later stages follow
    (``workflow.follows``); None until one is recorded."""

    __mapper_args__ = {"version_id_col": row_version}


class StageRow(Base):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("process_id", "stage_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any] | None]
    #: When the compiled report went to the meeting's invitees (``send_report``), if it did.
    report_sent_at: Mapped[datetime | None]


class TaskRow(Base):
    """One party's task in a stage: a questionnaire answer, or one step of an approval chain."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("process_id", "stage_id", "party", "step"),
        Index("ix_tasks_process_stage", "process_id", "stage_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    party: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(40), default="")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    deadline_override: Mapped[date | None] = mapped_column(Date)
    #: An approval step's own deadline, planned on its body's meeting calendar when it is
    #: requested (``workflow.step_plan``); None: the stage's deadline.
    step_deadline: Mapped[date | None] = mapped_column(Date)
    invited_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    reminders_done: Mapped[int] = mapped_column(Integer, default=0)
    last_mail_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    link_generation: Mapped[int] = mapped_column(Integer, default=1)
    decision: Mapped[dict[str, Any] | None]

    def deadline_or(self, stage_deadline: date | None) -> date | None:
        """The deadline the task has now: an extension, else the step's own, else the
        stage's (``TaskRecord.deadline`` on the write side)."""
        return effective_deadline(
            extended=self.deadline_override, step=self.step_deadline, stage=stage_deadline
        )


class EventRow(Base):
    """The append-only audit log: who did what, when (business time) and why."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_process_at", "process_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60), index=True)
    stage_id: Mapped[str] = mapped_column(String(100), default="")
    party: Mapped[str] = mapped_column(String(100), default="")
    step: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxRow(Base):
    """A mail to be sent: written in the same transaction as the state change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_process_stage", "process_id", "stage_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    stage_id: Mapped[str] = mapped_column(String(100), default="")
    party: Mapped[str] = mapped_column(String(100), default="")
    step: Mapped[str] = mapped_column(String(40), default="")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[list[Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    thread_key: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime]
    send_after: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    sent_message: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    """The message exactly as it was handed to the relay (CRLF, 7-bit MIME), written by the
    same UPDATE that marks the row sent; read only by the dashboard's mail view."""


class MailFileRow(Base):
    """A file the secretariat attached to a mail it wrote (``workflow.messages``): kept once
    per process and content, and attached from here when the mail is sent."""

    __tablename__ = "mail_files"
    __table_args__ = (UniqueConstraint("process_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class DocumentRow(Base):
    """One uploaded version of the agreement document (kept in the database with its hash)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(200))


class AnswerRow(Base):
    """One version of a party's answer; every submitted version is kept."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("process_id", "stage_id", "party", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    party: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))  # draft | submitted
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    by_mail: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """The answer came by mail and the secretariat confirmed it (``mail`` says which)."""
    mail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """For an answer by mail: the received mail's id, sender and files."""
    questionnaire_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The version of the questionnaire the answer answered (empty: before versions were kept;
    a process moved to a changed questionnaire keeps its earlier answers' version)."""


class ReportSummaryRow(Base):
    """One version of the secretariat's summary ("Sekretariatets opsamling") of one section
    of a questionnaire stage's report; every saved version is kept. ``section`` is the
    questionnaire section's id, or ``""`` for the summary of the whole report."""

    __tablename__ = "report_summaries"
    __table_args__ = (UniqueConstraint("process_id", "stage_id", "section", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    section: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime]


class LinkRow(Base):
    """A personal link, stored only as the SHA-256 of its token."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    party: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(40), default="")
    generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    #: Kept working after the task's link was re-issued to a new contact (the secretariat did
    #: not choose to revoke the old contact's link); a later revoke or re-issue stops it.
    kept: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ContactStatusRow(Base):
    """Delivery health of one address: a permanent SMTP failure marks it failing."""

    __tablename__ = "contact_status"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="ok")
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class ContactRow(Base):
    """A party's contact for one role: live data the secretariat keeps (``workflow.contact_book``).
    Seeded from the party registry of a definition (``created_by`` "registry"); a change never
    deletes a row, it deactivates it, so the history stays."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_registry_party", "registry_id", "party", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The party registry's id (``PartyRegistry.id``): every process on it shares its contacts.
    registry_id: Mapped[str] = mapped_column(String(100))
    party: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime | None]
    changed_by: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class SchedulerStateRow(Base):
    """Small named facts about the scheduler: last tick, backlog, the running instance."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class UserRow(Base):
    """A secretariat user of the dashboard: an argon2 password hash, a role, the lock-out
    state, and the SHA-256 of the user's API token (the token itself is never stored)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    session_epoch: Mapped[int] = mapped_column(Integer, default=1)
    """Raised at log-out: every session cookie carrying an older epoch stops working."""
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    api_token_created_at: Mapped[datetime | None]
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The SHA-256 of the user's private calendar-feed address (``workflow.user_feeds``)."""
    feed_token_created_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InboundMailRow(Base):
    """One message read from the IMAP mailbox: stored once (mailbox + UIDVALIDITY + UID), with
    what it was taken for and which sent mail (and so which task) it answers, if any."""

    __tablename__ = "inbound_mail"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        Index("ix_inbound_mail_status", "status", "received_at"),
        Index("ix_inbound_mail_process", "process_id", "stage_id", "party"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(300), default="", index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    """The Date header (as the sender claims it)."""
    received_at: Mapped[datetime]
    """When Aftaleflow read it (business time)."""
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    body_text: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(20))
    """reply | auto_reply | bounce | automatic | own"""
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Bounced recipients and reasons, auto-reply signals, attachments kept and refused."""
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id", ondelete="SET NULL"))
    stage_id: Mapped[str] = mapped_column(String(100), default="")
    party: Mapped[str] = mapped_column(String(100), default="")
    step: Mapped[str] = mapped_column(String(40), default="")
    matched_by: Mapped[str] = mapped_column(String(20), default="")
    """in-reply-to | references | bounced-original | manual, or empty when unmatched."""
    status: Mapped[str] = mapped_column(String(20), default="new")
    """new (for the secretariat's Indbakke) | assigned | ignored"""
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    applied_at: Mapped[datetime | None]
    """When the engine took in this reply (its task marked "svar modtaget pr. mail", or the
    reply recorded); empty while a matched reply still waits for it."""


class WorkshopSignupRow(Base):
    """One participant a party signed up for a workshop (``workflow.workshops``). ``seq``
    numbers the workshop's sign-ups in the order they came (first come, first served);
    ``status`` is confirmed, waiting or cancelled; ``attended`` is recorded afterwards."""

    __tablename__ = "workshop_signups"
    __table_args__ = (
        UniqueConstraint("process_id", "stage_id", "workshop_id", "seq"),
        Index("ix_workshop_signups_party", "process_id", "stage_id", "workshop_id", "party"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    workshop_id: Mapped[str] = mapped_column(String(100))
    party: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))
    signed_up_at: Mapped[datetime]
    promoted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    attended: Mapped[bool | None] = mapped_column(Boolean)


class WorkshopConclusionRow(Base):
    """One saved version of what a workshop concluded (seed 003: challenges, actions,
    recommendations); every version is kept, the newest is shown."""

    __tablename__ = "workshop_conclusions"
    __table_args__ = (UniqueConstraint("process_id", "stage_id", "workshop_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    stage_id: Mapped[str] = mapped_column(String(100))
    workshop_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    challenges: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime]


#: The tables by name (typed as tables, for Core statements).
TABLES = Base.metadata.tables
