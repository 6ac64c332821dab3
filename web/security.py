"""Response headers, the token look-up rate limit, and the error pages.

Personal links carry their secret in the URL, so: no referrer ever leaves a page
(``Referrer-Policy: no-referrer``), pages are not cached (``Cache-Control: no-store``), and
nothing but our own origin may load, frame or receive a form (CSP). The pages use no
JavaScript at all, so the CSP allows none.

A guesser who tries tokens gets, from one address, at most ``MISSES_PER_WINDOW`` plain 404s
per window and then 429s until the window has passed. The limiter lives in the process
(per worker): enough to make guessing a 256-bit token pointless, with no extra moving part.
Its window is wall-clock time (the app's ``wall_clock``), never the business clock: the demo's
clock runs two days a second, and a limit on it would be no limit at all.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Response, make_response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from web.i18n import t

#: CSRF protection for every form. The two personal-link views check it themselves (they are
#: exempt from the automatic check) so that a failed check re-shows the form with what was
#: typed instead of losing it.
csrf = CSRFProtect()

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

#: Token misses allowed per address and window before look-ups get 429.
MISSES_PER_WINDOW = 30
WINDOW = timedelta(minutes=1)
#: Addresses remembered at most (the oldest are forgotten first): bounded memory.
MAX_TRACKED = 10_000


class MissLimiter:
    """Counts failed look-ups per client address in a sliding window of ``clock`` time
    (pass the wall clock)."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        limit: int = MISSES_PER_WINDOW,
        window: timedelta = WINDOW,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._misses: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        misses = self._misses.get(address)
        if misses is None:
            return deque()
        while misses and now - misses[0] >= self.window:
            misses.popleft()
        if not misses:
            del self._misses[address]
        return misses

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address, self.clock())) >= self.limit

    def retry_after(self, address: str) -> int:
        """Seconds until the oldest counted miss leaves the window."""
        with self._lock:
            now = self.clock()
            misses = self._recent(address, now)
            if not misses:
                return 0
            return max(1, int((misses[0] + self.window - now).total_seconds()) + 1)

    def miss(self, address: str) -> None:
        with self._lock:
            now = self.clock()
            misses = self._recent(address, now)
            if address not in self._misses:
                if len(self._misses) >= MAX_TRACKED:
                    self._misses.pop(next(iter(self._misses)))
                self._misses[address] = misses
            misses.append(now)


def client_address() -> str:
    """The client's address as the WSGI server saw it. Behind a reverse proxy, wrap the app
    in ``werkzeug.middleware.proxy_fix.ProxyFix`` so this is the real client."""
    return request.remote_addr or "unknown"


def secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def too_large_page(app: Flask) -> dict[str, str]:
    """The 413 page names the limit that was hit: the whole request (``MAX_CONTENT_LENGTH``),
    or the text of the form (``MAX_FORM_MEMORY_SIZE``, Flask's default 500 kB), and leads
    back to the form. Files past their own limits never get here: the form comes back with
    what was typed (``web.uploads``)."""
    max_body = app.config.get("MAX_CONTENT_LENGTH") or 0
    size = request.content_length
    if size is None or size > max_body:
        text = t("too_large_text", max_mb=max_body // (1024 * 1024))
    else:
        max_text = app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000
        text = t("too_large_form_text", max_kb=max_text // 1000)
    back = request.path if request.method == "POST" and request.url_rule is not None else ""
    return {"title": t("too_large_title"), "text": text, "back": back}


def _page(template: str, status: int, **context: object) -> tuple[str, int]:
    return render_template(template, **context), status


def register(app: Flask) -> None:
    """Install the headers and the error pages on ``app``."""
    app.after_request(secure_headers)

    @app.errorhandler(404)
    def not_found(_e: HTTPException) -> tuple[str, int]:
        # the same page for an unknown address and a forged, revoked or expired token
        return _page("not_found.html", 404)

    @app.errorhandler(405)
    def not_allowed(_e: HTTPException) -> tuple[str, int]:
        return _page("not_found.html", 404)

    @app.errorhandler(429)
    def too_many(e: HTTPException) -> Response:
        response = make_response(
            _page("error.html", 429, title=t("too_many_title"), text=t("too_many_text"))
        )
        retry_after = getattr(e, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(413)
    def too_large(_e: HTTPException) -> tuple[str, int]:
        return _page("error.html", 413, **too_large_page(app))

    @app.errorhandler(CSRFError)
    def csrf_failed(_e: CSRFError) -> tuple[str, int]:
        return _page("error.html", 400, title=t("bad_request_title"), text=t("bad_request_text"))

    @app.errorhandler(400)
    def bad_request(_e: HTTPException) -> tuple[str, int]:
        return _page("error.html", 400, title=t("bad_request_title"), text=t("bad_request_text"))

    @app.errorhandler(500)
    def server_error(_e: Exception) -> tuple[str, int]:
        return _page("error.html", 500, title=t("server_error_title"), text=t("server_error_text"))
