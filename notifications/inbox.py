"""The inbox reader: new messages in an IMAP folder → stored once → moved to a processed folder.

``AFTALEFLOW_IMAP_URL`` says where: ``imaps://user:pass@host[:993]/INBOX`` (TLS from the
start), ``imap://user:pass@host[:143]/INBOX?starttls=1`` (TLS after STARTTLS), or plain
``imap://`` on a loopback address only (a local test server). Options: ``processed=FOLDER``
(default ``Behandlet``; created when missing), ``timeout=SECONDS``.

Exactly once, crash-safe: a message is stored in one transaction keyed by mailbox, UIDVALIDITY
and UID (and recognised by its content's SHA-256 if the mailbox was rebuilt), and moved out of
the inbox only after that transaction committed. A reader killed at any point leaves each
message either not stored and still in the inbox (read again next time) or stored and maybe
still in the inbox (only moved next time): nothing is lost and nothing is processed twice.
Messages are read with ``BODY.PEEK[]``, so a crash never leaves them marked as seen.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import IntegrityError

from notifications.classify import read_safely
from notifications.inbound import Where, already_stored, record, stored_uids
from workflow.errors import AftaleflowError
from workflow.storage.db import Database

log = logging.getLogger("aftaleflow.inbox")

DEFAULT_TIMEOUT = 30.0
DEFAULT_PROCESSED = "Behandlet"
#: A message larger than this is stored as its header only (and says so).
MAX_MESSAGE = 40 * 1024 * 1024


class InvalidImapUrl(AftaleflowError, ValueError):
    """AFTALEFLOW_IMAP_URL cannot be used; the message says why and what to write."""


class InboxError(AftaleflowError):
    """The mailbox could not be read (unreachable, refused log-in, a protocol error)."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: Literal["plain", "starttls", "ssl"]
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    processed: str = DEFAULT_PROCESSED
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def parse(cls, url: str) -> ImapConfig:
        """Read and check ``AFTALEFLOW_IMAP_URL``; raises ``InvalidImapUrl`` saying what is wrong."""
        shown = _without_password(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as e:
            raise InvalidImapUrl(
                f"AFTALEFLOW_IMAP_URL er ikke en webadresse ({e}): {shown}"
            ) from None
        if parts.scheme not in ("imap", "imaps"):
            raise InvalidImapUrl(
                f"AFTALEFLOW_IMAP_URL skal begynde med imaps:// eller imap://, ikke {shown!r}"
            )
        if not parts.hostname:
            raise InvalidImapUrl(f"AFTALEFLOW_IMAP_URL mangler en vært: {shown}")
        if not parts.username or parts.password is None:
            raise InvalidImapUrl(
                "AFTALEFLOW_IMAP_URL skal have bruger og adgangskode "
                f"(imaps://bruger:kode@server/INBOX): {shown}"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(query) - {"starttls", "processed", "timeout"}
        if unknown:
            raise InvalidImapUrl(
                f"AFTALEFLOW_IMAP_URL: ukendt(e) indstilling(er) {', '.join(sorted(unknown))};"
                " kendte: starttls, processed, timeout"
            )
        starttls = query.get("starttls", "0").lower() in ("1", "true", "yes", "on")
        security: Literal["plain", "starttls", "ssl"]
        if parts.scheme == "imaps":
            if starttls:
                raise InvalidImapUrl("imaps:// er TLS fra starten; fjern ?starttls=1")
            security = "ssl"
        elif starttls:
            security = "starttls"
        elif _loopback(parts.hostname):
            security = "plain"
        else:
            raise InvalidImapUrl(
                "AFTALEFLOW_IMAP_URL ville sende adgangskoden ukrypteret; brug imaps://… "
                f"eller imap://…?starttls=1 (ren imap:// kun til en loopback-adresse): {shown}"
            )
        try:
            timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise InvalidImapUrl(
                f"AFTALEFLOW_IMAP_URL: timeout skal være sekunder: {shown}"
            ) from None
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        processed = query.get("processed", DEFAULT_PROCESSED).strip()
        if not processed or processed == folder or timeout <= 0:
            raise InvalidImapUrl(
                "AFTALEFLOW_IMAP_URL: mappen processed skal have et navn og være en anden end den "
                f"mappe, der læses, og timeout skal være positiv: {shown}"
            )
        return cls(
            host=parts.hostname,
            port=port or (993 if security == "ssl" else 143),
            security=security,
            username=unquote(parts.username),
            password=unquote(parts.password),
            folder=folder,
            processed=processed,
            timeout=timeout,
        )

    @property
    def description(self) -> str:
        scheme = "imaps" if self.security == "ssl" else "imap"
        tls = "?starttls=1" if self.security == "starttls" else ""
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.folder}{tls}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _without_password(url: str) -> str:
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "(not shown: it may hold a password)"


@dataclass
class FetchReport:
    stored: int = 0
    moved: int = 0
    already_stored: int = 0
    """Messages stored by an earlier (interrupted) run or another reader: only moved now."""
    by_class: Counter[str] = field(default_factory=Counter)
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "moved": self.moved,
            "already_stored": self.already_stored,
            **{f"class_{k}": v for k, v in sorted(self.by_class.items())},
        }


@contextmanager
def connect(config: ImapConfig, ssl_context: ssl.SSLContext | None = None) -> Iterator[IMAPClient]:
    """A logged-in client; raises ``InboxError`` if the mailbox cannot be used."""
    context = ssl_context or ssl.create_default_context()
    client: IMAPClient | None = None
    try:
        client = IMAPClient(
            config.host,
            port=config.port,
            ssl=config.security == "ssl",
            ssl_context=context if config.security == "ssl" else None,
            timeout=config.timeout,
        )
        if config.security == "starttls":
            client.starttls(context)
        client.login(config.username, config.password)
    except (OSError, IMAPClientError) as e:
        if client is not None:
            _logout(client)
        raise InboxError(f"postkassen {config.description} kan ikke læses: {_short(e)}") from e
    try:
        yield client
    except (OSError, IMAPClientError) as e:
        raise InboxError(
            f"læsningen af postkassen {config.description} mislykkedes: {_short(e)}"
        ) from e
    finally:
        _logout(client)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (OSError, IMAPClientError):
        with suppress(OSError, IMAPClientError):
            client.shutdown()


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:300] or type(e).__name__


def fetch(
    db: Database,
    config: ImapConfig,
    at: datetime,
    *,
    own_domain: str,
    upload_dir: Path,
    worker: str,
    ssl_context: ssl.SSLContext | None = None,
    limit: int | None = None,
    after_store: Callable[[int], None] | None = None,
) -> FetchReport:
    """Read every message in the folder once: store it (one transaction each), then move it.

    ``after_store(uid)`` is called between the commit and the move (tests kill the process
    there). ``limit`` bounds the messages handled in one call."""
    report = FetchReport()
    with connect(config, ssl_context) as client:
        if not client.folder_exists(config.processed):
            client.create_folder(config.processed)
        selected = client.select_folder(config.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        uids = sorted(int(u) for u in client.search(["ALL"]))[: limit or None]
        with db.sessions() as s:
            known = stored_uids(s, config.folder, uidvalidity, uids)
        for uid in uids:
            where = Where(config.folder, uidvalidity, uid)
            if uid in known or not _store_one(client, db, where, at, own_domain, upload_dir,
                                              worker, report):  # fmt: skip
                report.already_stored += 1
            elif after_store is not None:
                after_store(uid)
            client.move([uid], config.processed)
            report.moved += 1
    if report.stored or report.already_stored:
        log.info(
            "inbox: %d stored, %d moved (%d stored before)",
            report.stored,
            report.moved,
            report.already_stored,
            extra={"action": "inbox_fetched", "mailbox": config.description, **report.as_dict()},
        )
    return report


def _store_one(
    client: IMAPClient,
    db: Database,
    where: Where,
    at: datetime,
    own_domain: str,
    upload_dir: Path,
    worker: str,
    report: FetchReport,
) -> bool:
    """Store one message; False if it was stored already (by content, or by a reader that
    committed it a moment ago)."""
    raw = _raw(client, where.uid)
    if raw is None:  # expunged by someone else meanwhile
        return False
    reading = read_safely(raw, own_domain=own_domain)
    try:
        with db.transaction() as s:
            if already_stored(s, where, reading.sha256):
                return False
            row = record(s, reading, raw, where=where, at=at, upload_dir=upload_dir, worker=worker)
            row_id = row.id
    except IntegrityError:  # another reader stored the same UID first
        return False
    report.stored += 1
    report.by_class[reading.classification] += 1
    report.ids.append(row_id)
    log.info(  # no address or name at INFO
        "inbox: stored uid %d as %s (#%d)",
        where.uid,
        reading.classification,
        row_id,
        extra={
            "action": "inbox_stored",
            "inbound_id": row_id,
            "classification": reading.classification,
            "uid": where.uid,
        },
    )
    return True


def _raw(client: IMAPClient, uid: int) -> bytes | None:
    size_data = client.fetch([uid], ["RFC822.SIZE"]).get(uid)
    if not size_data:
        return None
    size = int(size_data.get(b"RFC822.SIZE", 0))
    item = b"BODY[]" if size <= MAX_MESSAGE else b"BODY[HEADER]"
    wanted = "BODY.PEEK[]" if size <= MAX_MESSAGE else "BODY.PEEK[HEADER]"
    data = client.fetch([uid], [wanted]).get(uid)
    if not data or item not in data:
        return None
    raw = bytes(data[item])
    if size > MAX_MESSAGE:
        note = f"X-Aftaleflow-Truncated: the message had {size} bytes; only its header is kept\r\n"
        raw = note.encode("ascii") + raw
    return raw
