"""The WSGI entry point: ``gunicorn 'web.wsgi:app'`` (behind a reverse proxy).

This module, not ``create_app``, reads the environment (``AFTALEFLOW_*`` through
``aftaleflow.config``). Behind a proxy set ``AFTALEFLOW_PROXIES`` to the number of proxies in
front, so the token rate limit sees the real client address (``X-Forwarded-For``).
"""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from aftaleflow.config import Settings, from_env
from web import create_app


def build(settings: Settings, *, proxies: int = 0) -> Flask:
    app = create_app(
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        base_url=settings.base_url,
        upload_dir=settings.upload_dir,
        language=settings.language,
    )
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app


app = build(from_env(), proxies=int(os.environ.get("AFTALEFLOW_PROXIES", "0")))
