"""A throw-away copy of one running process: its rows copied from the live database into a
fresh SQLite database with the same schema, where a simulation may do what it likes.

``fork(live, key, into)`` copies the process row and every row keyed by it (stages, tasks,
events, outbox, documents, answers, summaries, links, workshop sign-ups and conclusions)
and the delivery health of the addresses; nothing is written to ``live``. ``slip_stage``
moves one stage's dates later in a definition's source: what ``simulate --from --slip``
tries out (one small function, so stored moved meetings can take its place later).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import Table, func, insert, select, update

from workflow.definition_base import DateExpr
from workflow.errors import AftaleflowError, NotFound
from workflow.loader import Bundle
from workflow.scheduling import LAST_TICK
from workflow.storage.db import Database
from workflow.storage.models import TABLES

#: Tables copied whole: the parties' live contacts and the delivery health of their addresses.
_WHOLE = ("contacts", "contact_status")
#: Tables with a ``process_id`` that a simulation does not need (the raw mails read).
_SKIPPED = ("inbound_mail",)


def process_id(db: Database, key: str) -> int:
    """The id of the process ``key``; ``NotFound`` (with the keys there are) if none."""
    p = TABLES["processes"]
    with db.engine.connect() as conn:
        pid = conn.scalar(select(p.c.id).where(p.c.key == key))
        if pid is None:
            known = ", ".join(conn.scalars(select(p.c.key).order_by(p.c.key)))
            raise NotFound(
                f"processen {key!r} findes ikke; kendte: {known or 'ingen'}",
                en=f"no process {key!r}; known: {known or 'none'}",
            )
    return int(pid)


def _tables() -> Iterator[tuple[Table, str | None]]:
    """Every table to copy, parents first, and the column that names the process."""
    for t in TABLES.values():
        if t.name in _SKIPPED:
            continue
        if t.name == "processes":
            yield t, "id"
        elif "process_id" in t.c:
            yield t, "process_id"
        elif t.name in _WHOLE:
            yield t, None


def copy_process(live: Database, key: str, into: Database) -> int:
    """Copy the process ``key``'s rows from ``live`` into ``into`` (same ids); its id."""
    pid = process_id(live, key)
    order = {t.name: i for i, t in enumerate(TABLES["processes"].metadata.sorted_tables)}
    with live.engine.connect() as src, into.engine.begin() as dst:
        for table, col in sorted(_tables(), key=lambda tc: order[tc[0].name]):
            stmt = select(table)
            if col is not None:
                stmt = stmt.where(table.c[col] == pid)
            rows = [dict(r._mapping) for r in src.execute(stmt)]
            if rows:
                dst.execute(insert(table), rows)
    return pid


def live_now(db: Database, key: str, wall: datetime) -> datetime:
    """The live "now" of a process: the scheduler's last tick (its clock may be virtual, as
    in the demo), else the latest event of the process, else ``wall`` (the real time)."""
    state, ev = TABLES["scheduler_state"], TABLES["events"]
    pid = process_id(db, key)
    with db.engine.connect() as conn:
        tick = conn.scalar(select(state.c.value).where(state.c.name == LAST_TICK))
        last = conn.scalar(select(func.max(ev.c.at)).where(ev.c.process_id == pid))
    if isinstance(tick, dict) and tick.get("at"):
        return datetime.fromisoformat(tick["at"])
    return last if isinstance(last, datetime) else wall


@contextmanager
def forked(live: Database, key: str) -> Iterator[Database]:
    """A throw-away SQLite database holding a copy of the process ``key`` (deleted after)."""
    with TemporaryDirectory(prefix="aftaleflow-fork-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'fork.db'}")
        try:
            # the models' schema (the migrations' head): built at once, no migration walk
            TABLES["processes"].metadata.create_all(db.engine)
            copy_process(live, key, db)
            yield db
        finally:
            db.dispose()


def set_definition(db: Database, key: str, bundle: Bundle) -> None:
    """Bind the (forked) process ``key`` to another definition: its snapshot and hash."""
    p = TABLES["processes"]
    with db.engine.begin() as conn:
        conn.execute(
            update(p)
            .where(p.c.key == key)
            .values(
                definition_snapshot=bundle.snapshot(),
                definition_hash=bundle.hash,
                definition_version=bundle.process.version,
                row_token=None,
            )
        )
    _add_missing_stages(db, key, bundle)


def _add_missing_stages(db: Database, key: str, bundle: Bundle) -> None:
    """A stage the definition adds gets its (pending) row; stage numbers follow the file."""
    p, s = TABLES["processes"], TABLES["stages"]
    with db.engine.begin() as conn:
        pid = conn.scalar(select(p.c.id).where(p.c.key == key))
        have = set(conn.scalars(select(s.c.stage_id).where(s.c.process_id == pid)))
        for i, st in enumerate(bundle.process.stages):
            if st.id in have:
                conn.execute(
                    update(s).where(s.c.process_id == pid, s.c.stage_id == st.id).values(seq=i)
                )
            else:
                conn.execute(
                    insert(s).values(
                        process_id=pid, stage_id=st.id, seq=i, kind=st.kind, status="pending"
                    )
                )


# --------------------------------------------------------------------------- slipping

#: The date fields of a stage that a slip moves (``opens`` stays: the stage opens as planned).
_SLIPPED = ("send", "deadline", "closes")


def parse_slip(text: str) -> tuple[str, int]:
    """``STAGE=+3w`` (or ``+10d``, ``-1w``) → (stage id, days)."""
    stage, sep, amount = text.partition("=")
    units = {"d": 1, "w": 7}
    try:
        if not sep or not stage.strip() or amount[-1:] not in units:
            raise ValueError(text)
        days = int(amount[:-1]) * units[amount[-1]]
    except ValueError:
        raise AftaleflowError(
            f"--slip {text!r}: skriv FASE=+3w (uger) eller FASE=+10d (dage)",
            en=f"--slip {text!r}: write STAGE=+3w (weeks) or STAGE=+10d (days)",
        ) from None
    return stage.strip(), days


def _moved(text: str, year: int, days: int) -> str:
    return (DateExpr.parse(text).bind(year) + timedelta(days=days)).isoformat()


def slip_stage(bundle: Bundle, year: int, stage_id: str, days: int) -> Bundle:
    """The definition with the stage ``stage_id`` ``days`` later: its meeting or workshops,
    its sending, deadline and closing (written as fixed dates of ``year``)."""
    src: dict[str, Any] = deepcopy(bundle.source)
    stages = src["process"]["stages"]
    found = [s for s in stages if s.get("id") == stage_id]
    if not found:
        from workflow.definition_errors import suggest

        ids = [s.get("id", "") for s in stages]
        raise NotFound(
            f"--slip: definitionen har ingen fase {stage_id!r}{suggest(stage_id, ids)}",
            en=f"--slip: the definition has no stage {stage_id!r}",
        )
    st = found[0]
    for name in _SLIPPED:
        if isinstance(st.get(name), str):
            st[name] = _moved(st[name], year, days)
    events = [st["meeting"]] if isinstance(st.get("meeting"), dict) else []
    events += [w for w in st.get("workshops") or [] if isinstance(w, dict)]
    for ev in events:
        if isinstance(ev.get("date"), str):
            ev["date"] = _moved(ev["date"], year, days)
    return Bundle.from_snapshot(json.dumps(src, default=str), path=bundle.path)


def stage_done(db: Database, key: str, stage_id: str) -> bool:
    """True when the stage of the process is completed (history: it cannot slip)."""
    s, p = TABLES["stages"], TABLES["processes"]
    with db.engine.connect() as conn:
        status = conn.scalar(
            select(s.c.status)
            .join(p, p.c.id == s.c.process_id)
            .where(p.c.key == key, s.c.stage_id == stage_id)
        )
    return status == "completed"
