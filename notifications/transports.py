"""Where mail goes: an SMTP relay (one connection per batch) or ``.eml`` files in a folder.

A transport's ``connect()`` is a context manager yielding a connection whose ``send`` takes a
finished message (``WireMessage`` bytes, or an ``EmailMessage``) and returns a ``SendResult``
(accepted and refused recipients, the server's reply). Errors are
classified for the sender: 4xx replies, lost connections and timeouts are temporary (retry
later); 5xx replies and "every recipient refused with 5xx" are permanent.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from notifications.message import WireMessage
from workflow.errors import AftaleflowError

#: Lines end in CRLF on the wire; the body is 7-bit (quoted-printable / base64) already.
WIRE_POLICY = policy.SMTP
DEFAULT_TIMEOUT = 30.0

#: What a connection sends: the sender's ``WireMessage``, or an ``EmailMessage`` built elsewhere.
Outgoing = WireMessage | EmailMessage


def wire_bytes(message: Outgoing) -> bytes:
    """The message as it goes on the wire (CRLF line ends)."""
    if isinstance(message, WireMessage):
        return message.data
    return message.as_bytes(policy=WIRE_POLICY)


def message_id_of(message: Outgoing) -> str:
    if isinstance(message, WireMessage):
        return message.message_id
    return str(message["Message-ID"])


@dataclass(frozen=True)
class SendResult:
    """What happened to one message."""

    accepted: tuple[str, ...] = ()
    #: address → (SMTP code, server text); code 0 means "never offered" (e.g. invalid address).
    refused: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    reply: str = ""
    error: str = ""
    temporary: bool = False

    @property
    def delivered(self) -> bool:
        return bool(self.accepted)

    @property
    def permanently_refused(self) -> list[str]:
        return [a for a, (code, _) in self.refused.items() if not 400 <= code < 500]


class TransportError(AftaleflowError):
    """The transport could not be reached at all (the whole batch is retried later)."""


class Connection(Protocol):
    def send(
        self, message: Outgoing, *, envelope_from: str, recipients: Sequence[str]
    ) -> SendResult: ...


class Transport(Protocol):
    @property
    def description(self) -> str: ...

    def connect(self) -> AbstractContextManager[Connection]: ...


def is_temporary(code: int) -> bool:
    """SMTP 4xx (and anything that is not a real reply) is worth retrying; 5xx is not."""
    return not 500 <= code < 600


def _text(resp: bytes | str) -> str:
    raw = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return " ".join(raw.split())


# ---------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Literal["plain", "starttls", "ssl"] = "plain"
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """``smtp://[user:pass@]host[:port][?starttls=1&timeout=20]`` or ``smtps://…``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(
                f"AFTALEFLOW_SMTP_URL skal begynde med smtp:// eller smtps://, ikke {url!r}"
            )
        if not parts.hostname:
            raise ValueError(f"AFTALEFLOW_SMTP_URL mangler en vært: {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"starttls", "timeout"}
        if unknown:
            raise ValueError(
                f"AFTALEFLOW_SMTP_URL: ukendt(e) indstilling(er) {', '.join(sorted(unknown))};"
                " kendte: starttls, timeout"
            )
        starttls = query.get("starttls", "0").lower() in ("1", "true", "yes", "on")
        if parts.scheme == "smtps":
            if starttls:
                raise ValueError(
                    "smtps:// er TLS fra starten; fjern ?starttls=1 (eller brug smtp://)"
                )
            security: Literal["plain", "starttls", "ssl"] = "ssl"
        else:
            security = "starttls" if starttls else "plain"
        default_port = {"plain": 25, "starttls": 587, "ssl": 465}[security]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", DEFAULT_TIMEOUT)),
        )

    @property
    def description(self) -> str:
        user = f"{self.username}@" if self.username else ""
        scheme = "smtps" if self.security == "ssl" else "smtp"
        tls = "?starttls=1" if self.security == "starttls" else ""
        return f"{scheme}://{user}{self.host}:{self.port}{tls}"  # never the password


class SmtpTransport:
    """Talks SMTP to one relay; ``connect()`` opens one connection for a whole batch."""

    def __init__(
        self,
        config: SmtpConfig | str,
        *,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = SmtpConfig.parse(config) if isinstance(config, str) else config
        #: The EHLO name; given explicitly so smtplib does not do a slow getfqdn() lookup.
        self.local_hostname = local_hostname or "localhost"
        self.ssl_context = ssl_context

    @property
    def description(self) -> str:
        return self.config.description

    def _tls(self) -> ssl.SSLContext:
        """The TLS context, made once (it loads the CA store: ~40 ms) and only when TLS is used."""
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        return self.ssl_context

    def open(self) -> smtplib.SMTP:
        """A logged-in SMTP session; raises ``TransportError`` if the relay cannot be used."""
        c = self.config
        smtp: smtplib.SMTP | None = None
        try:
            if c.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    c.host,
                    c.port,
                    local_hostname=self.local_hostname,
                    timeout=c.timeout,
                    context=self._tls(),
                )
            else:
                smtp = smtplib.SMTP(
                    c.host, c.port, local_hostname=self.local_hostname, timeout=c.timeout
                )
            smtp.ehlo()
            if c.security == "starttls":
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
            return smtp
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                _close(smtp)
            raise TransportError(
                f"SMTP-relæet {c.description} kan ikke bruges: {_describe(exc)}"
            ) from exc

    @contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        conn = SmtpConnection(self, self.open())
        try:
            yield conn
        finally:
            conn.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class SmtpConnection:
    """One SMTP session; reconnects at most once per batch after the relay dropped it."""

    def __init__(self, transport: SmtpTransport, smtp: smtplib.SMTP) -> None:
        self.transport = transport
        self.smtp: smtplib.SMTP | None = smtp
        self.reconnected = False
        self.dead: str | None = None

    def close(self) -> None:
        if self.smtp is not None:
            _close(self.smtp)
            self.smtp = None

    def _session(self) -> smtplib.SMTP | str:
        if self.smtp is not None:
            return self.smtp
        if self.dead is None and not self.reconnected:
            self.reconnected = True
            try:
                self.smtp = self.transport.open()
                return self.smtp
            except TransportError as exc:
                self.dead = str(exc)
        return self.dead or "the SMTP connection was lost"

    def _lost(self, error: str) -> SendResult:
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = None
        return SendResult(error=error, temporary=True)

    def send(
        self, message: Outgoing, *, envelope_from: str, recipients: Sequence[str]
    ) -> SendResult:
        smtp = self._session()
        if isinstance(smtp, str):
            return SendResult(error=smtp, temporary=True)
        data = wire_bytes(message)
        try:
            code, resp = smtp.mail(envelope_from)
            if code != 250:
                return self._reject("MAIL FROM", code, resp, smtp)
            refused: dict[str, tuple[int, str]] = {}
            for rcpt in recipients:
                code, resp = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, _text(resp))
                if code == 421:
                    return self._lost(f"421 {_text(resp)} (mailserveren lukker forbindelsen)")
            accepted = tuple(r for r in recipients if r not in refused)
            if not accepted:
                smtp.rset()
                temporary = any(not 500 <= c < 600 for c, _ in refused.values())
                detail = "; ".join(f"{a}: {c} {t}" for a, (c, t) in refused.items())
                return SendResult(
                    refused=refused,
                    temporary=temporary,
                    error=f"alle modtagere blev afvist ({detail})",
                )
            code, resp = smtp.data(data)
            if code != 250:
                return self._reject("DATA", code, resp, smtp)
            return SendResult(accepted=accepted, refused=refused, reply=f"{code} {_text(resp)}")
        except smtplib.SMTPServerDisconnected as exc:
            return self._lost(f"forbindelsen blev afbrudt: {exc}")
        except smtplib.SMTPResponseException as exc:  # e.g. DATA answered with 4xx/5xx
            if exc.smtp_code == 421:
                return self._lost(_describe(exc))
            self._rset(smtp)
            return SendResult(error=_describe(exc), temporary=is_temporary(exc.smtp_code))
        except (OSError, smtplib.SMTPException) as exc:  # timeouts, TLS and socket errors
            return self._lost(_describe(exc))

    def _reject(self, stage: str, code: int, resp: bytes, smtp: smtplib.SMTP) -> SendResult:
        if code == 421:
            return self._lost(f"{stage}: 421 {_text(resp)}")
        self._rset(smtp)
        return SendResult(error=f"{stage}: {code} {_text(resp)}", temporary=is_temporary(code))

    def _rset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._lost("connection lost after RSET")


# ---------------------------------------------------------------------- files


class FileTransport:
    """The embedded default: every message becomes ``<mail_dir>/<message-id>.eml``.

    The file name comes from the Message-ID, so a resend after a crash overwrites the same
    file instead of making a second one.
    """

    def __init__(self, mail_dir: Path | str) -> None:
        self.mail_dir = Path(mail_dir)

    @property
    def description(self) -> str:
        return f".eml-filer i {self.mail_dir}"

    @contextmanager
    def connect(self) -> Iterator[FileConnection]:
        try:
            self.mail_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(f"mailmappen {self.mail_dir} kan ikke oprettes: {exc}") from exc
        yield FileConnection(self.mail_dir)


def eml_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]", "_", message_id.strip("<> ")) + ".eml"


class FileConnection:
    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    def send(
        self, message: Outgoing, *, envelope_from: str, recipients: Sequence[str]
    ) -> SendResult:
        path = self.mail_dir / eml_name(message_id_of(message))
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.mail_dir, prefix=".tmp-", suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(wire_bytes(message))
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            return SendResult(error=f"kan ikke skrive {path}: {exc}", temporary=True)
        return SendResult(accepted=tuple(recipients), reply=f"skrevet til {path}")


def transport_for(smtp_url: str | None, mail_dir: Path | str, *, local_hostname: str) -> Transport:
    """SMTP when a relay is configured, else ``.eml`` files (the zero-set-up default)."""
    if smtp_url:
        return SmtpTransport(smtp_url, local_hostname=local_hostname)
    return FileTransport(mail_dir)
