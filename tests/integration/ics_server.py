"""A real HTTP server on loopback (``http.server`` in a thread) serving councils' calendars:
what ``aftaleflow calendar import --url`` fetches in the tests."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    """What a path answers: a body, its content type, and whether to announce its length."""

    body: bytes
    content_type: str = "text/calendar; charset=utf-8"
    length: bool = True
    #: the handler waits for this before answering (to test the fetch's timeout)
    hold: threading.Event | None = None


@dataclass
class IcsServer:
    url: str
    paths: dict[str, Served] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


@contextmanager
def ics_server(paths: dict[str, Served]) -> Iterator[IcsServer]:
    """Serve ``paths`` on 127.0.0.1 (any other path: 404) until the block ends."""
    found = IcsServer("", paths)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.requests.append(self.path)
            served = found.paths.get(self.path)
            if served is None:
                self.send_error(404, "Not Found")
                return
            if served.hold is not None:
                served.hold.wait(30)
            self.send_response(200)
            self.send_header("Content-Type", served.content_type)
            if served.length:
                self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            # the client may stop reading at its size limit
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(served.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield found
    finally:
        for served in paths.values():
            if served.hold is not None:
                served.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
