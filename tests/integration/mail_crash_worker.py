"""Deliver one batch of due mail in a process of its own (used by test_mail_crash.py).

    python mail_crash_worker.py DB_URL SMTP_URL AT_ISO [--recover]

With ``AFTALEFLOW_TEST_KILL_AFTER=N`` in the environment the process kills itself with
SIGKILL right after the N-th message was accepted by the relay, before the sender could
record it: the worst moment for a crash. The hook lives here, not in the library.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from aftaleflow.config import from_env
from notifications.claims import recover_stuck
from notifications.sender import deliver_due
from notifications.transports import Connection, Outgoing, SendResult, SmtpTransport
from workflow.storage.db import Database


class KillAfter:
    """Wraps a connection: after ``n`` sends, SIGKILL this process (no cleanup, no commit)."""

    def __init__(self, inner: Connection, n: int) -> None:
        self.inner, self.n, self.sent = inner, n, 0

    def send(
        self, message: Outgoing, *, envelope_from: str, recipients: Sequence[str]
    ) -> SendResult:
        result = self.inner.send(message, envelope_from=envelope_from, recipients=recipients)
        self.sent += 1
        if self.sent == self.n:
            os.kill(os.getpid(), signal.SIGKILL)
        return result


class KillingTransport:
    def __init__(self, inner: SmtpTransport, n: int) -> None:
        self.inner, self.n = inner, n
        self.description = inner.description

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.inner.connect() as conn:
            yield KillAfter(conn, self.n)


def main(argv: list[str]) -> int:
    db_url, smtp_url, at_text = argv[:3]
    at = datetime.fromisoformat(at_text)
    settings = from_env(
        {
            "AFTALEFLOW_DATABASE_URL": db_url,
            "AFTALEFLOW_SMTP_URL": smtp_url,
            "AFTALEFLOW_SECRET_KEY": "test-secret",
            "AFTALEFLOW_MAIL_DOMAIN": "aftaleflow.example",
            "AFTALEFLOW_BASE_URL": "https://aftaleflow.example",
        }
    )
    db = Database(db_url)
    if "--recover" in argv:
        recover_stuck(db, at, worker=f"worker-{os.getpid()}")
    smtp = SmtpTransport(smtp_url, local_hostname=settings.mail_domain)
    kill_after = int(os.environ.get("AFTALEFLOW_TEST_KILL_AFTER", "0"))
    transport = KillingTransport(smtp, kill_after) if kill_after else smtp
    report = deliver_due(db, transport, settings, at, worker=f"worker-{os.getpid()}")
    print(
        json.dumps(
            {
                "claimed": report.claimed,
                "sent": report.sent,
                "resent_after_crash": report.resent_after_crash,
            }
        )
    )
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
