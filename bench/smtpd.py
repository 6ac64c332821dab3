"""A counting aiosmtpd server on loopback, run as its own process (``python -m bench.smtpd``).

The relay is another process in production, so the bench's server must not share the
client's interpreter (and its GIL). Prints ``<port>`` once ready; then answers each ``count``
line on stdin with the number of messages accepted so far; stops at end of input.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller


class CountingHandler:
    """Accepts every message and only counts it: the server must not be the bottleneck."""

    def __init__(self) -> None:
        self.messages = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages += 1
        return "250 OK"


def main() -> int:
    port = int(sys.argv[1])
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    print(port, flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "count":
                with handler.lock:
                    print(handler.messages, flush=True)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
