"""Personal links: unguessable tokens derived from a secret, stored only as a hash.

The token is ``HMAC-SHA256(secret, process/stage/party/step/generation)`` (256 bits, URL-safe).
The database keeps only its SHA-256, so a leaked database gives no working link; the mail
renderer derives the same token again from the secret. Re-issuing a link raises the
generation, which makes the old token unknown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any


def make_token(
    secret: str, process_id: int, stage: str, party: str, step: str, generation: int
) -> str:
    """THE personal-link token; every part that needs one calls this (or ``token_of``)."""
    msg = f"{process_id}/{stage}/{party}/{step}/{generation}".encode()
    digest = hmac.digest(secret.encode(), msg, "sha256")  # one-shot: the same HMAC, in C
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_of(secret: str, context: Mapping[str, Any]) -> str | None:
    """The token of the personal link a mail's context names (``workflow.mail``), if any."""
    link = context.get("link")
    if not isinstance(link, Mapping) or "process_id" not in context:
        return None
    return make_token(
        secret,
        int(context["process_id"]),
        str(context.get("stage_id") or ""),
        str(context.get("party") or ""),
        str(context.get("step") or ""),
        int(link.get("generation") or 1),
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
