"""RenderedMail + addresses → the finished message. Pure (the random Message-ID aside).

``compose`` writes the MIME message as bytes directly: a small fixed shape (headers, a
multipart/alternative of text and HTML in quoted-printable, attachments in base64 around it),
CRLF line ends and 7-bit throughout, so no relay needs 8BITMIME. Writing it directly costs a
fraction of building an ``EmailMessage`` and flattening it (the email package parses every
header it is given and folds it again on output). ``build_message`` parses the same bytes into
an ``EmailMessage`` for callers that want one.

Every header value passes through ``one_line``; anything in a header that is not printable
ASCII (or could be mistaken for an encoded-word) is written as RFC 2047 encoded-words, which
hold only base64; addresses pass through ``address`` (``headerregistry.Address``). So a name or
subject with CR/LF can never start a header of its own.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from typing import cast
from urllib.parse import quote

from notifications.outgoing import Attachment, Recipient, RenderedMail
from notifications.render import one_line
from workflow.calendar import to_local
from workflow.errors import AftaleflowError

#: Lines of a header are folded before this many characters where the value allows it.
MAX_LINE = 78
#: UTF-8 bytes per encoded-word: ``=?utf-8?b?`` + 48 base64 characters + ``?=`` = 60.
_WORD_BYTES = 36
_PRINTABLE = re.compile(r"[\x20-\x7e]*\Z")
#: A display name that needs no quotes: atext words (RFC 5322 3.2.3) separated by spaces.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
#: A MIME token (RFC 2045): a type, a subtype or a parameter name.
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+\Z")
#: Characters an RFC 2231 value may carry as they are; everything else is %XX.
_ATTR_SAFE = "!#$&+.^_`|~-"


class InvalidAddress(AftaleflowError, ValueError):
    """An e-mail address that cannot be put in a header (or on the SMTP envelope)."""


@dataclass(frozen=True)
class WireMessage:
    """A finished message as it goes on the wire (CRLF, 7-bit), with its Message-ID."""

    data: bytes
    message_id: str

    def as_message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


def new_message_id(domain: str) -> str:
    """A globally unique ``<…@domain>``; assigned once per outbox row and kept on resends."""
    return make_msgid(domain=one_line(domain).replace(" ", "") or None)


def bare_address(value: str) -> str:
    """``noreply@x.example`` from ``Name <noreply@x.example>`` or the address itself."""
    return parseaddr(one_line(value))[1] or one_line(value)


@lru_cache(maxsize=4096)
def checked_address(email: str) -> str:
    """The address as it goes into a header and on the envelope; raises ``InvalidAddress``.

    Exactly one plain ``local@domain`` in printable ASCII that ``headerregistry`` parses without
    complaint. Cached: the same few hundred addresses get every mail.
    """
    addr = one_line(email)
    if not addr or any(c in addr for c in '<>,;"()[]\\ ') or addr.count("@") != 1:
        raise InvalidAddress(f"ikke en brugbar mailadresse: {email!r}")
    try:
        Address(addr_spec=addr)
    except (ValueError, TypeError) as exc:  # headerregistry's parse errors are ValueErrors
        raise InvalidAddress(f"ikke en brugbar mailadresse: {email!r} ({exc})") from exc
    if not _PRINTABLE.match(addr):
        raise InvalidAddress(f"ikke en brugbar mailadresse: {email!r} (tegn uden for ASCII)")
    return addr


def address(name: str, email: str) -> Address:
    """A header-safe ``Address``; raises ``InvalidAddress`` for anything but one plain address."""
    return Address(display_name=one_line(name), addr_spec=checked_address(email))


# ---------------------------------------------------------------------- headers


def _needs_encoding(text: str) -> bool:
    """Not printable ASCII, looks like an encoded-word, or has a word too long to fold."""
    if not _PRINTABLE.match(text) or "=?" in text:
        return True
    return any(len(word) > MAX_LINE - 1 for word in text.split(" "))


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 ``=?utf-8?b?…?=`` words of at most ``_WORD_BYTES`` bytes, split between
    characters (a reader decodes each word on its own, and joins adjacent words as one text)."""
    data = text.encode("utf-8")
    words: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return words


def _text_tokens(value: object) -> list[str]:
    """An unstructured header value (Subject, …) as foldable tokens."""
    text = one_line(value)
    if not text:
        return []
    return _encoded_words(text) if _needs_encoding(text) else text.split(" ")


def _id_tokens(value: str) -> list[str]:
    """A Message-ID (or In-Reply-To): one token, never split; encoded only if not ASCII."""
    text = one_line(value)
    return [text] if _PRINTABLE.match(text) and "=?" not in text else _encoded_words(text)


def _phrase_tokens(name: str) -> list[str]:
    """A display name: atoms as they are, else a quoted string, else encoded-words."""
    text = one_line(name)
    if not text:
        return []
    if _needs_encoding(text):
        return _encoded_words(text)
    if _ATOMS.match(text):
        return text.split(" ")
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return [quoted] if len(quoted) <= MAX_LINE - 1 else _encoded_words(text)


def _mailbox_tokens(name: str, email: str) -> list[str]:
    addr = checked_address(email)
    phrase = _phrase_tokens(name)
    return [*phrase, f"<{addr}>"] if phrase else [addr]


def _address_list(mailboxes: Sequence[list[str]]) -> list[str]:
    tokens: list[str] = []
    for i, box in enumerate(mailboxes):
        tokens.extend(box[:-1])
        tokens.append(box[-1] + ("," if i < len(mailboxes) - 1 else ""))
    return tokens


def _header(name: str, tokens: Sequence[str]) -> str:
    """``Name: token token …`` folded (CRLF + space) between tokens before ``MAX_LINE``."""
    lines: list[str] = []
    line = name + ":"
    first = True
    for token in tokens:
        if not first and len(line) + 1 + len(token) > MAX_LINE:
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
        first = False
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def _param_tokens(name: str, value: str) -> list[str]:
    """``name="value"``, or RFC 2231 ``name*=utf-8''…`` (with continuations when long)."""
    if _PRINTABLE.match(value) and len(value) <= MAX_LINE - 30 and not set(value) & {'"', "\\"}:
        return [f'{name}="{value}"']
    encoded = quote(value.encode("utf-8"), safe=_ATTR_SAFE)
    if len(encoded) <= MAX_LINE - 30:
        return [f"{name}*=utf-8''{encoded}"]
    chunks: list[str] = []
    start = 0
    while start < len(encoded):
        end = min(start + 48, len(encoded))
        percent = encoded.rfind("%", max(end - 2, start), end)
        if percent != -1 and end < len(encoded):  # never split a %XX triplet
            end = percent
        chunks.append(encoded[start:end])
        start = end
    return [
        f"{name}*{i}*=utf-8''{chunk}" if i == 0 else f"{name}*{i}*={chunk}"
        for i, chunk in enumerate(chunks)
    ]


def _with_params(first: str, params: Sequence[tuple[str, str]]) -> list[str]:
    """``first; a="1"; b="2"`` as tokens, each but the last ending in ``;``."""
    tokens = [first]
    for key, value in params:
        if not _TOKEN.match(key):
            raise ValueError(f"not a MIME parameter name: {key!r}")
        tokens.extend(_param_tokens(key.lower(), value))
    return [t + ";" for t in tokens[:-1]] + [tokens[-1]]


# ---------------------------------------------------------------------- bodies


def _qp_text(text: str) -> bytes:
    """UTF-8 quoted-printable with CRLF line ends and a final line end (lines ≤ 76)."""
    lines = text.encode("utf-8").splitlines()  # bytes: only CR, LF and CRLF end a line
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", quotetabs=False, istext=True)
    return encoded.replace(b"\n", b"\r\n")


def _text_part(subtype: str, text: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii") + _qp_text(text)


def _attachment_part(att: Attachment) -> bytes:
    maintype, subtype = att.maintype.lower(), att.subtype.lower()
    if not (_TOKEN.match(maintype) and _TOKEN.match(subtype)):
        maintype, subtype = "application", "octet-stream"
    head = _header("Content-Type", _with_params(f"{maintype}/{subtype}", list(att.params.items())))
    head += "Content-Transfer-Encoding: base64\r\n"
    filename = one_line(att.filename)
    disposition = [("filename", filename)] if filename else []
    head += _header("Content-Disposition", _with_params("attachment", disposition))
    body = base64.encodebytes(att.content).replace(b"\n", b"\r\n")
    return head.encode("ascii") + b"\r\n" + body


def _boundary() -> str:
    # "=_" never occurs in quoted-printable or base64 text, so the boundary cannot either.
    return "=_aftaleflow_" + secrets.token_hex(12)


def _multipart(subtype: str, parts: Sequence[bytes]) -> tuple[str, bytes]:
    """(the Content-Type header, the body) of a multipart of ``parts``."""
    boundary = _boundary()
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + b"\r\n" for part in parts)
    body += f"--{boundary}--\r\n".encode("ascii")
    return _header("Content-Type", [f"multipart/{subtype};", f'boundary="{boundary}"']), body


# ---------------------------------------------------------------------- the message


def compose(
    mail: RenderedMail,
    *,
    to: Sequence[Recipient],
    secretariat: Recipient,
    mail_from: str,
    message_id: str,
    at: datetime,
    in_reply_to: str | None = None,
    key: str = "",
) -> WireMessage:
    """A multipart/alternative (text, HTML) message, with any attachments around it."""
    if not to:
        raise InvalidAddress("en mail skal have mindst én modtager")
    sender_name = secretariat.name or parseaddr(mail_from)[0]
    head = [
        _header("From", _mailbox_tokens(sender_name, bare_address(mail_from))),
        _header("To", _address_list([_mailbox_tokens(r.name, r.email) for r in to])),
    ]
    if secretariat.email:
        with suppress(InvalidAddress):  # a broken secretariat address loses only the Reply-To
            head.append(_header("Reply-To", _mailbox_tokens(secretariat.name, secretariat.email)))
    mid = one_line(message_id)
    head += [
        _header("Subject", _text_tokens(mail.subject)),
        f"Date: {format_datetime(to_local(at))}\r\n",
        _header("Message-ID", _id_tokens(mid)),
    ]
    if in_reply_to:
        parent = _id_tokens(in_reply_to)
        head += [_header("In-Reply-To", parent), _header("References", parent)]
    head += ["Auto-Submitted: auto-generated\r\n", "X-Auto-Response-Suppress: All\r\n"]
    if key:
        head.append(_header("X-Aftaleflow-Key", _text_tokens(key)))
    head.append("MIME-Version: 1.0\r\n")
    content_type, body = _multipart(
        "alternative", [_text_part("plain", mail.text), _text_part("html", mail.html)]
    )
    if mail.attachments:
        alternative = content_type.encode("ascii") + b"\r\n" + body
        attachments = [_attachment_part(a) for a in mail.attachments]
        content_type, body = _multipart("mixed", [alternative, *attachments])
    head.append(content_type)
    head.append(_header("Content-Language", _text_tokens(mail.language)))
    return WireMessage("".join(head).encode("ascii") + b"\r\n" + body, mid)


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
    """``compose`` as an ``EmailMessage`` (parsed from the very bytes that are sent)."""
    return compose(
        mail,
        to=to,
        secretariat=secretariat,
        mail_from=mail_from,
        message_id=message_id,
        at=at,
        in_reply_to=in_reply_to,
        key=key,
    ).as_message()
