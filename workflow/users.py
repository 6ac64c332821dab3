"""Secretariat users of the dashboard: argon2 password hashes, roles, lock-out, API tokens.

- Roles: ``admin`` acts (records, extends, exempts, retries …), ``viewer`` only reads.
- Passwords are stored as argon2id hashes with OWASP's recommended parameters (19 MiB,
  2 passes, 1 lane: about 50 ms on a small server); a hash made with other parameters is
  replaced at the next successful log-in.
- Lock-out: after ``MAX_FAILURES`` failed log-ins in a row the user is locked for
  ``LOCKOUT``, whatever password is given meanwhile. Time is a parameter: ``at`` (business
  time) stamps the audit log, ``wall`` (real time) decides the lock, so the demo's fast clock
  never shortens it; the web passes its two clocks, tests move them.
- An unknown name, a wrong password and a locked user cost the same argon2 work and get the
  same ``LoginRefused`` message, so a guesser cannot tell which names exist or are locked
  (``locked_until`` is there for the audit log and the CLI, not for the log-in page).
- API tokens are 256-bit random strings shown once; only their SHA-256 is stored (a leaked
  database gives no working token). Issuing a new token replaces the old one.

Every change is written to the audit log (``events``, without a process) with who and why.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.errors import AftaleflowError, NotFound
from workflow.events import event_row, write_events
from workflow.storage.db import Database
from workflow.storage.models import UserRow

ROLES = ("admin", "viewer")
#: Failed log-ins in a row that lock a user.
MAX_FAILURES = 5
#: How long a locked user stays locked.
LOCKOUT = timedelta(minutes=15)
#: The shortest password accepted.
MIN_PASSWORD_LENGTH = 8
#: Longest password hashed (argon2 takes any length; this only bounds the work per request).
MAX_PASSWORD_LENGTH = 1024
#: User names: lower-case letters, digits and . _ - @ (an e-mail address works), 2–80 long.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{1,79}")
#: API tokens start with this, so a leaked one is recognisable in logs and scanners.
TOKEN_PREFIX = "aft_"
#: The one message of every refused log-in: unknown name, wrong password, or locked.
REFUSED = (
    f"wrong user name or password, or too many failed attempts ({MAX_FAILURES} in a row lock "
    f"the user for {LOCKOUT.seconds // 60} minutes)"
)

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
#: Verified against when the name is unknown, so that path costs the same as a wrong password.
_DUMMY_HASH = _hasher.hash("aftaleflow: no such user")


class UserError(AftaleflowError):
    """A user could not be created or changed; the message says why."""


class LoginRefused(AftaleflowError):
    """Wrong name or password, or the user is locked (``locked_until`` says until when)."""

    def __init__(self, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    session_epoch: int
    locked_until: datetime | None
    last_login_at: datetime | None
    has_api_token: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """How the audit log names this user's acts."""
        return f"user:{self.name}"

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            row.id,
            row.name,
            row.role,
            row.session_epoch,
            row.locked_until,
            row.last_login_at,
            row.api_token_hash is not None,
            row.created_at,
        )


# ---------------------------------------------------------------------- checks (pure)


def normalise_name(name: str) -> str:
    return name.strip().lower()


def check_name(name: str) -> str:
    name = normalise_name(name)
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"brugernavnet {name!r} kan ikke bruges: brug 2–80 små bogstaver, cifre og . _ - @, "
            "og begynd med et bogstav eller et ciffer"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"rollen skal være {' eller '.join(ROLES)}, ikke {role!r}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"adgangskoden skal være på mindst {MIN_PASSWORD_LENGTH} tegn")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"adgangskoden må højst være på {MAX_PASSWORD_LENGTH} tegn")
    if password != password.strip():
        raise UserError("adgangskoden må ikke begynde eller slutte med et mellemrum")
    return password


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------- commands


def add_user(
    db: Database, name: str, password: str, role: str, *, at: datetime, actor: str
) -> User:
    name, role = check_name(name), check_role(role)
    digest = _hasher.hash(check_password(password))
    with db.transaction() as s:
        if s.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
            raise UserError(f"brugeren {name!r} findes allerede")
        row = UserRow(
            name=name,
            role=role,
            password_hash=digest,
            failed_logins=0,
            session_epoch=1,
            created_at=at,
            updated_at=at,
        )
        s.add(row)
        s.flush()
        _event(s, at, actor, "user_added", name, data={"role": role})
        return User.from_row(row)


def ensure_user(
    db: Database, name: str, password: str, role: str, *, at: datetime, actor: str
) -> User:
    """The user ``name``, created with ``password`` and ``role`` if it does not exist yet
    (an existing user keeps its password and role). For the ``make run`` demo's login."""
    with db.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.name == normalise_name(name)))
        if row is not None:
            return User.from_row(row)
    try:
        return add_user(db, name, password, role, at=at, actor=actor)
    except UserError:
        with db.sessions() as s:  # created by another process a moment ago
            row = s.scalar(select(UserRow).where(UserRow.name == normalise_name(name)))
            if row is None:
                raise
            return User.from_row(row)


def set_password(db: Database, name: str, password: str, *, at: datetime, actor: str) -> None:
    """A new password; it also unlocks the user and ends every session of theirs."""
    digest = _hasher.hash(check_password(password))
    with db.transaction() as s:
        row = _row(s, name)
        row.password_hash = digest
        row.failed_logins = 0
        row.locked_until = None
        row.session_epoch += 1
        row.updated_at = at
        _event(s, at, actor, "user_password_changed", row.name)


def list_users(db: Database) -> list[User]:
    with db.sessions() as s:
        return [User.from_row(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]


def get_user(db: Database, user_id: int) -> User | None:
    with db.sessions() as s:
        row = s.get(UserRow, user_id)
        return User.from_row(row) if row is not None else None


def count_users(db: Database) -> int:
    with db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(UserRow)) or 0)


def authenticate(
    db: Database, name: str, password: str, *, at: datetime, wall: datetime | None = None
) -> User:
    """The user, if the name and password are right and the user is not locked.

    ``at`` is when the audit log says it happened; ``wall`` (default ``at``) is the real time
    the lock-out is measured in. Raises ``LoginRefused``. A failure is counted (and may lock
    the user) and written to the audit log in its own committed transaction before the
    refusal is raised.
    """
    wall = wall or at
    name = normalise_name(name)
    password = password[:MAX_PASSWORD_LENGTH]
    refusal: LoginRefused | None = None
    with db.transaction() as s:
        row = s.scalar(select(UserRow).where(UserRow.name == name)) if name else None
        if row is None:
            _verify(_DUMMY_HASH, password)
            # the typed name is not logged: it is sometimes a password typed in the wrong box
            _event(s, at, "anonymous", "login_failed", "", reason="unknown user name")
            refusal = LoginRefused(REFUSED)
        elif row.locked_until is not None and row.locked_until > wall:
            _verify(row.password_hash, password)  # the same work as any other answer
            _event(s, at, f"user:{row.name}", "login_refused_locked", row.name)
            refusal = LoginRefused(REFUSED, locked_until=row.locked_until)
        elif not _verify(row.password_hash, password):
            refusal = _count_failure(s, row, at, wall)
        else:
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
            row.failed_logins = 0
            row.locked_until = None
            row.last_login_at = at
            row.updated_at = at
            _event(s, at, f"user:{row.name}", "login", row.name)
            user = User.from_row(row)
    if refusal is not None:
        raise refusal
    return user


def _count_failure(s: Session, row: UserRow, at: datetime, wall: datetime) -> LoginRefused:
    if row.locked_until is not None:  # an earlier lock has run out: count afresh
        row.locked_until = None
        row.failed_logins = 0
    row.failed_logins += 1
    row.updated_at = at
    actor = f"user:{row.name}"
    _event(
        s,
        at,
        actor,
        "login_failed",
        row.name,
        reason="wrong password",
        data={"failures": row.failed_logins},
    )
    if row.failed_logins < MAX_FAILURES:
        return LoginRefused(REFUSED)
    row.locked_until = wall + LOCKOUT
    _event(
        s,
        at,
        actor,
        "user_locked",
        row.name,
        reason=f"{row.failed_logins} failed log-ins in a row",
        data={"until": row.locked_until.isoformat()},
    )
    return LoginRefused(REFUSED, locked_until=row.locked_until)


def end_sessions(db: Database, user_id: int, *, at: datetime) -> None:
    """Log-out: every session of the user stops working (they carry the old epoch)."""
    with db.transaction() as s:
        row = s.get(UserRow, user_id)
        if row is None:
            return
        row.session_epoch += 1
        row.updated_at = at
        _event(s, at, f"user:{row.name}", "logout", row.name)


def issue_api_token(db: Database, name: str, *, at: datetime, actor: str) -> str:
    """A new API token for the user (shown once); the previous token stops working."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as s:
        row = _row(s, name)
        replaced = row.api_token_hash is not None
        row.api_token_hash = token_digest(token)
        row.api_token_created_at = at
        row.updated_at = at
        _event(s, at, actor, "api_token_issued", row.name, data={"replaced": replaced})
    return token


def user_for_token(db: Database, token: str) -> User | None:
    """The user an API token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = token_digest(token)
    with db.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.api_token_hash == digest))
        return User.from_row(row) if row is not None else None


# ---------------------------------------------------------------------- helpers


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def _row(s: Session, name: str) -> UserRow:
    name = normalise_name(name)
    row = s.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        known = list(s.scalars(select(UserRow.name).order_by(UserRow.name)))
        hint = f"; kendte brugere: {', '.join(known)}" if known else "; opret en med `user add`"
        raise NotFound(f"brugeren {name!r} findes ikke{hint}")
    return row


def _event(
    s: Session,
    at: datetime,
    actor: str,
    kind: str,
    name: str,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    write_events(
        s, [event_row(None, at, actor, kind, reason=reason, data={"user": name, **(data or {})})]
    )
