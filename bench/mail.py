"""Mail in the bench: render the outbox, and deliver it to a real SMTP server on loopback.

Rendering uses ``notifications.render`` (templates → subject, text, HTML, .ics). Delivery uses
``notifications.sender.deliver_due(db, transport, settings, at)`` when that module exists and
compares it with a plain ``smtplib`` loop sending the same messages over one connection
(``EmailMessage`` objects built beforehand, ``send_message``), and with a plain loop that
renders, builds and sends each mail as the sender does, without the outbox.
"""

from __future__ import annotations

import importlib
import smtplib
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import func, select

from workflow.storage.db import Database
from workflow.storage.models import OutboxRow

SECRET = "bench-secret-not-for-production"
MAIL_DOMAIN = "aftaleflow.example"


def settings(var_dir: Path, database_url: str, smtp_url: str | None = None) -> Any:
    """Settings as the entry points build them, from an explicit environment (never os.environ)."""
    from aftaleflow.config import from_env

    env = {
        "AFTALEFLOW_VAR_DIR": str(var_dir),
        "AFTALEFLOW_DATABASE_URL": database_url,
        "AFTALEFLOW_SECRET_KEY": SECRET,
        "AFTALEFLOW_MAIL_DOMAIN": MAIL_DOMAIN,
        "AFTALEFLOW_LANGUAGE": "da",
    }
    if smtp_url:
        env["AFTALEFLOW_SMTP_URL"] = smtp_url
    return from_env(env)


def renderer_available() -> bool:
    try:
        importlib.import_module("notifications.render")
        importlib.import_module("notifications.outgoing")
    except ImportError:
        return False
    return True


def sender() -> Callable[..., Any] | None:
    """``notifications.sender.deliver_due`` if it has landed, else None."""
    try:
        module = importlib.import_module("notifications.sender")
    except ImportError:
        return None
    fn = getattr(module, "deliver_due", None)
    return fn if callable(fn) else None


@dataclass
class Rendered:
    mails: int
    seconds: float
    failed: int = 0
    first_error: str = ""


def render_outbox(db: Database, conf: Any) -> Rendered:
    """Render every outbox row (as the sender will): the rows are read, then rendered.

    A mail that does not render is counted (and its first error kept), not fatal: the figure
    is still measured and the failure is reported next to it.
    """
    from notifications.outgoing import OutgoingMail
    from notifications.render import render

    failed, first = 0, ""
    t0 = perf_counter()
    with db.sessions() as s:
        mails = [OutgoingMail.from_row(r) for r in s.scalars(select(OutboxRow))]
    for m in mails:
        try:
            render(m, conf)
        except Exception as e:
            failed += 1
            first = first or f"{type(e).__name__}: {e}"
    return Rendered(len(mails), perf_counter() - t0, failed, first)


def build_messages(
    db: Database, conf: Any, at: datetime
) -> list[tuple[EmailMessage, str, list[str]]]:
    """The queued outbox as finished messages (the baseline's input): (message, from, to)."""
    from notifications.message import build_message, new_message_id
    from notifications.outgoing import OutgoingMail
    from notifications.render import render

    out: list[tuple[EmailMessage, str, list[str]]] = []
    with db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.status == "queued")))
        mails = [OutgoingMail.from_row(r) for r in rows]
    for m in mails:
        try:
            rendered = render(m, conf)
        except Exception:
            continue  # reported by render_outbox; the sender fails such a mail permanently
        msg = build_message(
            rendered,
            to=m.recipients,
            secretariat=m.secretariat,
            mail_from=conf.mail_from,
            message_id=new_message_id(conf.mail_domain),
            at=at,
            key=m.idempotency_key,
        )
        out.append((msg, conf.mail_from, [r.email for r in m.recipients]))
    return out


def queued_mails(db: Database) -> list[Any]:
    """The queued outbox rows as ``OutgoingMail`` values (detached from the session)."""
    from notifications.outgoing import OutgoingMail

    with db.sessions() as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.status == "queued"))
        return [OutgoingMail.from_row(r) for r in rows]


def queued(db: Database) -> int:
    with db.sessions() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "queued")
            )
            or 0
        )


# ---------------------------------------------------------------------- SMTP on loopback


def free_port() -> int:
    """aiosmtpd's ``Controller(port=0)`` fails its ready check (STACK.md pitfall 6)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """``bench.smtpd`` in a subprocess: an aiosmtpd server on loopback that counts messages."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.host = "127.0.0.1"
        self.port = port

    @property
    def messages(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.smtpd", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().strip()
        if ready != str(port):
            raise RuntimeError(f"the SMTP server did not start (said {ready!r})")
        yield SmtpServer(proc, port)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def smtplib_loop(
    host: str, port: int, messages: list[tuple[EmailMessage, str, list[str]]]
) -> float:
    """The baseline: one connection, ``send_message`` per message; seconds taken."""
    t0 = perf_counter()
    with smtplib.SMTP(host, port, local_hostname="localhost", timeout=30) as smtp:
        smtp.ehlo()
        for msg, sender_addr, to in messages:
            smtp.send_message(msg, from_addr=sender_addr, to_addrs=to)
    return perf_counter() - t0


def sendmail_loop(host: str, port: int, wires: list[tuple[bytes, str, list[str]]]) -> float:
    """The strictest baseline: one connection, ``sendmail`` of bytes already serialised (no
    ``EmailMessage`` to flatten per mail); seconds taken."""
    t0 = perf_counter()
    with smtplib.SMTP(host, port, local_hostname="localhost", timeout=30) as smtp:
        smtp.ehlo()
        for data, sender_addr, to in wires:
            smtp.sendmail(sender_addr, to, data)
    return perf_counter() - t0


def serialised(
    messages: list[tuple[EmailMessage, str, list[str]]],
) -> list[tuple[bytes, str, list[str]]]:
    """The messages as the bytes ``send_message`` would put on the wire (built untimed)."""
    from email.policy import SMTP

    return [(m.as_bytes(policy=SMTP), f, to) for m, f, to in messages]


def render_build_send_loop(
    host: str, port: int, mails: list[Any], conf: Any, at: datetime
) -> float:
    """The second baseline: render, build and send each mail in a plain loop (no database).

    It builds each mail as the sender does (``compose``: the wire bytes) and sends those bytes
    with ``sendmail``; going through ``build_message`` and ``send_message`` would parse the
    bytes into an ``EmailMessage`` and flatten it again, work the sender does not do.
    """
    from notifications.message import compose, new_message_id
    from notifications.render import render

    t0 = perf_counter()
    with smtplib.SMTP(host, port, local_hostname="localhost", timeout=30) as smtp:
        smtp.ehlo()
        for m in mails:
            try:
                rendered = render(m, conf)
            except Exception:
                continue
            wire = compose(
                rendered,
                to=m.recipients,
                secretariat=m.secretariat,
                mail_from=conf.mail_from,
                message_id=new_message_id(conf.mail_domain),
                at=at,
                key=m.idempotency_key,
            )
            smtp.sendmail(conf.mail_from, [r.email for r in m.recipients], wire.data)
    return perf_counter() - t0


def engine_drain(deliver_due: Callable[..., Any], db: Database, conf: Any, at: datetime) -> float:
    """Drain the outbox with the engine's sender until nothing queued is left; seconds taken."""
    from notifications.transports import transport_for

    transport = transport_for(conf.smtp_url, conf.mail_dir, local_hostname="localhost")
    t0 = perf_counter()
    for _ in range(10_000):
        report = deliver_due(db, transport, conf, at)
        if not getattr(report, "claimed", 0):
            break
    return perf_counter() - t0
