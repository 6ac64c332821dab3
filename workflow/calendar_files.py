"""The one writer of the councils' calendar files (``definitions/calendars/YEAR.yaml``).

A new text is written to a temporary file beside the target, checked there with the same
loader as every reader (``load_calendars``: so the party registry is found as for the target)
and moved over the target with ``os.replace``: a reader sees the old file or the new one, never
half of one. A change from the dashboard (``change_calendar``) also checks that the file is
still the one the user saw (its SHA-256), and writes an audit event with the file's SHA-256
before and after; the event's transaction commits only if the file was replaced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from workflow.councils import CYCLE, load_calendars
from workflow.councils_edit import CalendarChange, CalendarChangeRefused, changed_text
from workflow.errors import DefinitionError, Problem
from workflow.events import event_row, write_events
from workflow.storage.db import Database

#: One change at a time in this process: the check of the file's SHA-256 and its replacement.
_WRITING = threading.Lock()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_writable(target: Path) -> None:
    """Refuse at once when the calendar's folder (or the file) cannot be written here. A folder
    or file without any write permission counts as read-only for every user, root too: that is
    how an installation marks its definitions as managed elsewhere (git, deployment)."""
    for path in (target.parent, target):
        if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
            raise _not_writable(target)


def _not_writable(target: Path) -> CalendarChangeRefused:
    return CalendarChangeRefused(
        f"kalenderfilen {target} kan ikke skrives her (den eller mappen er skrivebeskyttet); "
        "ret den i definitionerne (git) og kør `aftaleflow check`",
        en=f"the calendar file {target} cannot be written here (it or its folder is read-only); "
        "change it in the definitions (git) and run `aftaleflow check`",
    )


def _checked_temp(target: Path, text: str) -> Path:
    """``text`` in a temporary file beside ``target``, checked clean (else removed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError:
        raise _not_writable(target) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_calendars(tmp)
    except DefinitionError as e:
        tmp.unlink(missing_ok=True)
        raise DefinitionError(
            [
                Problem(str(target), p.line, f"efter ændringen: {p.message}", p.field)
                for p in e.problems
            ]
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_checked(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` only if it checks clean (``aftaleflow calendar import``)."""
    tmp = _checked_temp(target, text)
    try:
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def change_calendar(
    db: Database,
    target: Path,
    change: CalendarChange,
    *,
    seen: str,
    at: datetime,
    actor: str,
    reason: str,
    process_id: int | None = None,
) -> str:
    """Apply ``change`` to the calendar file ``target`` and audit it; returns the new SHA-256.

    ``seen`` is the SHA-256 of the file the user changed: a file changed since (by another
    user, an import, git) is refused, and nothing is written.
    """
    check_writable(target)
    with _WRITING:
        try:
            before = target.read_text(encoding="utf-8")
        except OSError as e:
            raise CalendarChangeRefused(
                f"kalenderfilen {target} kan ikke læses: {e.strerror or e}",
                en=f"the calendar file {target} cannot be read: {e.strerror or e}",
            ) from None
        if text_digest(before) != seen:
            raise CalendarChangeRefused(
                "kalenderfilen er ændret, siden siden blev vist; se den nye udgave og prøv igen",
                en="the calendar file has changed since the page was shown; "
                "see the new version and try again",
            )
        after = changed_text(before, change)
        tmp = _checked_temp(target, after)
        try:
            data = {
                **change.audit_data(),
                "file": str(target),
                "sha256_before": text_digest(before),
                "sha256_after": text_digest(after),
            }
            party = "" if change.owner == CYCLE else change.owner
            row = event_row(
                process_id,
                at,
                actor,
                "calendar_changed",
                party=party,
                step=change.body,
                reason=reason,
                data=data,
            )
            try:
                with db.transaction() as s:
                    write_events(s, [row])
                    os.replace(tmp, target)  # fails → the event is rolled back
            except OSError:
                raise _not_writable(target) from None
        finally:
            tmp.unlink(missing_ok=True)
    return text_digest(after)
