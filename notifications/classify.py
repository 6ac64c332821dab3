"""What a received mail is: a bounce, an auto-reply, one of our own, other automatic mail, or a
reply from a person. Pure: bytes in, a frozen ``Reading`` out (no database, no clock).

The order is the loop guard: a standard delivery report first (our own relay may write it
with a Message-ID on our domain), then our own mail (it is never a reply), then auto-replies (RFC 3834
``Auto-Submitted``, ``X-Autoreply``, Exchange's ``X-Auto-Response-Suppress``, and the subjects
Danish and English Outlook uses), then the non-standard bounces ``flufl.bounce`` knows (from
a mail server only), then any other mail that says it is automatic. Only what is
left is a reply; a reply's attachments are checked by their content (PDF, DOCX, ODT) and size.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any, cast

import nh3
from flufl.bounce import all_failures

from workflow.file_types import file_kind
from workflow.validation import clean_filename

log = logging.getLogger("aftaleflow.inbox")

#: Attachment types kept from a reply (decided by content, never by name).
ACCEPTED_KINDS = ("pdf", "docx", "odt")
#: The largest attachment kept (bytes); bigger ones are listed as refused.
MAX_ATTACHMENT = 20 * 1024 * 1024
#: The longest text kept for showing and searching (characters).
MAX_TEXT = 100_000

#: Subjects of out-of-office replies (Outlook in Danish and English, and common variants).
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(automatisk svar|autosvar|fraværende|ikke til stede|out of office|"
    r"automatic reply|auto(matic)?[- ]?reply|autoreply)\b",
    re.IGNORECASE,
)
#: Subjects of delivery failures that come without a machine-readable report.
BOUNCE_SUBJECT = re.compile(
    r"^\s*(kan ikke leveres|ikke leveret|undeliverable|undelivered mail|"
    r"delivery status notification \(failure\)|mail delivery failed|returned mail|"
    r"failure notice)\b",
    re.IGNORECASE,
)
_MSGID = re.compile(r"<[^<>\s]+>")
_STATUS_CODE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Part:
    """One attachment of a received mail, checked: ``kind`` is None when it was refused."""

    filename: str
    content: bytes = field(repr=False)
    size: int
    kind: str | None
    refused: str = ""
    """``type`` or ``size`` when the part is not kept."""


@dataclass(frozen=True)
class Failure:
    """One recipient a delivery report says could not be reached."""

    address: str
    status: str
    reason: str
    permanent: bool


@dataclass(frozen=True)
class Reading:
    """What a received mail is and says, in plain values."""

    classification: str  # reply | auto_reply | bounce | automatic | own
    message_id: str
    from_name: str
    from_address: str
    subject: str
    sent_at: datetime | None
    sha256: str
    size: int
    text: str
    references: tuple[str, ...]
    """Message-IDs this mail refers to, the most direct first (In-Reply-To, then References
    from the newest, then those of a bounced original)."""
    failures: tuple[Failure, ...] = ()
    signals: tuple[str, ...] = ()
    """Why it was classified so (the headers or the subject that decided)."""
    parts: tuple[Part, ...] = ()

    def details(self) -> dict[str, Any]:
        """The JSON-able facts kept with the stored mail (attachments without their bytes)."""
        return {
            "signals": list(self.signals),
            "references": list(self.references),
            "failures": [
                {
                    "address": f.address,
                    "status": f.status,
                    "reason": f.reason,
                    "permanent": f.permanent,
                }
                for f in self.failures
            ],
        }


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))


def header(msg: Message, name: str) -> str:
    """A header as one line of text; an undecodable header gives its raw text, never an error."""
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError, AttributeError):
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "")
    return " ".join(str(value or "").split())


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


def read(raw: bytes, *, own_domain: str) -> Reading:
    """Classify ``raw`` (a whole RFC 5322 message) and pull out what is kept of it."""
    msg = parse(raw)
    from_name, from_address = parseaddr(header(msg, "From"))
    subject = header(msg, "Subject")
    own_ids = message_ids(header(msg, "In-Reply-To"))
    refs = list(reversed(message_ids(header(msg, "References"))))
    classification, signals = _classify(msg, raw, subject, own_domain=own_domain)
    failures: tuple[Failure, ...] = ()
    parts: tuple[Part, ...] = ()
    if classification == "bounce":
        failures = tuple(_failures(raw, msg))
        refs += _original_ids(msg)
    elif classification == "reply":
        parts = tuple(_parts(msg))
    references = tuple(dict.fromkeys(own_ids + refs))
    return Reading(
        classification=classification,
        message_id=(message_ids(header(msg, "Message-ID")) or [""])[0][:300],
        from_name=from_name[:200],
        from_address=from_address.lower()[:320],
        subject=subject,
        sent_at=_date(header(msg, "Date")),
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        text=body_text(msg)[:MAX_TEXT],
        references=references,
        failures=failures,
        signals=tuple(signals),
        parts=parts,
    )


def read_safely(raw: bytes, *, own_domain: str) -> Reading:
    """``read``, or for a message the email package cannot take apart, a Reading that keeps
    it for the secretariat to look at (the reader must never stop on one bad message)."""
    try:
        return read(raw, own_domain=own_domain)
    except Exception as e:
        log.warning(
            "a received mail could not be read: %s", e, extra={"action": "inbox_unreadable"}
        )
        return Reading(
            classification="automatic",
            message_id="",
            from_name="",
            from_address="",
            subject="",
            sent_at=None,
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            text="",
            references=(),
            signals=("unreadable",),
        )


def _classify(
    msg: EmailMessage, raw: bytes, subject: str, *, own_domain: str
) -> tuple[str, list[str]]:
    if msg.get_content_type() == "multipart/report" and (
        str(msg.get_param("report-type", "")).lower() == "delivery-status"
    ):
        return "bounce", ["multipart/report"]
    domain = own_domain.lower().strip()
    ours = bool(domain) and header(msg, "Message-ID").lower().endswith(f"@{domain}>")
    if ours or msg.get("X-Aftaleflow-Key") is not None:
        return "own", ["message-id" if ours else "x-aftaleflow-key"]
    auto_submitted = header(msg, "Auto-Submitted").lower()
    from_local = parseaddr(header(msg, "From"))[1].split("@")[0].lower()
    if BOUNCE_SUBJECT.match(subject) and (
        from_local in ("mailer-daemon", "postmaster") or auto_submitted not in ("", "no")
    ):
        return "bounce", ["subject"]
    signals: list[str] = []
    if auto_submitted.startswith("auto-replied"):
        signals.append("auto-submitted")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(name) is not None:
            signals.append(name.lower())
    suppress = header(msg, "X-Auto-Response-Suppress").lower()
    if suppress and any(w in suppress for w in ("all", "oof", "autoreply")):
        signals.append("x-auto-response-suppress")
    if AUTO_REPLY_SUBJECT.match(subject):
        signals.append("subject")
    if header(msg, "Precedence").lower() == "auto_reply":
        signals.append("precedence")
    if signals:
        return "auto_reply", signals
    if _scan_bounce(msg, raw):
        return "bounce", ["flufl.bounce"]
    if auto_submitted not in ("", "no"):
        return "automatic", ["auto-submitted"]
    if header(msg, "Precedence").lower() in ("bulk", "list", "junk"):
        return "automatic", ["precedence"]
    return "reply", []


def _scan_bounce(msg: EmailMessage, raw: bytes) -> bool:
    """Only a mail from a mail server is scanned (the heuristics would read too much into a
    person's mail that quotes an error)."""
    from_local = parseaddr(header(msg, "From"))[1].split("@")[0].lower()
    if from_local not in ("mailer-daemon", "postmaster", "mail-daemon"):
        return False
    temporary, permanent = _flufl(raw)
    return bool(permanent or temporary)


def _flufl(raw: bytes) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """(temporary, permanent) failures as ``flufl.bounce`` finds them."""
    try:
        return all_failures(email.message_from_bytes(raw))  # the compat32 model it expects
    except Exception as e:  # a detector stumbling on a malformed mail must not stop the reader
        log.warning("bounce detection failed: %s", e, extra={"action": "bounce_scan_failed"})
        return frozenset(), frozenset()


def _failures(raw: bytes, msg: EmailMessage) -> Iterator[Failure]:
    """The failed recipients: from the RFC 3464 fields where there are some (with status and
    diagnostic), else the addresses ``flufl.bounce`` finds in the text."""
    seen: set[str] = set()
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            action = header(block, "Action").lower()
            recipient = header(block, "Final-Recipient") or header(block, "Original-Recipient")
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            if not address or action not in ("failed", "delayed") or address in seen:
                continue
            seen.add(address)
            status = header(block, "Status")
            reason = header(block, "Diagnostic-Code").split(";", 1)[-1].strip()
            yield Failure(address, status, reason or status, action == "failed")
    if seen:
        return
    temporary, permanent = _flufl(raw)
    reason = _reason_in_text(msg)
    for found, is_permanent in [(a, True) for a in permanent] + [(a, False) for a in temporary]:
        address = found.decode("ascii", "replace").lower()
        if address not in seen:
            seen.add(address)
            code = _STATUS_CODE.search(reason)
            yield Failure(address, code.group(1) if code else "", reason, is_permanent)


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [email.message_from_string(b) for b in blocks if b.strip()]


def _reason_in_text(msg: EmailMessage) -> str:
    for line in body_text(msg).splitlines():
        if _STATUS_CODE.search(line) or re.search(r"\b5\d\d\b", line):
            return line.strip()[:500]
    return ""


def _original_ids(msg: EmailMessage) -> list[str]:
    """The Message-ID of the mail that bounced, from the returned headers or message."""
    found: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            for m in inner if isinstance(inner, list) else [inner]:
                if isinstance(m, Message):
                    found += message_ids(header(m, "Message-ID"))
        elif ctype == "text/rfc822-headers":
            content = part.get_payload(decode=True) or b""
            found += message_ids(header(parse(bytes(content)), "Message-ID"))
    return found


def _parts(msg: EmailMessage) -> Iterator[Part]:
    for part in msg.iter_attachments():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        name = clean_filename(part.get_filename() or "")
        if len(content) > MAX_ATTACHMENT:
            yield Part(name, b"", len(content), None, "size")
            continue
        kind = file_kind(io.BytesIO(content))
        if kind in ACCEPTED_KINDS:
            yield Part(name, content, len(content), kind)
        else:
            yield Part(name, b"", len(content), None, "type")


def body_text(msg: EmailMessage) -> str:
    """The mail's text: its plain part, or its HTML part reduced to text (never rendered)."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError):
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return content


def html_to_text(content: str) -> str:
    spaced = re.sub(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", "\n", content)
    return html.unescape(nh3.clean(spaced, tags=set())).strip()


def _date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
