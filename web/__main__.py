"""``python -m web [--host H] [--port P]``: serve the respondent pages locally (Werkzeug's
development server, settings from ``AFTALEFLOW_*``). In production use
``gunicorn 'web.wsgi:app'`` behind a reverse proxy."""

from __future__ import annotations

import argparse

from aftaleflow.config import from_env
from web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    settings = from_env()
    app = create_app(
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        base_url=settings.base_url,
        upload_dir=settings.upload_dir,
        language=settings.language,
    )
    app.run(host=args.host, port=args.port, debug=False)


if __name__ == "__main__":
    main()
