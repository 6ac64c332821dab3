"""Read the inbox once in a process of its own (used by test_inbox_crash.py).

    python inbox_crash_worker.py DB_URL IMAP_URL CAFILE UPLOAD_DIR AT_ISO [POINT:N]

With ``POINT:N`` the process kills itself with SIGKILL at the N-th time it reaches POINT:
``read`` (a message fetched, nothing stored), ``record`` (stored inside the transaction, not
committed), ``committed`` (committed, not moved) or ``moved`` (the MOVE sent to the server,
its answer not yet handled). The hooks live here, not in the library.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

import notifications.inbox as inbox
from workflow.storage.db import Database

reached: Counter[str] = Counter()


def killer(point: str, n: int) -> Any:
    def reach(name: str) -> None:
        reached[name] += 1
        if name == point and reached[name] == n:
            os.kill(os.getpid(), signal.SIGKILL)

    return reach


def main(argv: list[str]) -> int:
    db_url, imap_url, cafile, upload_dir, at_text = argv[:5]
    point, _, n = (argv[5] if len(argv) > 5 else "none:0").partition(":")
    reach = killer(point, int(n))
    read, record, move = inbox.read_safely, inbox.record, IMAPClient.move

    def read_hooked(raw: bytes, **kw: Any) -> Any:
        result = read(raw, **kw)
        reach("read")
        return result

    def record_hooked(*args: Any, **kw: Any) -> Any:
        row = record(*args, **kw)
        args[0].flush()
        reach("record")
        return row

    def move_hooked(self: IMAPClient, messages: Any, folder: str) -> Any:
        result = move(self, messages, folder)
        reach("moved")
        return result

    inbox.read_safely = read_hooked  # type: ignore[assignment]
    inbox.record = record_hooked  # type: ignore[assignment]
    IMAPClient.move = move_hooked  # type: ignore[method-assign]
    db = Database(db_url)
    report = inbox.fetch(
        db,
        inbox.ImapConfig.parse(imap_url),
        datetime.fromisoformat(at_text),
        own_domain="aftaleflow.example",
        upload_dir=Path(upload_dir),
        worker=f"worker-{os.getpid()}",
        ssl_context=ssl.create_default_context(cafile=cafile),
        after_store=lambda uid: reach("committed"),
    )
    print(json.dumps(report.as_dict()))
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
