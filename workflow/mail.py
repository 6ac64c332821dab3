"""A mail to be sent, as a value, and the ONE schema of the outbox row the engine writes for it.

The engine decides that a mail goes out and makes a ``Mail``; ``outbox_row`` turns it into
the row (``notifications`` reads it back as ``OutgoingMail``). Every outbox context has:

- ``process_id``, ``process_key``, ``title``, ``year``: the process;
- ``stage_id``, ``stage_name``, ``forum``: the stage ('' for a mail about the whole process);
- ``party``, ``party_name``, ``step``: whom it is about ('' when nobody in particular);
- ``secretariat``: ``{"name", "email"}``, the Reply-To of every mail;
- ``planned_at``: when the engine queued it (ISO, UTC);
- ``office_hours``: ``["09:00", "16:00"]``, the definition's calendar: the mail is due at the
  next office moment, and so is every retry (``office_hours``);
- ``party_names``: slug → name of every party (submission mails, which list the approvals);
- then the kind's own keys (``details``): e.g. ``deadline`` (ISO date or ''), ``link``
  (``{"generation": n}``: the renderer derives the personal link from the secret and the keys
  above, ``workflow.links.token_of``), ``n`` and ``working_days_left`` of a reminder, ``event``
  of a meeting invitation, ``approvals`` and ``document`` of the submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from workflow.calendar import next_office_moment
from workflow.definition_parties import Contact
from workflow.timeline import BoundProcess


@dataclass(frozen=True, kw_only=True)
class Mail:
    """One mail the engine queues. Its idempotency key is (process, stage, party, step, kind,
    seq): queuing the same mail twice is refused by the database."""

    kind: str
    stage: str = ""
    party: str = ""
    step: str = ""
    #: Which mail of its kind this is for the task (reminder n, a re-issue's old generation).
    seq: int = 0
    recipients: tuple[Contact, ...]
    #: The kind's own context keys (see the module docstring).
    details: Mapping[str, Any] = field(default_factory=dict)
    #: The kind of the earlier mail of the same task this one threads under (a reminder under
    #: its invitation), if any; that mail's sequence is 0.
    thread_under: str = ""
    #: Due at once, not at the next office moment (the secretariat chose "send now").
    now: bool = False
    #: Ends the idempotency key (a mail the secretariat wrote: its form's one-time id, so the
    #: same form sent twice is queued once).
    tag: str = ""
    #: The idempotency key of any earlier mail this one threads under (wins over
    #: ``thread_under``).
    thread_to: str = ""

    def key(self, process_id: int) -> str:
        key = mail_key(process_id, self.stage, self.party, self.step, self.kind, self.seq)
        return f"{key}/{self.tag}" if self.tag else key

    def thread_key(self, process_id: int) -> str | None:
        if self.thread_to:
            return self.thread_to
        if not self.thread_under:
            return None
        return mail_key(process_id, self.stage, self.party, self.step, self.thread_under, 0)


def mail_key(process_id: int, stage: str, party: str, step: str, kind: str, seq: int) -> str:
    """The idempotency key of a mail: (process, stage, party, step, kind, sequence)."""
    return f"p{process_id}/{stage}/{party}/{step}/{kind}/{seq}"


def office_hours(context: Mapping[str, Any]) -> tuple[time, time]:
    """When a mail may go out (opening, closing), from its context; the calendar's defaults
    for a row written before the context held them."""
    from workflow.calendar import parse_clock
    from workflow.definition import CalendarRules

    got = context.get("office_hours") or []
    if len(got) == 2:
        return parse_clock(str(got[0])), parse_clock(str(got[1]))
    default = CalendarRules()
    return parse_clock(default.office_hour), parse_clock(default.office_hours_end)


def iso_day(d: date | None) -> str:
    """A deadline as the context holds it: ISO date, or '' for none."""
    return d.isoformat() if d else ""


def context(
    mail: Mail,
    *,
    process_id: int,
    process_key: str,
    title: str,
    year: int,
    bound: BoundProcess,
    at: datetime,
) -> dict[str, Any]:
    """The outbox context of ``mail`` (the schema in the module docstring)."""
    parties = bound.bundle.parties
    bst = bound.stage(mail.stage) if mail.stage else None
    party = parties.by_slug.get(mail.party)
    sec = parties.secretariat
    ctx: dict[str, Any] = {
        "process_id": process_id,
        "process_key": process_key,
        "title": title,
        "year": year,
        "stage_id": mail.stage,
        "stage_name": bst.definition.name if bst else "",
        "forum": bst.definition.forum if bst else "",
        "party": mail.party,
        "party_name": party.name if party else "",
        "step": mail.step,
        "secretariat": {"name": sec.name, "email": sec.email},
        "planned_at": at.isoformat(),
        "office_hours": [
            t.isoformat(timespec="minutes") for t in (bound.office_hour, bound.office_end)
        ],
    }
    if mail.kind == "submission":
        ctx["party_names"] = {p.slug: p.name for p in parties.parties}
    ctx.update(mail.details)
    return ctx


def due_at(mail: Mail, bound: BoundProcess, at: datetime) -> datetime:
    """When ``mail`` queued at ``at`` goes out: at once if it is to be sent now, else at the
    next office moment of the definition's calendar."""
    if mail.now:
        return at
    return next_office_moment(at, bound.office_hour, bound.office_end)


def outbox_row(
    mail: Mail,
    *,
    process_id: int,
    process_key: str,
    title: str,
    year: int,
    bound: BoundProcess,
    at: datetime,
) -> dict[str, Any]:
    """The ``outbox`` row for ``mail`` queued at ``at``, due at ``due_at``."""
    send_after = due_at(mail, bound, at)
    return {
        "process_id": process_id,
        "idempotency_key": mail.key(process_id),
        "kind": mail.kind,
        "stage_id": mail.stage,
        "party": mail.party,
        "step": mail.step,
        "seq": mail.seq,
        "recipients": [{"name": c.name, "email": c.email} for c in mail.recipients],
        "context": context(
            mail,
            process_id=process_id,
            process_key=process_key,
            title=title,
            year=year,
            bound=bound,
            at=at,
        ),
        "thread_key": mail.thread_key(process_id),
        "status": "queued",
        "created_at": at,
        "send_after": send_after,
        "next_attempt_at": send_after,
        "attempts": 0,
        "message_id": None,
        "claimed_at": None,
        "sent_at": None,
        "last_error": None,
        "smtp_reply": None,
    }
