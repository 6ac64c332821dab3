"""Each secretariat user's private calendar feed: a secret address to subscribe to in Outlook.

A calendar program cannot log in, so the feed's address is its own key: 256 random bits, shown
to the user once; only its SHA-256 is stored (a leaked database gives no working address).
Making a new address replaces the old one; revoking it leaves none. Both are audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from workflow.events import event_row, write_events
from workflow.storage.db import Database
from workflow.storage.models import UserRow
from workflow.users import User, token_digest

#: Feed secrets start with this, so a leaked address is recognisable in logs.
FEED_PREFIX = "kal_"


def issue_feed_token(db: Database, user_id: int, *, at: datetime, actor: str) -> str | None:
    """A new feed secret for the user (shown once); the previous address stops working.
    None if the user does not exist (any more)."""
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as s:
        row = s.get(UserRow, user_id)
        if row is None:
            return None
        replaced = row.feed_token_hash is not None
        row.feed_token_hash = token_digest(token)
        row.feed_token_created_at = at
        row.updated_at = at
        data = {"user": row.name, "replaced": replaced}
        write_events(s, [event_row(None, at, actor, "feed_token_issued", data=data)])
    return token


def revoke_feed_token(db: Database, user_id: int, *, at: datetime, actor: str) -> bool:
    """The user's feed address stops working; False if there was none."""
    with db.transaction() as s:
        row = s.get(UserRow, user_id)
        if row is None or row.feed_token_hash is None:
            return False
        row.feed_token_hash = None
        row.feed_token_created_at = None
        row.updated_at = at
        data = {"user": row.name}
        write_events(s, [event_row(None, at, actor, "feed_token_revoked", data=data)])
    return True


def has_feed(db: Database, user_id: int) -> datetime | None:
    """When the user's current feed address was made, or None if the user has none."""
    with db.sessions() as s:
        row = s.get(UserRow, user_id)
        return row.feed_token_created_at if row is not None and row.feed_token_hash else None


def user_for_feed_token(db: Database, token: str) -> User | None:
    """The user a feed secret belongs to, or None (a forged, old or revoked one)."""
    if not token.startswith(FEED_PREFIX) or len(token) > 200:
        return None
    with db.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.feed_token_hash == token_digest(token)))
        return User.from_row(row) if row is not None else None
