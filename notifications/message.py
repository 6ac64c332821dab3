"""RenderedMail + addresses → ``email.message.EmailMessage``. Pure (``make_msgid`` aside).

Every header value passes through ``one_line`` and addresses through ``headerregistry.Address``,
so a name or subject with CR/LF can never start a header of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from notifications.outgoing import Recipient, RenderedMail
from notifications.render import one_line
from workflow.calendar import to_local


class InvalidAddress(ValueError):
    """An e-mail address that cannot be put in a header (or on the SMTP envelope)."""


def new_message_id(domain: str) -> str:
    """A globally unique ``<…@domain>``; assigned once per outbox row and kept on resends."""
    return make_msgid(domain=one_line(domain).replace(" ", "") or None)


def bare_address(value: str) -> str:
    """``noreply@x.example`` from ``Name <noreply@x.example>`` or the address itself."""
    return parseaddr(one_line(value))[1] or one_line(value)


def address(name: str, email: str) -> Address:
    """A header-safe ``Address``; raises ``InvalidAddress`` for anything but one plain address."""
    addr = one_line(email)
    if not addr or any(c in addr for c in '<>,;"()[]\\ ') or addr.count("@") != 1:
        raise InvalidAddress(f"not a usable e-mail address: {email!r}")
    try:
        return Address(display_name=one_line(name), addr_spec=addr)
    except (ValueError, TypeError) as exc:  # headerregistry's parse errors are ValueErrors
        raise InvalidAddress(f"not a usable e-mail address: {email!r} ({exc})") from exc


def build_message(
    mail: RenderedMail,
    *,
    to: Sequence[Recipient],
    secretariat: Recipient,
    mail_from: str,
    message_id: str,
    at: datetime,
    in_reply_to: str | None = None,
    key: str = "",
) -> EmailMessage:
    """A multipart/alternative (text, HTML) message, with any attachments around it."""
    if not to:
        raise InvalidAddress("a mail needs at least one recipient")
    msg = EmailMessage()
    sender_name = secretariat.name or parseaddr(mail_from)[0]
    msg["From"] = address(sender_name, bare_address(mail_from))
    msg["To"] = [address(r.name, r.email) for r in to]
    if secretariat.email:
        with suppress(InvalidAddress):  # a broken secretariat address loses only the Reply-To
            msg["Reply-To"] = address(secretariat.name, secretariat.email)
    msg["Subject"] = one_line(mail.subject)
    msg["Date"] = format_datetime(to_local(at))
    msg["Message-ID"] = one_line(message_id)
    if in_reply_to:
        msg["In-Reply-To"] = one_line(in_reply_to)
        msg["References"] = one_line(in_reply_to)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    if key:
        msg["X-Aftaleflow-Key"] = one_line(key)
    msg.set_content(mail.text, cte="quoted-printable")
    msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    for att in mail.attachments:
        msg.add_attachment(
            att.content,
            maintype=att.maintype,
            subtype=att.subtype,
            filename=att.filename,
            params=dict(att.params),
        )
    # Last: set_content and add_attachment move or clear the top-level Content-* headers.
    msg["Content-Language"] = one_line(mail.language)
    return msg
