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
from dataclasses import dataclass
from typing import Any, Protocol


class LinkedTask(Protocol):
    """What names a personal link: a task (``TaskRow``, ``TaskRecord``) or a ``LinkKey``."""

    @property
    def process_id(self) -> int: ...
    @property
    def stage_id(self) -> str: ...
    @property
    def party(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def link_generation(self) -> int: ...


@dataclass(frozen=True)
class LinkKey:
    """A personal link named by its parts, where no task is at hand (a mail's context)."""

    process_id: int
    stage_id: str
    party: str
    step: str
    link_generation: int


def make_token(secret: str, task: LinkedTask) -> str:
    """THE personal-link token of a task's current link generation; every part that needs
    one calls this (a mail's context through ``token_of``)."""
    return _token(
        secret, task.process_id, task.stage_id, task.party, task.step, task.link_generation
    )


def _token(secret: str, process_id: int, stage_id: str, party: str, step: str, gen: int) -> str:
    msg = f"{process_id}/{stage_id}/{party}/{step}/{gen}"
    digest = hmac.digest(secret.encode(), msg.encode(), "sha256")  # one-shot: the same HMAC, in C
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_key(context: Mapping[str, Any]) -> LinkKey | None:
    """The personal link a mail's context names (``workflow.mail``), if any."""
    link = context.get("link")
    if not isinstance(link, Mapping) or context.get("process_id") is None:
        return None
    return LinkKey(
        int(context["process_id"]),
        str(context.get("stage_id") or ""),
        str(context.get("party") or ""),
        str(context.get("step") or ""),
        int(link.get("generation") or 1),
    )


def token_of(secret: str, context: Mapping[str, Any]) -> str | None:
    """The token of the personal link a mail's context names, if any (``make_token`` of its
    ``link_key``, without making the key: a renderer asks once per mail)."""
    link = context.get("link")
    if not isinstance(link, Mapping) or context.get("process_id") is None:
        return None
    return _token(
        secret,
        int(context["process_id"]),
        str(context.get("stage_id") or ""),
        str(context.get("party") or ""),
        str(context.get("step") or ""),
        int(link.get("generation") or 1),
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
