"""A sent mail as it was sent, and one party's mails in a process as one thread.

The sender keeps the very bytes it handed to the relay on the outbox row (``sent_message``,
written by the UPDATE that marks the row sent); this page parses them with the standard
``email`` package: the headers, the text part, the HTML part and the attachments, each
downloadable, and the whole message as ``.eml``. The HTML part is shown the way the Indbakke
shows a received one (``inbox.sanitised_html``: a few formatting tags, never a script, an
event attribute or an image); a mail sent before the message was kept shows what the row says.

The thread (``/proces/<key>/part/<party>/mails``) lists, oldest first, every mail the outbox
holds for the party in the process and every mail received from it (matched to it), each
linking to its own page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import cast

from flask import abort, render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import defer
from werkzeug.wrappers import Response

from web.dashboard import reads
from web.dashboard.blueprint import bp
from web.dashboard.inbox import as_download, sanitised_html
from web.state import state
from workflow.storage.models import InboundMailRow, OutboxRow, ProcessRow
from workflow.timeline import bound_for

#: The headers the mail page shows, in this order (the others are in the ``.eml``).
SHOWN_HEADERS = (
    "From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
)  # fmt: skip
#: Enough of a kept message to read its headers (the thread's subjects) without its body.
HEAD_BYTES = 8192


@dataclass(frozen=True)
class SentFile:
    number: int
    filename: str
    media_type: str
    size: int


@dataclass(frozen=True)
class SentMessage:
    headers: list[tuple[str, str]]
    text: str
    html: Markup | None
    files: list[SentFile]


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


def _text(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain",))
        content = part.get_content() if part is not None else ""
    except (KeyError, LookupError, ValueError, AssertionError):
        return ""
    return content if isinstance(content, str) else ""


def _files(msg: EmailMessage) -> list[EmailMessage]:
    return [cast(EmailMessage, p) for p in msg.iter_attachments()]


def sent_message(raw: bytes) -> SentMessage:
    """The kept message, read for the page."""
    msg = parse(raw)
    headers = [(name, str(value)) for name in SHOWN_HEADERS for value in msg.get_all(name) or []]
    files = [
        SentFile(
            i,
            p.get_filename() or f"bilag-{i}",
            p.get_content_type(),
            len(p.get_payload(decode=True) or b""),
        )
        for i, p in enumerate(_files(msg), 1)
    ]
    return SentMessage(headers, _text(msg), sanitised_html(raw), files)


def _row_or_404(mail_id: int, *, with_message: bool = False) -> tuple[OutboxRow, bytes]:
    with state().db.sessions() as s:
        row = s.get(OutboxRow, mail_id)
        if row is None:
            abort(404)
        raw = bytes(row.sent_message or b"") if with_message else b""
        s.expunge(row)
    return row, raw


@bp.get("/udbakke/<int:mail_id>")
def sent_mail(mail_id: int) -> str:
    row, raw = _row_or_404(mail_id, with_message=True)
    key = party_name = ""
    if row.process_id is not None:
        with state().db.sessions() as s:
            process = s.get(ProcessRow, row.process_id)
            if process is not None:
                key = process.key
                party_name = reads.party_names(bound_for(process)).get(row.party, "")
    return render_template(
        "dashboard/sent_mail.html",
        m=row,
        key=key,
        party_name=party_name or row.party,
        sent=sent_message(raw) if raw else None,
    )


@bp.get("/udbakke/<int:mail_id>/bilag/<int:number>")
def sent_attachment(mail_id: int, number: int) -> Response:
    _, raw = _row_or_404(mail_id, with_message=True)
    files = _files(parse(raw)) if raw else []
    if not 1 <= number <= len(files):
        abort(404)
    part = files[number - 1]
    response = Response(part.get_payload(decode=True) or b"", mimetype=part.get_content_type())
    return as_download(response, part.get_filename() or f"bilag-{number}")


@bp.get("/udbakke/<int:mail_id>/original.eml")
def sent_original(mail_id: int) -> Response:
    """The message exactly as it was handed to the relay."""
    row, raw = _row_or_404(mail_id, with_message=True)
    if not raw:
        abort(404)
    response = Response(raw, mimetype="message/rfc822")
    response.headers.set("Content-Disposition", "attachment", filename=f"udbakke-{row.id}.eml")
    return response


# ---------------------------------------------------------------------- the thread


@dataclass(frozen=True)
class ThreadLine:
    at: datetime
    outgoing: bool
    subject: str
    kind: str  # the outbox kind, or the inbound classification
    status: str
    url: str
    message_id: str


def _subject(head: bytes | None) -> str:
    if not head:
        return ""
    msg = BytesHeaderParser(policy=policy.default).parsebytes(head.split(b"\r\n\r\n", 1)[0])
    return str(msg.get("Subject") or "")


def thread(process: ProcessRow, party: str) -> list[ThreadLine]:
    """Every mail to and from ``party`` in ``process``, oldest first."""
    with state().db.sessions() as s:
        out_rows = s.execute(
            select(OutboxRow, func.substr(OutboxRow.sent_message, 1, HEAD_BYTES))
            .where(OutboxRow.process_id == process.id, OutboxRow.party == party)
            .order_by(OutboxRow.id)
        ).tuples()
        lines = [
            ThreadLine(
                m.sent_at or m.send_after,
                True,
                _subject(head),
                m.kind,
                m.status,
                url_for("dashboard.sent_mail", mail_id=m.id),
                m.message_id or "",
            )
            for m, head in out_rows
        ]
        received = s.scalars(
            select(InboundMailRow)
            .options(defer(InboundMailRow.raw), defer(InboundMailRow.body_text))
            .where(InboundMailRow.process_id == process.id, InboundMailRow.party == party)
        )
        lines += [
            ThreadLine(
                r.received_at,
                False,
                r.subject,
                r.classification,
                r.status,
                url_for("dashboard.inbox_mail", mail_id=r.id),
                r.message_id,
            )
            for r in received
        ]
    return sorted(lines, key=lambda line: (line.at, not line.outgoing))


@bp.get("/proces/<key>/part/<party>/mails")
def party_thread(key: str, party: str) -> str:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        who = reads.party_or_404(bound, party)
        s.expunge(row)
    return render_template(
        "dashboard/party_thread.html", row=row, party=who, lines=thread(row, party)
    )
