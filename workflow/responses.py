"""Respondent-side operations: what a personal link may see and do.

A personal link's token is looked up by its SHA-256 only. A token that is malformed, unknown,
revoked, of an older generation than its task (the one just re-issued works until the mail with
its successor is sent), or used after the later of the stage's close
and the party's (extended) deadline plus ``link_grace_days``
(``BoundProcess.link_expires_at``) raises ``LinkNotFound``, which says nothing more: the web
answers every one of them with the same plain 404, so a guesser learns nothing.

Everything a link can read or change is scoped to the ``(process, stage, party, step)`` of
its own task: no function here takes a party from anywhere but the resolved ``Target``, so
party A's link can never show party B's answers.

Answers are validated here, against the questionnaire definition, so the web and any other
caller enforce the same rules (required, known option values, scale range, text length, the
accepted file types). The writes go through ``Service`` so state, audit events and outbox
rows change in one transaction.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.answering import LinkChange
from workflow.definition import Contact, Question, Questionnaire, QuestionnaireStage
from workflow.errors import AftaleflowError, GuardRefused, NotFound
from workflow.links import make_token, token_hash
from workflow.service import Service, bound_for
from workflow.storage.models import (
    AnswerRow,
    DocumentRow,
    EventRow,
    LinkRow,
    OutboxRow,
    ProcessRow,
    StageRow,
    TaskRow,
)

#: How the upload store names a file (random, never the uploader's name) and its hash.
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|docx|odt)")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: A token is 32 bytes of HMAC in URL-safe base64 without padding: 43 characters.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

# What a link may do now (``Target.phase``).
OPEN = "open"  # answer or decide
LATE = "late"  # the deadline has passed; a late answer is taken and marked late
DEADLINE_PASSED = "deadline_passed"  # the deadline has passed and late answers are not taken
EXEMPT = "exempt"  # the secretariat exempted the party
DECIDED = "decided"  # the approval step is approved (final)
CLOSED = "closed"  # the stage is closed (or the process cancelled)

DECISIONS = ("approved", "rejected", "postponed")
#: Longest agenda item number and minutes address kept from the approval form.
AGENDA_ITEM_MAX = 20
URL_MAX = 500
DECISION_TEXT_MAX = 4000
#: Longest original file name kept (it is shown, never used as a path).
FILENAME_MAX = 200

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
#: ``[Content_Types].xml`` larger than this is not a Word document (and not read).
_ZIP_MEMBER_MAX = 1024 * 1024


class LinkNotFound(NotFound):
    """This link does not work (any more)."""


class AnswerInvalid(AftaleflowError):
    """Some answers are not valid; ``issues`` names each question and what is wrong."""

    def __init__(self, issues: Mapping[str, Issue]) -> None:
        self.issues = dict(issues)
        super().__init__(
            "invalid answers: " + ", ".join(f"{k}: {v.code}" for k, v in issues.items())
        )


@dataclass(frozen=True)
class Issue:
    """One problem with one field: a message code the web translates, and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What a personal link points at, resolved at one moment."""

    process_id: int
    process_key: str
    title: str
    stage_id: str
    stage_name: str
    party: str
    party_name: str
    step: str
    kind: str  # questionnaire | approval
    generation: int
    task_status: str
    opened_at: datetime | None
    decision: Mapping[str, Any] | None
    deadline: date | None
    overdue_at: datetime | None
    closes_at: datetime | None
    accept_late: bool
    questionnaire: Questionnaire | None
    secretariat: Contact
    phase: str
    #: The agreement version up for approval (an approval link): version, filename, sha256.
    agreement: Mapping[str, Any] | None = None
    #: A logged-in secretariat user acting through the party's link (the demo's "Åbn
    #: svarlinket"), named in the audit log with the link.
    via: str = ""

    @property
    def actor(self) -> str:
        """Who acted, as the audit log names it: the party through its link, or the
        logged-in user through it ("demo via link:hjorring/socialudvalg")."""
        link = f"link:{self.party}" + (f"/{self.step}" if self.step else "")
        return f"{self.via} via {link}" if self.via else link

    @property
    def can_answer(self) -> bool:
        return self.phase in (OPEN, LATE)


@dataclass(frozen=True)
class Version:
    version: int
    late: bool
    submitted_at: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class AnswerState:
    """A party's answers: the submitted versions (oldest first) and its draft, if any."""

    versions: list[Version]
    draft: Mapping[str, Any] | None
    draft_saved_at: datetime | None

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def current(self) -> Mapping[str, Any]:
        """What the form shows: the draft if there is one, else the newest version."""
        if self.draft is not None:
            return self.draft
        return self.latest.data if self.latest else {}


@dataclass(frozen=True)
class Decision:
    """A council's decision as typed into the approval form, validated."""

    meeting_date: date
    agenda_item: str
    decision: str
    decision_text: str
    minutes_url: str = ""
    minutes_file: Mapping[str, Any] | None = None


# ---------------------------------------------------------------------- validation (pure)


def clean_text(value: object) -> str:
    """Typed text as stored: CRLF → LF, and no control characters but LF and TAB
    (PostgreSQL's JSON refuses NUL; the rest only hides things from a reader)."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


def clean_filename(name: str) -> str:
    """The original file name, for showing only: no folders, no control characters."""
    base = re.split(r"[\\/]", clean_text(name).replace("\n", " ").replace("\t", " "))[-1]
    return base.strip()[:FILENAME_MAX] or "fil"


def validate_answers(
    questionnaire: Questionnaire, raw: Mapping[str, Any], *, complete: bool
) -> tuple[dict[str, Any], dict[str, Issue]]:
    """The answers to store and the problems found, per question id.

    ``raw`` holds what a form gave: a string (single choice, text, scale), a list of strings
    (multiple choice) or a stored-file mapping (file), keyed by question id. ``complete``
    also checks required questions (a submission); a draft is checked for everything else,
    so no value that a submission would refuse is ever stored.
    """
    data: dict[str, Any] = {}
    issues: dict[str, Issue] = {}
    for q in questionnaire.questions:
        value, issue = _validate_one(q, raw.get(q.id))
        if issue is not None:
            issues[q.id] = issue
        elif value is None:
            if complete and q.required:
                issues[q.id] = Issue(
                    "required_choice" if q.options or q.type == "scale" else "required"
                )
        else:
            data[q.id] = value
    return data, issues


def _validate_one(q: Question, value: Any) -> tuple[Any, Issue | None]:
    """(the clean value or None when unanswered, a problem or None)."""
    if q.type == "single_choice":
        text = str(value or "").strip()
        if not text:
            return None, None
        if text not in {o.value for o in q.options}:
            return None, Issue("invalid_option")
        return text, None
    if q.type == "multiple_choice":
        chosen = [str(v).strip() for v in (value or []) if str(v).strip()]
        if not chosen:
            return None, None
        allowed = [o.value for o in q.options]
        if any(v not in allowed for v in chosen):
            return None, Issue("invalid_option")
        return [v for v in allowed if v in chosen], None  # definition order, no duplicates
    if q.type == "text":
        text = clean_text(value)
        if not text.strip():
            return None, None
        if len(text) > q.max_length:
            return None, Issue("too_long", {"max": q.max_length, "length": len(text)})
        return text, None
    if q.type == "scale":
        text = str(value if value is not None else "").strip()
        if not text:
            return None, None
        try:
            number = int(text)
        except ValueError:
            return None, Issue("not_a_number", {"min": q.min, "max": q.max})
        if not q.min <= number <= q.max:
            return None, Issue("out_of_range", {"min": q.min, "max": q.max})
        return number, None
    # file: a mapping made by the upload store; never trust more than its shape
    if not value:
        return None, None
    if not isinstance(value, Mapping):
        return None, Issue("invalid_file")
    try:
        size = int(value["size"])
        kind = str(value["kind"])
        stored_as = str(value["stored_as"])
        sha256 = str(value["sha256"])
        stored = {
            "filename": clean_filename(str(value["filename"])),
            "stored_as": stored_as,
            "sha256": sha256,
            "size": size,
            "kind": kind,
        }
    except (KeyError, TypeError, ValueError):
        return None, Issue("invalid_file")
    if not STORED_NAME.fullmatch(stored_as) or not SHA256.fullmatch(sha256):
        return None, Issue("invalid_file")
    if kind not in q.accept:
        return None, Issue("file_type", {"accept": list(q.accept)})
    if size > q.max_mb * 1024 * 1024:
        return None, Issue("file_too_large", {"max_mb": q.max_mb})
    return stored, None


def validate_decision(
    raw: Mapping[str, Any], minutes_file: Mapping[str, Any] | None, *, today: date
) -> tuple[Decision | None, dict[str, Issue]]:
    """The approval form: meeting date (not in the future), agenda item, decision, decision
    text, and the minutes as an uploaded file and/or a web address (both optional)."""
    issues: dict[str, Issue] = {}
    meeting: date | None = None
    text = str(raw.get("meeting_date") or "").strip()
    if not text:
        issues["meeting_date"] = Issue("required")
    else:
        try:
            meeting = date.fromisoformat(text)
        except ValueError:
            issues["meeting_date"] = Issue("not_a_date")
        else:
            if meeting > today:
                issues["meeting_date"] = Issue("date_in_future")
    agenda = clean_text(raw.get("agenda_item")).strip()
    if not agenda:
        issues["agenda_item"] = Issue("required")
    elif len(agenda) > AGENDA_ITEM_MAX:
        issues["agenda_item"] = Issue("too_long", {"max": AGENDA_ITEM_MAX, "length": len(agenda)})
    decision = str(raw.get("decision") or "").strip()
    if not decision:
        issues["decision"] = Issue("required_choice")
    elif decision not in DECISIONS:
        issues["decision"] = Issue("invalid_option")
    decision_text = clean_text(raw.get("decision_text")).strip()
    if not decision_text:
        issues["decision_text"] = Issue("required")
    elif len(decision_text) > DECISION_TEXT_MAX:
        issues["decision_text"] = Issue(
            "too_long", {"max": DECISION_TEXT_MAX, "length": len(decision_text)}
        )
    url = clean_text(raw.get("minutes_url")).strip()
    if url and (
        not re.fullmatch(r"https?://[^\s<>\"']+", url, flags=re.IGNORECASE) or len(url) > URL_MAX
    ):
        issues["minutes_url"] = Issue("not_a_url")
    if issues or meeting is None:
        return None, issues
    return Decision(meeting, agenda, decision, decision_text, url, minutes_file), issues


def answer_texts(questionnaire: Questionnaire, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every question with its answer as plain text (option labels, not values): for the
    receipt mail and the confirmation page. Unanswered questions have an empty answer."""
    out: list[dict[str, str]] = []
    for q in questionnaire.questions:
        out.append({"question": q.label, "answer": answer_text(q, data.get(q.id))})
    return out


def answer_text(q: Question, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    labels = {o.value: o.label for o in q.options}
    if q.type == "single_choice":
        return labels.get(str(value), str(value))
    if q.type == "multiple_choice":
        return "; ".join(labels.get(str(v), str(v)) for v in value)
    if q.type == "scale":
        ends = [
            f"{q.min} = {q.min_label}" if q.min_label else "",
            f"{q.max} = {q.max_label}" if q.max_label else "",
        ]
        ends = [e for e in ends if e]
        return f"{value}" + (f" ({', '.join(ends)})" if ends else f" ({q.min}–{q.max})")
    if q.type == "file" and isinstance(value, Mapping):
        return str(value.get("filename") or "")
    return str(value)


def file_kind(fp: IO[bytes]) -> str | None:
    """The document type of a file by its content, never by its name: ``pdf`` (starts with
    ``%PDF-``), ``docx`` (a zip whose ``[Content_Types].xml`` names a Word main document),
    ``odt`` (a zip whose ``mimetype`` entry is OpenDocument text), or None."""
    fp.seek(0)
    head = fp.read(5)
    fp.seek(0)
    if head == b"%PDF-":
        return "pdf"
    if head[:4] != b"PK\x03\x04":
        return None
    try:
        with zipfile.ZipFile(fp) as z:
            names = set(z.namelist())
            if (
                "mimetype" in names
                and z.getinfo("mimetype").file_size <= 200
                and z.read("mimetype").strip() == ODT_MIMETYPE
            ):
                return "odt"
            if (
                "[Content_Types].xml" in names
                and z.getinfo("[Content_Types].xml").file_size <= _ZIP_MEMBER_MAX
                and DOCX_MAIN in z.read("[Content_Types].xml")
            ):
                return "docx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        return None
    finally:
        fp.seek(0)
    return None


# ---------------------------------------------------------------------- the link's operations


class Responses:
    """What a respondent does through a personal link, on top of the ``Service``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.db = service.db

    def resolve(self, token: str, at: datetime, *, via: str = "") -> Target:
        """The task a token belongs to, or ``LinkNotFound`` (forged, revoked, re-issued,
        expired) with no detail. ``via``: the logged-in user acting through the link."""
        if not TOKEN_PATTERN.fullmatch(token or ""):
            raise LinkNotFound()
        with self.db.sessions() as s:
            link = s.scalar(select(LinkRow).where(LinkRow.token_hash == token_hash(token)))
            if link is None or link.revoked_at is not None:
                raise LinkNotFound()
            task = s.scalar(
                select(TaskRow).where(
                    TaskRow.process_id == link.process_id,
                    TaskRow.stage_id == link.stage_id,
                    TaskRow.party == link.party,
                    TaskRow.step == link.step,
                )
            )
            if task is None or not _current(s, task, link):
                raise LinkNotFound()
            row = s.get(ProcessRow, link.process_id)
            stage = s.scalar(
                select(StageRow).where(
                    StageRow.process_id == link.process_id, StageRow.stage_id == link.stage_id
                )
            )
            if row is None or stage is None:
                raise LinkNotFound()
            expected = make_token(
                self.service.link_secret,
                row.id,
                task.stage_id,
                task.party,
                task.step,
                link.generation,
            )
            if not hmac.compare_digest(expected, token):
                raise LinkNotFound()  # a row that was re-pointed in the database
            bound = bound_for(row)
            bst = bound.stage(task.stage_id)
            expires = bound.link_expires_at(bst, task.deadline_override or bst.deadline)
            if expires is not None and at > expires:
                raise LinkNotFound()
            definition = bst.definition
            questionnaire = None
            accept_late = False
            if isinstance(definition, QuestionnaireStage):
                questionnaire = bound.bundle.questionnaires[definition.questionnaire]
                accept_late = definition.accept_late
            deadline = task.deadline_override or bst.deadline
            overdue_at = bound.overdue_at(deadline) if deadline else None
            party = bound.bundle.parties.get(task.party)
            agreement = _agreement_up(s, row) if task.kind == "approval" else None
            return Target(
                process_id=row.id,
                process_key=row.key,
                title=row.title,
                stage_id=task.stage_id,
                stage_name=definition.name,
                party=task.party,
                party_name=party.name,
                step=task.step,
                kind=task.kind,
                generation=link.generation,
                task_status=task.status,
                opened_at=task.opened_at,
                decision=dict(task.decision) if task.decision else None,
                deadline=deadline,
                overdue_at=overdue_at,
                closes_at=bst.closes_at,
                accept_late=accept_late,
                questionnaire=questionnaire,
                secretariat=bound.bundle.parties.secretariat,
                phase=_phase(
                    row.status, stage.status, task, at, bst.closes_at, overdue_at, accept_late
                ),
                agreement=agreement,
                via=via,
            )

    def open(self, token: str, at: datetime, *, via: str = "") -> Target:
        """Resolve and, the first time, record that the link was opened."""
        target = self.resolve(token, at, via=via)
        if target.opened_at is None and target.phase != CLOSED:
            self.service.open_link(
                target.process_key,
                target.stage_id,
                target.party,
                target.step,
                at=at,
                actor=target.actor,
            )
            target = self.resolve(token, at, via=via)
        return target

    def answers(self, target: Target) -> AnswerState:
        """The link's own party's answers (never another party's)."""
        with self.db.sessions() as s:
            rows = list(
                s.scalars(
                    select(AnswerRow)
                    .where(
                        AnswerRow.process_id == target.process_id,
                        AnswerRow.stage_id == target.stage_id,
                        AnswerRow.party == target.party,
                    )
                    .order_by(AnswerRow.version)
                )
            )
        draft = next((r for r in rows if r.state == "draft"), None)
        versions = [
            Version(r.version, r.late, r.submitted_at or r.created_at, dict(r.data))
            for r in rows
            if r.state == "submitted"
        ]
        return AnswerState(
            versions, dict(draft.data) if draft else None, draft.created_at if draft else None
        )

    def save_draft(self, target: Target, raw: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        """Keep what was typed so far; ``AnswerInvalid`` for values a submission would refuse
        too (a required question may be empty). Returns the stored answers."""
        questionnaire = _questionnaire(target)
        data, issues = validate_answers(questionnaire, raw, complete=False)
        if issues:
            raise AnswerInvalid(issues)
        self.service.save_draft(
            target.process_key, target.stage_id, target.party, data, at=at, actor=target.actor
        )
        return data

    def submit(self, target: Target, raw: Mapping[str, Any], at: datetime) -> Version:
        """Validate and submit a new version; a receipt mail is queued with it.

        ``AnswerInvalid`` names each problem; ``GuardRefused`` if the stage closed (or late
        answers are not taken) meanwhile.
        """
        questionnaire = _questionnaire(target)
        data, issues = validate_answers(questionnaire, raw, complete=True)
        if issues:
            raise AnswerInvalid(issues)
        version = self.service.submit_answer(
            target.process_key,
            target.stage_id,
            target.party,
            data,
            at=at,
            actor=target.actor,
            receipt={
                "answers": answer_texts(questionnaire, data),
                "questionnaire_title": questionnaire.title,
            },
        )
        state = self.answers(target)
        latest = state.latest
        assert latest is not None and latest.version == version
        return latest

    def agreement_document(self, target: Target, version: int) -> DocumentRow:
        """A version of the agreement an approval link may download: one that has been put up
        for approval (the mail names it), never a draft the secretariat has not sent."""
        if target.kind != "approval":
            raise LinkNotFound()
        with self.db.sessions() as s:
            doc = s.scalar(
                select(DocumentRow).where(
                    DocumentRow.process_id == target.process_id, DocumentRow.version == version
                )
            )
            put_up = [
                e.data.get("version")
                for e in s.scalars(
                    select(EventRow).where(
                        EventRow.process_id == target.process_id,
                        EventRow.kind == "document_put_up_for_approval",
                    )
                )
            ]
            if doc is None or version not in put_up:
                raise LinkNotFound()
            s.expunge(doc)
            return doc

    def decide(self, target: Target, decision: Decision, at: datetime) -> None:
        """Record a council's decision through its link (``Service.record_approval``: a
        rejection blocks the process and tells the secretariat)."""
        if target.kind != "approval":
            raise GuardRefused(
                "Linket er ikke til en godkendelse.", en="This link is not for an approval."
            )
        minutes = decision.minutes_url
        if decision.minutes_file:
            self.service.record_upload(
                target.process_key,
                target.stage_id,
                target.party,
                target.step,
                decision.minutes_file,
                at=at,
                actor=target.actor,
            )
            name = str(decision.minutes_file["filename"])
            minutes = f"{name} · {minutes}" if minutes else name
        self.service.record_approval(
            target.process_key,
            target.stage_id,
            target.party,
            target.step,
            decision=decision.decision,
            meeting_date=decision.meeting_date,
            agenda_item=decision.agenda_item,
            decision_text=decision.decision_text,
            minutes=minutes,
            minutes_file=decision.minutes_file,
            at=at,
            actor=target.actor,
        )

    def revoke(
        self,
        key: str,
        stage_id: str,
        party: str,
        step: str = "",
        *,
        at: datetime,
        actor: str,
        reason: str,
        reissue: bool = True,
        now: bool = False,
    ) -> LinkChange:
        """Stop a party's link (and by default mail a new one, ``now`` or at office hours)."""
        return self.service.revoke_link(
            key, stage_id, party, step, at=at, actor=actor, reason=reason, reissue=reissue, now=now
        )

    def receipt_due(self, target: Target, version: int) -> datetime | None:
        """When the receipt for answer ``version`` is due, if it is still waiting to be sent
        (it waits for office hours); None once it is sent or when none was queued."""
        with self.db.sessions() as s:
            row = s.scalar(
                select(OutboxRow).where(
                    OutboxRow.process_id == target.process_id,
                    OutboxRow.kind == "receipt",
                    OutboxRow.stage_id == target.stage_id,
                    OutboxRow.party == target.party,
                    OutboxRow.seq == version,
                )
            )
            return row.next_attempt_at if row is not None and row.status == "queued" else None


def _current(s: Session, task: TaskRow, link: LinkRow) -> bool:
    """Whether ``link`` is the task's working link: of its generation, or of the one before
    while the mail that carries the re-issued link has not been sent yet (a plain revoke marks
    that older link revoked, so it never gets here)."""
    if link.generation == task.link_generation:
        return True
    if link.generation != task.link_generation - 1:
        return False
    status = s.scalar(
        select(OutboxRow.status).where(
            OutboxRow.process_id == task.process_id,
            OutboxRow.kind.in_(("invitation", "approval_request")),
            OutboxRow.stage_id == task.stage_id,
            OutboxRow.party == task.party,
            OutboxRow.step == task.step,
            OutboxRow.seq == link.generation,
        )
    )
    return status is not None and status != "sent"


def _agreement_up(s: Session, row: ProcessRow) -> dict[str, Any] | None:
    """The version up for approval, as an approval link shows and offers it."""
    if not row.approval_document_hash:
        return None
    doc = s.scalar(
        select(DocumentRow)
        .where(DocumentRow.process_id == row.id, DocumentRow.sha256 == row.approval_document_hash)
        .order_by(DocumentRow.version.desc())
    )
    if doc is None:
        return None
    return {"version": doc.version, "filename": doc.filename, "sha256": doc.sha256}


def _questionnaire(target: Target) -> Questionnaire:
    if target.questionnaire is None:
        raise GuardRefused(
            "Linket er ikke til et spørgeskema.", en="This link is not for a questionnaire."
        )
    return target.questionnaire


def _phase(
    process_status: str,
    stage_status: str,
    task: TaskRow,
    at: datetime,
    closes_at: datetime | None,
    overdue_at: datetime | None,
    accept_late: bool,
) -> str:
    if process_status == "cancelled" or (closes_at is not None and at > closes_at):
        return CLOSED
    if task.kind == "approval":
        if stage_status not in ("open", "blocked"):
            return CLOSED
        if task.status in ("approved", "exempt"):
            return DECIDED
        return OPEN
    if stage_status != "open":
        return CLOSED
    if task.status == "exempt":
        return EXEMPT
    if overdue_at is not None and at > overdue_at:
        return LATE if accept_late else DEADLINE_PASSED
    return OPEN
