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
from urllib.parse import urlsplit

from workflow import defaults
from workflow.errors import ConfigurationError
from workflow.storage.db import check_database_url

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
    #: The mailbox replies and bounces come to, e.g. ``imaps://user:pass@host/INBOX``; unset = off.
    imap_url: str | None = None


#: The languages of mails and pages.
LANGUAGES = ("da", "en")


def _secret(var_dir: Path) -> str:
    path = var_dir / "secret.key"
    try:
        if path.exists():
            key = path.read_text().strip()
            if key:
                return key
            raise ConfigurationError(
                f"{path} er tom; slet den (så laves en ny nøgle) kun hvis der endnu ikke er sendt "
                "personlige links, eller hent den fra sikkerhedskopien"
            )
        var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
    except OSError as e:
        raise ConfigurationError(
            f"den hemmelige nøgle {path} kan ikke læses eller skrives ({e.strerror or e}): lad "
            "AFTALEFLOW_VAR_DIR pege på en mappe, Aftaleflow må skrive i, eller sæt "
            "AFTALEFLOW_SECRET_KEY"
        ) from None
    return key


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(
            f"{name}={raw!r} er ikke et antal sekunder; skriv et helt tal, fx {default}"
        )
    return value


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"AFTALEFLOW_BASE_URL={raw!r} er ikke en webadresse; skriv fx "
            "https://aftaleflow.your-domain.dk or http://127.0.0.1:8000"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ConfigurationError(f"AFTALEFLOW_BASE_URL={raw!r}: porten er ikke et tal") from None
    return raw.rstrip("/")


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``AFTALEFLOW_*``; raises ``ConfigurationError`` naming a bad one."""
    env = os.environ if env is None else env
    var_dir = Path(env.get("AFTALEFLOW_VAR_DIR") or DEFAULT_VAR)
    db_url = env.get("AFTALEFLOW_DATABASE_URL") or f"sqlite:///{var_dir / 'aftaleflow.db'}"
    check_database_url(db_url)
    domain = env.get("AFTALEFLOW_MAIL_DOMAIN", "aftaleflow.example")
    language = env.get("AFTALEFLOW_LANGUAGE") or "da"
    if language not in LANGUAGES:
        raise ConfigurationError(f"AFTALEFLOW_LANGUAGE={language!r}: skriv da eller en")
    return Settings(
        var_dir=var_dir,
        database_url=db_url,
        smtp_url=env.get("AFTALEFLOW_SMTP_URL") or None,
        mail_dir=Path(env.get("AFTALEFLOW_MAIL_DIR", str(var_dir / "mail"))),
        mail_domain=domain,
        mail_from=env.get("AFTALEFLOW_MAIL_FROM", f"noreply@{domain}"),
        base_url=_base_url(env.get("AFTALEFLOW_BASE_URL", "http://127.0.0.1:8000")),
        secret_key=env.get("AFTALEFLOW_SECRET_KEY") or _secret(var_dir),
        language=language,
        upload_dir=Path(env.get("AFTALEFLOW_UPLOAD_DIR", str(var_dir / "uploads"))),
        tick_seconds=_seconds(env, "AFTALEFLOW_TICK_SECONDS", defaults.TICK_SECONDS),
        send_seconds=_seconds(env, "AFTALEFLOW_SEND_SECONDS", defaults.SEND_SECONDS),
        imap_url=env.get("AFTALEFLOW_IMAP_URL") or None,
    )
