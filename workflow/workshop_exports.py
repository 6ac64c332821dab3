"""The workshops as tables and report sections: the participant list (XLSX, one sheet per
workshop) and each workshop's conclusions for the material to KKR."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from workflow.calendar import to_local
from workflow.exports import Table
from workflow.workshop_service import WorkshopInfo
from workflow.workshops import CONFIRMED, WAITING

STATUS = {"confirmed": "Tilmeldt", "waiting": "Venteliste", "cancelled": "Afmeldt"}
ATTENDED = {True: "Ja", False: "Nej", None: ""}
HEADER = ["Nr.", "Part", "Navn", "Rolle", "E-mail", "Status", "Tilmeldt", "Mødt"]
#: The three headings of a workshop's conclusions (seed 003 is organised by them).
CONCLUSIONS = (
    ("challenges", "Udfordringer"),
    ("actions", "Handlinger"),
    ("recommendations", "Anbefalinger"),
)


def participant_tables(infos: Sequence[WorkshopInfo], names: Mapping[str, str]) -> list[Table]:
    """One table per workshop, every sign-up in the order it came (cancelled ones too)."""
    tables = []
    for info in infos:
        rows = [
            [
                r.seq,
                names.get(r.party, r.party),
                r.name,
                r.role,
                r.email,
                STATUS.get(r.status, r.status),
                to_local(r.signed_up_at).replace(tzinfo=None),
                ATTENDED[r.attended] if r.status == CONFIRMED else "",
            ]
            for r in info.signups
        ]
        tables.append(Table(info.window.event.title, HEADER, rows))
    return tables


@dataclass(frozen=True)
class WorkshopSection:
    """A workshop in the report: when, how many came, and what it concluded."""

    title: str
    start: datetime
    confirmed: int
    waiting: int
    attended: int | None
    conclusions: list[tuple[str, str]]
    author: str


def report_sections(infos: Sequence[WorkshopInfo]) -> list[WorkshopSection]:
    """The "Workshops" section of the compiled report: each workshop with its conclusions."""
    out = []
    for info in infos:
        c = info.conclusions
        texts = [(label, getattr(c, field)) for field, label in CONCLUSIONS] if c else []
        recorded = [r.attended for r in info.signups if r.status == CONFIRMED]
        out.append(
            WorkshopSection(
                title=info.window.event.title,
                start=info.window.event.start,
                confirmed=info.count(CONFIRMED),
                waiting=info.count(WAITING),
                attended=sum(1 for a in recorded if a)
                if any(a is not None for a in recorded)
                else None,
                conclusions=[(label, text) for label, text in texts if text],
                author=c.author if c else "",
            )
        )
    return out
