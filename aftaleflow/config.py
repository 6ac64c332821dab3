"""Configuration: every setting, its default and what it is for, read from ``AFTALEFLOW_*``.

Only the entry points (the CLI, ``run_scheduler.py``, the web app factory) call ``from_env``;
everything below them receives values as parameters.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workflow import defaults

#: The working folder for the embedded defaults (SQLite file, mail files, uploads, secret).
DEFAULT_VAR = "var"


@dataclass(frozen=True)
class Settings:
    #: Where everything local lives (``var/`` under the current folder).
    var_dir: Path
    #: SQLAlchemy URL of the database; SQLite under ``var/`` unless set.
    database_url: str
    #: SMTP relay, e.g. ``smtp://user:pass@relay:587?starttls=1`` or ``smtps://…``; unset = files.
    smtp_url: str | None
    #: Folder for ``.eml`` files when no SMTP relay is configured.
    mail_dir: Path
    #: Domain of every ``Message-ID`` (the sender's domain).
    mail_domain: str
    #: The From address of automatic mails.
    mail_from: str
    #: The public address of the web app, used in personal links.
    base_url: str
    #: Secret for personal-link tokens and sessions; generated into ``var/secret.key`` if unset.
    secret_key: str
    #: Language of mails and pages: ``da`` (default) or ``en``.
    language: str
    #: Folder for uploaded minutes and agreement versions.
    upload_dir: Path
    #: Seconds between scheduler ticks and between outbox drains.
    tick_seconds: int
    send_seconds: int


def _secret(var_dir: Path) -> str:
    path = var_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    var_dir = Path(env.get("AFTALEFLOW_VAR_DIR", DEFAULT_VAR))
    db_url = env.get("AFTALEFLOW_DATABASE_URL") or f"sqlite:///{var_dir / 'aftaleflow.db'}"
    domain = env.get("AFTALEFLOW_MAIL_DOMAIN", "aftaleflow.example")
    return Settings(
        var_dir=var_dir,
        database_url=db_url,
        smtp_url=env.get("AFTALEFLOW_SMTP_URL") or None,
        mail_dir=Path(env.get("AFTALEFLOW_MAIL_DIR", str(var_dir / "mail"))),
        mail_domain=domain,
        mail_from=env.get("AFTALEFLOW_MAIL_FROM", f"noreply@{domain}"),
        base_url=env.get("AFTALEFLOW_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        secret_key=env.get("AFTALEFLOW_SECRET_KEY") or _secret(var_dir),
        language=env.get("AFTALEFLOW_LANGUAGE", "da"),
        upload_dir=Path(env.get("AFTALEFLOW_UPLOAD_DIR", str(var_dir / "uploads"))),
        tick_seconds=int(env.get("AFTALEFLOW_TICK_SECONDS", str(defaults.TICK_SECONDS))),
        send_seconds=int(env.get("AFTALEFLOW_SEND_SECONDS", str(defaults.SEND_SECONDS))),
    )
