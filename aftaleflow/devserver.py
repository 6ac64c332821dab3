"""The web app inside the scheduler's process (``--web``: development and ``make run`` only;
production runs gunicorn), and the address it listens on and puts in links (``--bind``)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from aftaleflow.config import Settings
from workflow.clock import Clock
from workflow.errors import AftaleflowError

log = logging.getLogger("aftaleflow.scheduler")


@dataclass
class WebServer:
    server: Any
    thread: threading.Thread
    url: str
    close: Callable[[], None] | None = None

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        if self.close is not None:
            self.close()  # the app's database connections


def parse_bind(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8000`` for IPv6) or a URL (its host and port; 8000 if it has
    none)."""
    try:
        if "://" in value:
            parts = urlsplit(value)
            host, port = parts.hostname or "127.0.0.1", parts.port or 8000
        else:
            name, _, number = value.rpartition(":")
            host, port = name.strip("[]") or "127.0.0.1", int(number)
        if not 0 < port < 65536:
            raise ValueError(port)
    except ValueError:
        raise AftaleflowError(f"--bind {value!r}: skriv VÆRT:PORT, fx 127.0.0.1:8000") from None
    return host, port


def listening_address(settings: Settings, bind: str | None, env: Mapping[str, str]) -> Settings:
    """With ``--web --bind HOST:PORT`` (or ``AFTALEFLOW_BIND``) and no ``AFTALEFLOW_BASE_URL``,
    the banner, the links in mails and the outbox's "Åbn svarlinket" use the address the web
    app listens on (127.0.0.1 for a wildcard host)."""
    if not bind or env.get("AFTALEFLOW_BASE_URL"):
        return settings
    host, port = parse_bind(bind)
    if host in ("0.0.0.0", "::", "*"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address in a URL
    return replace(settings, base_url=f"http://{host}:{port}")


def web_factory() -> Callable[..., Any] | None:
    """``web.create_app`` if the web app is installed."""
    try:
        module = importlib.import_module("web")
    except ImportError:
        return None
    factory = getattr(module, "create_app", None)
    return factory if callable(factory) else None


def start_web(settings: Settings, clock: Clock, bind: str) -> WebServer | None:
    """Serve the web app on a werkzeug server thread (development and the demo only)."""
    factory = web_factory()
    if factory is None:
        return None
    from werkzeug.serving import make_server

    app = factory(
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        base_url=settings.base_url,
        upload_dir=settings.upload_dir,
        language=settings.language,
        clock=clock,
    )
    host, port = parse_bind(bind)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as e:
        raise AftaleflowError(
            f"webappen kan ikke lytte på {host}:{port} ({e.strerror or e}); kører der allerede "
            "en Aftaleflow? Vælg en anden adresse med --bind, fx "
            'make run ARGS="--bind 127.0.0.1:8001"'
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()
    log.info("web app on http://%s:%d", host, port, extra={"action": "web_started"})
    close_app = getattr(importlib.import_module("web"), "close_app", None)
    close = (lambda: close_app(app)) if callable(close_app) else None
    return WebServer(server, thread, settings.base_url + "/", close)
